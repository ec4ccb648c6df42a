package main

import "testing"

func TestDeliveryLogRoundTrips(t *testing.T) {
	ids := []int64{5, 105, 205, 200, 200, 1 << 40, 3, 0, 7}
	var l deliveryLog
	for _, id := range ids {
		l.add(id)
	}
	var got []int64
	l.each(func(id int64) { got = append(got, id) })
	if len(got) != len(ids) || l.n != len(ids) {
		t.Fatalf("got %v (n %d), want %v", got, l.n, ids)
	}
	for i := range ids {
		if got[i] != ids[i] {
			t.Fatalf("got %v, want %v", got, ids)
		}
	}
}

func TestCheckOnce(t *testing.T) {
	committed := []int64{10, 20, 30, 40}
	cases := []struct {
		name     string
		received []int64
		want     onceReport
	}{
		{"exactly once in order", []int64{10, 20, 30, 40},
			onceReport{expected: 4, delivered: 4}},
		{"nothing", nil,
			onceReport{expected: 4, missing: 4}},
		{"a gap", []int64{10, 30, 40},
			onceReport{expected: 4, delivered: 3, missing: 1}},
		{"the tail missing", []int64{10, 20},
			onceReport{expected: 4, delivered: 2, missing: 2}},
		{"a duplicate next to itself", []int64{10, 20, 20, 30, 40},
			onceReport{expected: 4, delivered: 4, duplicates: 1}},
		{"a replay of an old one", []int64{10, 20, 30, 10, 40},
			onceReport{expected: 4, delivered: 4, duplicates: 1}},
		{"swapped", []int64{10, 30, 20, 40},
			onceReport{expected: 4, delivered: 4, outOfOrder: 1}},
		{"reversed", []int64{40, 30, 20, 10},
			onceReport{expected: 4, delivered: 4, outOfOrder: 3}},
		{"one never acknowledged", []int64{10, 20, 25, 30, 40},
			onceReport{expected: 4, delivered: 4, unexpected: 1}},
		{"an unacknowledged one twice", []int64{10, 20, 25, 25, 30, 40},
			onceReport{expected: 4, delivered: 4, unexpected: 1, duplicates: 1}},
		{"an unacknowledged one behind", []int64{10, 20, 30, 40, 15},
			onceReport{expected: 4, delivered: 4, unexpected: 1, outOfOrder: 1}},
		{"everything at once", []int64{20, 10, 10, 99},
			onceReport{expected: 4, delivered: 2, missing: 2, duplicates: 1, outOfOrder: 1, unexpected: 1}},
	}
	seen := make([]bool, len(committed))
	for _, tc := range cases {
		var l deliveryLog
		for _, id := range tc.received {
			l.add(id)
		}
		got := checkOnce(committed, &l, seen)
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
		if got.ok() != (tc.want.missing == 0 && tc.want.duplicates == 0 && tc.want.outOfOrder == 0 && tc.want.unexpected == 0) {
			t.Errorf("%s: ok() = %v", tc.name, got.ok())
		}
	}
}

func TestCheckOnceReusesScratch(t *testing.T) {
	committed := []int64{1, 2}
	seen := make([]bool, 2)
	var all, none deliveryLog
	all.add(1)
	all.add(2)
	checkOnce(committed, &all, seen)
	if got := checkOnce(committed, &none, seen); got.delivered != 0 || got.missing != 2 {
		t.Fatalf("a second member inherits the first one's receptions: %+v", got)
	}
}

func TestOnceReportAdds(t *testing.T) {
	var sum onceReport
	sum.add(onceReport{expected: 4, delivered: 3, missing: 1})
	sum.add(onceReport{expected: 4, delivered: 4, duplicates: 2, outOfOrder: 1, unexpected: 5})
	want := onceReport{expected: 8, delivered: 7, missing: 1, duplicates: 2, outOfOrder: 1, unexpected: 5}
	if sum != want || sum.ok() {
		t.Fatalf("sum %+v (ok %v), want %+v, not ok", sum, sum.ok(), want)
	}
}
