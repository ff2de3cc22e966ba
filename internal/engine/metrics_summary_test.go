package engine

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestSummaryBuckets: every value falls in a bucket whose middle is within
// 1/16 of it, and buckets are in value order.
func TestSummaryBuckets(t *testing.T) {
	prev := -1
	for v := int64(0); v < 1<<20; v += 1 + v/97 {
		b := bucketOf(v)
		if b < prev {
			t.Fatalf("bucket of %d is %d, below %d", v, b, prev)
		}
		prev = b
		if mid := bucketValue(b); math.Abs(mid-float64(v)) > float64(v)/16+0.5 {
			t.Fatalf("value %d in bucket %d of middle %v", v, b, mid)
		}
	}
	if b := bucketOf(math.MaxInt64); b != summaryBuckets-1 {
		t.Fatalf("the largest value is in bucket %d", b)
	}
}

// TestSummaryQuantiles: the quantiles of random latencies are within 1/16
// of the exact ones; count and sum are exact; what is older than the
// window leaves the quantiles but not the count.
func TestSummaryQuantiles(t *testing.T) {
	s := newSummary(time.Now(), "x", "x", 1)
	rng := rand.New(rand.NewPCG(1, 2))
	var vals []float64
	var sum int64
	for i := 0; i < 20000; i++ {
		v := int64(rng.ExpFloat64() * 1e6)
		vals = append(vals, float64(v))
		sum += v
		s.observe(v, int64(i)*int64(time.Millisecond))
	}
	slices.Sort(vals)
	now := int64(20000 * time.Millisecond)
	for q, got := range s.quantiles(now) {
		want := vals[int(math.Ceil(q*float64(len(vals))))-1]
		if math.Abs(got-want) > want/16 {
			t.Errorf("quantile %v: %v, exact %v", q, got, want)
		}
	}
	if got, want := s.window(now).quantile(0), vals[0]; math.Abs(got-want) > want/16+0.5 {
		t.Errorf("minimum %v, exact %v", got, want)
	}
	w := s.window(now)
	if got, want := w.quantile(1), vals[len(vals)-1]; math.Abs(got-want) > want/16 {
		t.Errorf("maximum %v, exact %v", got, want)
	}
	if s.count.Load() != 20000 || s.sum.Load() != sum {
		t.Errorf("count %d, sum %d (want %d)", s.count.Load(), s.sum.Load(), sum)
	}
	later := now + int64(11*time.Minute)
	s.observe(7, later)
	for q, got := range s.quantiles(later) {
		if got != 7 {
			t.Errorf("quantile %v %v after the window moved past the old values", q, got)
		}
	}
	if s.count.Load() != 20001 {
		t.Errorf("count %d", s.count.Load())
	}
}
