package queues

// fifo is a ring buffer that grows by doubling; the queue's bound caps it.
type fifo[T any] struct {
	buf   []T
	head  int // index of the oldest item
	count int
}

func (f *fifo[T]) len() int { return f.count }

func (f *fifo[T]) push(v T) {
	if f.count == len(f.buf) {
		f.grow()
	}
	f.buf[(f.head+f.count)%len(f.buf)] = v
	f.count++
}

func (f *fifo[T]) pop() T {
	var zero T
	v := f.buf[f.head]
	f.buf[f.head] = zero // let the item be collected
	f.head = (f.head + 1) % len(f.buf)
	f.count--
	return v
}

func (f *fifo[T]) grow() {
	size := 2 * len(f.buf)
	if size == 0 {
		size = 8
	}
	buf := make([]T, size)
	for i := range f.count {
		buf[i] = f.buf[(f.head+i)%len(f.buf)]
	}
	f.buf, f.head = buf, 0
}

// lifo is a stack.
type lifo[T any] struct{ items []T }

func (l *lifo[T]) len() int { return len(l.items) }
func (l *lifo[T]) push(v T) { l.items = append(l.items, v) }

func (l *lifo[T]) pop() T {
	var zero T
	last := len(l.items) - 1
	v := l.items[last]
	l.items[last] = zero
	l.items = l.items[:last]
	return v
}

// priority is a binary min-heap ordered by less. It sifts by hand rather
// than through container/heap, whose Push and Pop take an any and would
// allocate a box for every item that is not a pointer.
type priority[T any] struct {
	less  func(a, b T) bool
	items []T
}

func (p *priority[T]) len() int { return len(p.items) }

func (p *priority[T]) push(v T) {
	p.items = append(p.items, v)
	p.up(len(p.items) - 1)
}

func (p *priority[T]) pop() T {
	var zero T
	top := p.items[0]
	last := len(p.items) - 1
	p.items[0] = p.items[last]
	p.items[last] = zero
	p.items = p.items[:last]
	if last > 0 {
		p.down(0)
	}
	return top
}

// up moves the item at i towards the root until its parent is not larger.
func (p *priority[T]) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !p.less(p.items[i], p.items[parent]) {
			return
		}
		p.items[i], p.items[parent] = p.items[parent], p.items[i]
		i = parent
	}
}

// down moves the item at i towards the leaves until no child is smaller.
func (p *priority[T]) down(i int) {
	n := len(p.items)
	for {
		smallest := i
		for _, child := range [2]int{2*i + 1, 2*i + 2} {
			if child < n && p.less(p.items[child], p.items[smallest]) {
				smallest = child
			}
		}
		if smallest == i {
			return
		}
		p.items[i], p.items[smallest] = p.items[smallest], p.items[i]
		i = smallest
	}
}
