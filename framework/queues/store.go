package queues

import "container/heap"

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

// priority is a binary min-heap ordered by less.
type priority[T any] struct {
	less  func(a, b T) bool
	items []T
}

func (p *priority[T]) len() int { return len(p.items) }
func (p *priority[T]) push(v T) { heap.Push((*heapOf[T])(p), v) }
func (p *priority[T]) pop() T   { return heap.Pop((*heapOf[T])(p)).(T) }

// heapOf gives priority the container/heap interface without exporting
// the methods on priority itself.
type heapOf[T any] priority[T]

func (h *heapOf[T]) Len() int           { return len(h.items) }
func (h *heapOf[T]) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *heapOf[T]) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *heapOf[T]) Push(x any)         { h.items = append(h.items, x.(T)) }

func (h *heapOf[T]) Pop() any {
	var zero T
	last := len(h.items) - 1
	v := h.items[last]
	h.items[last] = zero
	h.items = h.items[:last]
	return v
}
