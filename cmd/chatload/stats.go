package main

import (
	"fmt"
	"math"
	"math/bits"
	"os"
	"slices"
	"strings"
	"time"
)

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of
// samples, which it sorts in place: the smallest sample with at least p %
// of the samples at or below it. With 20 samples p99 is the largest and
// p50 the tenth. No samples give 0.
func percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	slices.Sort(samples)
	return samples[nearestRank(uint64(len(samples)), p)-1]
}

// nearestRank is the 1-based rank of the p-th percentile of n samples.
func nearestRank(n uint64, p float64) uint64 {
	rank := uint64(math.Ceil(p / 100 * float64(n)))
	return min(max(rank, 1), n)
}

// histogram counts durations in buckets a microsecond wide up to 64 µs
// and 1/64 of their power of two wide above, so a percentile read from it
// is at most about 1.6 % above the true one (it reports a bucket's upper
// edge, capped at the largest sample). It holds a million deliveries a
// second in constant memory, where a sorted slice would not. The zero
// value is empty and ready; it is not safe for concurrent use (the rooms
// mode records on the loop only).
type histogram struct {
	counts [histogramBuckets]uint64
	n      uint64
	max    time.Duration
}

const (
	subBucketBits    = 6
	subBuckets       = 1 << subBucketBits
	histogramBuckets = subBuckets * (64 - subBucketBits + 1)
)

// bucketOf maps microseconds to a bucket index.
func bucketOf(us uint64) int {
	if us < subBuckets {
		return int(us)
	}
	exp := bits.Len64(us) - 1 // us in [2^exp, 2^(exp+1))
	shift := exp - subBucketBits
	return subBuckets + shift*subBuckets + int((us>>shift)&(subBuckets-1))
}

// bucketUpper is the largest microsecond count of bucket i.
func bucketUpper(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	shift := (i - subBuckets) / subBuckets
	sub := uint64((i - subBuckets) % subBuckets)
	low := (subBuckets + sub) << shift
	return low + (1 << shift) - 1
}

func (h *histogram) record(d time.Duration) {
	us := uint64(max(d, 0) / time.Microsecond)
	h.counts[bucketOf(us)]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) count() uint64 { return h.n }

// percentile reads the nearest-rank p-th percentile; empty, it is 0.
func (h *histogram) percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank, seen := nearestRank(h.n, p), uint64(0)
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(bucketUpper(i))*time.Microsecond+time.Microsecond-1, h.max)
		}
	}
	return h.max
}

// logRounds writes each round's latency to stderr, in the order run
// (before percentile sorts them), for a reader who wants the spread
// behind p50 and p99.
func logRounds(mode string, latencies []time.Duration) {
	parts := make([]string, len(latencies))
	for i, d := range latencies {
		parts[i] = fmt.Sprintf("%.1f", ms(d))
	}
	fmt.Fprintf(os.Stderr, "chatload: %s round latencies ms: %s\n", mode, strings.Join(parts, " "))
}
