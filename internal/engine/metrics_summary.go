package engine

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// summary is a Prometheus summary (quantiles 0.5, 0.9, 0.99 over the last
// 10 minutes, count and sum since the start, as ZooKeeper's summaries) that
// costs a few atomic adds to observe: the client library's Summary takes a
// lock and reads the clock on every observation (3 µs under contention on a
// 2-core machine, as much as a read), this one neither. Values go into
// log-linear buckets (8 per power of two: a quantile is within 6% of the
// true value), in 5 rotating windows of 2 minutes each.
type summary struct {
	desc    *prometheus.Desc
	scale   float64   // exported value = observed value * scale (ns -> ms)
	started time.Time // the Ensemble's start: observe's now counts from it
	count   atomic.Uint64
	sum     atomic.Int64 // in observed units
	wins    [summaryWindows]summaryWindow
}

const (
	summaryWindows = 5
	summaryStep    = int64(2 * time.Minute)
	subBits        = 3 // 2^3 buckets per power of two
	maxExp         = 48
	summaryBuckets = (maxExp + 1) << subBits
)

type summaryWindow struct {
	epoch   atomic.Int64 // which step of time it holds (+1; 0: never used)
	buckets [summaryBuckets]atomic.Uint32
}

func newSummary(started time.Time, name, help string, scale float64) *summary {
	return &summary{desc: prometheus.NewDesc(name, help, nil, nil), scale: scale, started: started}
}

// bucketOf returns the bucket of v >= 0: values below 2^subBits have a
// bucket each, above that 2^subBits buckets per power of two.
func bucketOf(v int64) int {
	if v < 1<<subBits {
		return int(max(v, 0))
	}
	e := bits.Len64(uint64(v)) - 1 // 2^e <= v < 2^(e+1), e >= subBits
	if e > maxExp {
		return summaryBuckets - 1
	}
	sub := int(v>>(e-subBits)) & (1<<subBits - 1)
	return (e-subBits+1)<<subBits + sub
}

// bucketValue returns the middle of bucket i's range.
func bucketValue(i int) float64 {
	if i < 1<<subBits {
		return float64(i)
	}
	e := i>>subBits + subBits - 1
	sub := i & (1<<subBits - 1)
	lo := float64(uint64(1)<<e) * (1 + float64(sub)/(1<<subBits))
	return lo * (1 + 0.5/(1<<subBits+float64(sub)))
}

// observe records v at now (ns since the Ensemble started).
func (s *summary) observe(v, now int64) {
	s.count.Add(1)
	s.sum.Add(v)
	epoch := now/summaryStep + 1
	w := &s.wins[epoch%summaryWindows]
	if old := w.epoch.Load(); old != epoch && w.epoch.CompareAndSwap(old, epoch) {
		for i := range w.buckets {
			w.buckets[i].Store(0) // a racing observation may be lost: it is a sample
		}
	}
	w.buckets[bucketOf(v)].Add(1)
}

// Describe implements prometheus.Collector.
func (s *summary) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

// Collect implements prometheus.Collector.
func (s *summary) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstSummary(s.desc, s.count.Load(), float64(s.sum.Load())*s.scale,
		s.quantiles(int64(time.Since(s.started))))
}

// quantiles returns the 0.5, 0.9 and 0.99 quantiles of what was observed in
// the last 10 minutes before now (NaN if nothing was).
func (s *summary) quantiles(now int64) map[float64]float64 {
	w := s.window(now)
	out := map[float64]float64{}
	for q := range quantiles {
		out[q] = w.quantile(q) * s.scale
	}
	return out
}

// windowCounts is what a summary's windows hold, added up.
type windowCounts struct {
	counts [summaryBuckets]uint64
	total  uint64
}

// window adds up the windows not older than 10 minutes before now.
func (s *summary) window(now int64) *windowCounts {
	var wc windowCounts
	cur := now/summaryStep + 1
	for i := range s.wins {
		w := &s.wins[i]
		if ep := w.epoch.Load(); ep == 0 || cur-ep >= summaryWindows {
			continue
		}
		for b := range w.buckets {
			c := uint64(w.buckets[b].Load())
			wc.counts[b] += c
			wc.total += c
		}
	}
	return &wc
}

// quantile returns the q-quantile (0 < q <= 1; 0 is the minimum) in
// observed units, NaN if the window is empty.
func (wc *windowCounts) quantile(q float64) float64 {
	if wc.total == 0 {
		return math.NaN()
	}
	rank := max(uint64(math.Ceil(q*float64(wc.total))), 1)
	var cum uint64
	for b, c := range wc.counts {
		cum += c
		if cum >= rank {
			return bucketValue(b)
		}
	}
	return bucketValue(summaryBuckets - 1)
}

// counter is a Prometheus counter of whole events: one atomic add, and
// exported as a constant metric when scraped, like the summaries.
type counter struct {
	desc *prometheus.Desc
	v    atomic.Uint64
}

func newCounter(name, help string) *counter {
	return &counter{desc: prometheus.NewDesc(name, help, nil, nil)}
}

func (c *counter) Inc()         { c.v.Add(1) }
func (c *counter) Add(n uint64) { c.v.Add(n) }

// Describe implements prometheus.Collector.
func (c *counter) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *counter) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(c.v.Load()))
}
