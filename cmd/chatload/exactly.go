package main

import (
	"encoding/binary"
	"slices"
)

// deliveryLog is the sequence of message ids one member received, in
// arrival order, kept as zigzag varint deltas: a room's ids climb by about
// the number of rooms between two of its messages, so an id costs one or
// two bytes instead of eight, and a minute of 100 rooms × 100 members at
// a message a second each fits in tens of megabytes. Loop-owned.
type deliveryLog struct {
	buf  []byte
	last int64
	n    int
}

func (l *deliveryLog) add(id int64) {
	l.buf = binary.AppendVarint(l.buf, id-l.last)
	l.last = id
	l.n++
}

// each calls fn with every id in arrival order.
func (l *deliveryLog) each(fn func(id int64)) {
	var id int64
	for b := l.buf; len(b) > 0; {
		d, n := binary.Varint(b)
		if n <= 0 {
			return // cannot happen: add wrote it
		}
		b = b[n:]
		id += d
		fn(id)
	}
}

// onceReport is the exactly-once verdict for one member or, summed, for
// a run.
type onceReport struct {
	// expected counts the committed messages a member should have had;
	// delivered the distinct ones it had.
	expected, delivered int
	// missing = expected - delivered.
	missing int
	// duplicates counts receptions of an id already received.
	duplicates int
	// outOfOrder counts first receptions of an id below one received
	// before it.
	outOfOrder int
	// unexpected counts first receptions of an id that was never
	// acknowledged to its sender (a commit whose ack was lost, or a
	// message that should not exist).
	unexpected int
}

func (r *onceReport) add(o onceReport) {
	r.expected += o.expected
	r.delivered += o.delivered
	r.missing += o.missing
	r.duplicates += o.duplicates
	r.outOfOrder += o.outOfOrder
	r.unexpected += o.unexpected
}

// ok reports whether every expected message arrived once, in order, and
// nothing else did.
func (r onceReport) ok() bool {
	return r.missing == 0 && r.duplicates == 0 && r.outOfOrder == 0 && r.unexpected == 0
}

// checkOnce compares what one member received with the ids committed to
// its room (sorted ascending, no repeats; the acks the room's senders
// got). seen is scratch space of len(committed), cleared here, so one
// allocation serves every member of a room.
func checkOnce(committed []int64, got *deliveryLog, seen []bool) onceReport {
	clear(seen)
	r := onceReport{expected: len(committed)}
	var highest int64
	var strays map[int64]bool // unexpected ids, to tell their repeats
	first := true
	got.each(func(id int64) {
		i, found := slices.BinarySearch(committed, id)
		switch {
		case found && seen[i], !found && strays[id]:
			r.duplicates++
			return
		case found:
			seen[i] = true
			r.delivered++
		default:
			if strays == nil {
				strays = map[int64]bool{}
			}
			strays[id] = true
			r.unexpected++
		}
		if !first && id < highest {
			r.outOfOrder++
		}
		first = false
		highest = max(highest, id)
	})
	r.missing = r.expected - r.delivered
	return r
}
