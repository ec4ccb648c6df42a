package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	twenty := ms(20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
	cases := []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"none", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"one at p50", ms(7), 50, 7 * time.Millisecond},
		{"twenty p50 is the tenth", twenty, 50, 10 * time.Millisecond},
		{"twenty p99 is the largest", twenty, 99, 20 * time.Millisecond},
		{"twenty p95 is the nineteenth", twenty, 95, 19 * time.Millisecond},
		{"p100", twenty, 100, 20 * time.Millisecond},
		{"tiny p is the smallest", twenty, 0.1, 1 * time.Millisecond},
		{"hundred p99", ms(seq(100)...), 99, 99 * time.Millisecond},
	}
	for _, tc := range cases {
		if got := percentile(slices.Clone(tc.samples), tc.p); got != tc.want {
			t.Errorf("%s: percentile(p%g) = %v, want %v", tc.name, tc.p, got, tc.want)
		}
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i + 1
	}
	return s
}

func TestBucketsCoverEveryValue(t *testing.T) {
	for _, us := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 20, 1<<40 + 12345, 1<<63 - 1, 1<<64 - 1} {
		i := bucketOf(us)
		if i < 0 || i >= histogramBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside [0, %d)", us, i, histogramBuckets)
		}
		if up := bucketUpper(i); up < us || (i > 0 && bucketUpper(i-1) >= us) {
			t.Errorf("bucket %d of %d µs spans (%d, %d]", i, us, bucketUpper(i-1), up)
		}
	}
	for i := 1; i < histogramBuckets; i++ {
		if bucketUpper(i) <= bucketUpper(i-1) {
			t.Fatalf("bucket %d's upper edge %d is not above bucket %d's %d", i, bucketUpper(i), i-1, bucketUpper(i-1))
		}
	}
}

func TestHistogramAgreesWithExactPercentiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name string
		draw func() time.Duration
	}{
		{"uniform 0-50 ms", func() time.Duration { return time.Duration(rng.Int64N(int64(50 * time.Millisecond))) }},
		{"exponential around 3 ms", func() time.Duration { return time.Duration(rng.ExpFloat64() * float64(3*time.Millisecond)) }},
		{"sub-64 µs", func() time.Duration { return time.Duration(rng.Int64N(64_000)) }},
		{"all equal", func() time.Duration { return 1234567 * time.Nanosecond }},
	}
	for _, tc := range cases {
		var h histogram
		samples := make([]time.Duration, 10000)
		for i := range samples {
			samples[i] = tc.draw()
			h.record(samples[i])
		}
		if h.count() != 10000 {
			t.Fatalf("%s: count %d", tc.name, h.count())
		}
		for _, p := range []float64{1, 50, 90, 99, 99.9, 100} {
			exact := percentile(samples, p)
			got := h.percentile(p)
			// The bucket's upper edge: not below the truth, at most 1/64 of
			// it (or a microsecond) above.
			if got < exact || got > exact+exact/64+time.Microsecond {
				t.Errorf("%s: p%g = %v, exact %v", tc.name, p, got, exact)
			}
		}
	}
}

func TestHistogramEdges(t *testing.T) {
	var h histogram
	if h.percentile(99) != 0 {
		t.Errorf("empty histogram p99 = %v, want 0", h.percentile(99))
	}
	h.record(-time.Second) // a clock step: counted as 0
	h.record(5 * time.Second)
	if got := h.percentile(50); got != 0+time.Microsecond-1 {
		t.Errorf("p50 = %v, want the first microsecond bucket", got)
	}
	if got := h.percentile(100); got != 5*time.Second {
		t.Errorf("p100 = %v, want the largest sample", got)
	}
}
