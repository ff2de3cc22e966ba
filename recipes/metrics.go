package recipes

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/embedzk/zk"
)

// The kinds of recipe the metrics are labelled with (label "kind"). Holds
// of other recipes (a queue item's claim, a double barrier's latch, a
// Semaphore's internal admission lock) are not measured.
const (
	kindMutex          = "mutex"
	kindSemaphoreMutex = "semaphore_mutex"
	kindSemaphore      = "semaphore"
	kindRead           = "rwmutex_read"
	kindWrite          = "rwmutex_write"
	kindLatch          = "leader_latch"
	kindSelector       = "leader_selector"
)

var (
	lockKinds   = []string{kindMutex, kindSemaphoreMutex, kindSemaphore, kindRead, kindWrite}
	leaderKinds = []string{kindLatch, kindSelector}
)

// WithRegisterer makes the Client export its metrics (see the package
// documentation's Metrics section) on reg; nil, the default, measures
// nothing. The metrics carry no label that tells Clients apart: several
// Clients on one registry each need their own, as
// prometheus.WrapRegistererWith(prometheus.Labels{"client": "a"}, reg)
// gives (the recipes use the labels kind and reason); NewClient fails
// with zk.ErrBadArguments if a name is registered already. Close
// unregisters them.
func WithRegisterer(reg prometheus.Registerer) ClientOption {
	return func(c *Client) { c.reg = reg }
}

// clientMetrics are one Client's metrics. A nil *clientMetrics measures
// nothing: every method is safe to call on it.
type clientMetrics struct {
	reg  prometheus.Registerer
	regd []prometheus.Collector

	acquired *prometheus.CounterVec   // kind
	wait     *prometheus.HistogramVec // kind
	lost     *prometheus.CounterVec   // kind, reason
	gained   *prometheus.CounterVec   // kind (leader kinds)
	ended    *prometheus.CounterVec   // kind (leader kinds)

	byKind map[string]kindMetrics // the children of every kind, made once
}

// kindMetrics are the children of one kind: no lookup by labels per hold.
type kindMetrics struct {
	grants, ends prometheus.Counter // acquisitions or terms gained; terms ended (nil but for leader kinds)
	wait         prometheus.Observer
}

// newClientMetrics makes c's metrics and registers them on reg; nothing
// stays registered if one fails.
func newClientMetrics(c *Client, reg prometheus.Registerer) (*clientMetrics, error) {
	m := &clientMetrics{reg: reg,
		acquired: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zk_recipes_acquisitions_total",
			Help: "Locks, semaphore leases and read or write holds granted to this Client."}, []string{"kind"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "zk_recipes_acquire_wait_seconds",
			Help:    "Time from asking for a hold (or joining an election) until it was granted.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9)}, []string{"kind"}),
		lost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zk_recipes_leases_lost_total",
			Help: "Holds of this Client lost before their release, by reason."}, []string{"kind", "reason"}),
		gained: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zk_recipes_leadership_gained_total",
			Help: "Terms of leadership this Client's latches and selectors began."}, []string{"kind"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zk_recipes_leadership_lost_total",
			Help: "Terms of leadership of this Client that ended (lost or given up)."}, []string{"kind"}),
	}
	m.byKind = map[string]kindMetrics{}
	for _, k := range lockKinds {
		m.byKind[k] = kindMetrics{grants: m.acquired.WithLabelValues(k), wait: m.wait.WithLabelValues(k)}
	}
	for _, k := range leaderKinds {
		m.byKind[k] = kindMetrics{grants: m.gained.WithLabelValues(k), ends: m.ended.WithLabelValues(k),
			wait: m.wait.WithLabelValues(k)}
	}
	for _, col := range []prometheus.Collector{m.acquired, m.wait, m.lost, m.gained, m.ended, &gauges{c: c}} {
		if err := reg.Register(col); err != nil {
			m.unregister()
			var dup prometheus.AlreadyRegisteredError
			if errors.As(err, &dup) {
				return nil, fmt.Errorf("recipes: NewClient: %w: Registerer: %v (several Clients on one registry "+
					"need their own labels: prometheus.WrapRegistererWith)", zk.ErrBadArguments, err)
			}
			return nil, fmt.Errorf("recipes: NewClient: %w: Registerer: %v", zk.ErrBadArguments, err)
		}
		m.regd = append(m.regd, col)
	}
	return m, nil
}

// unregister removes every metric the Client registered.
func (m *clientMetrics) unregister() {
	if m == nil {
		return
	}
	for _, col := range m.regd {
		m.reg.Unregister(col)
	}
	m.regd = nil
}

// granted records a hold of kind granted after waiting since start.
func (m *clientMetrics) granted(kind string, start time.Time) {
	if m == nil || kind == "" {
		return
	}
	k := m.byKind[kind]
	k.grants.Inc()
	k.wait.Observe(time.Since(start).Seconds())
}

// measureLate labels h, granted since start, with kind and counts it
// granted: for a hold that became an acquisition only after its grant (a
// Semaphore's lease, once its admission is confirmed). One already lost
// counts as lost at once.
func (c *Client) measureLate(h *hold, kind string, start time.Time) {
	if c.met == nil {
		return
	}
	c.mu.Lock()
	_, live := c.holds[h]
	if live {
		h.kind = kind // guarded by c.mu once the hold is registered
	}
	c.mu.Unlock()
	c.met.granted(kind, start)
	if !live {
		c.met.dropped(kind, context.Cause(h.ctx))
	}
}

// dropped records the end of a live hold of kind: released (cause nil) or
// lost with cause.
func (m *clientMetrics) dropped(kind string, cause error) {
	if m == nil || kind == "" {
		return
	}
	if k := m.byKind[kind]; k.ends != nil {
		k.ends.Inc()
	}
	if cause != nil {
		m.lost.WithLabelValues(kind, lossReason(cause)).Inc()
	}
}

// lossReason names why a hold was lost, for the label reason.
func lossReason(cause error) string {
	switch {
	case errors.Is(cause, zk.ErrSessionExpired):
		return "session_expired"
	case errors.Is(cause, zk.ErrNoNode):
		return "node_deleted"
	case errors.Is(cause, zk.ErrClosed):
		return "closed"
	case errors.Is(cause, zk.ErrConnectionLoss):
		return "connection_loss"
	}
	return "other"
}

// gauges reads the Client's live state when scraped: holds by kind, terms
// of leadership by kind, deletes owed in the background.
type gauges struct{ c *Client }

var (
	holdsDesc = prometheus.NewDesc("zk_recipes_holds",
		"Locks, semaphore leases and read or write holds this Client holds now.", []string{"kind"}, nil)
	leaderDesc = prometheus.NewDesc("zk_recipes_leader",
		"Latches and selectors of this Client that lead now (1 or 0 for a single one).", []string{"kind"}, nil)
	deletesDesc = prometheus.NewDesc("zk_recipes_guaranteed_deletes_pending",
		"Guaranteed deletes of this Client still being retried in the background.", nil, nil)
)

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- holdsDesc
	ch <- leaderDesc
	ch <- deletesDesc
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	c := g.c
	c.mu.Lock()
	live := map[string]int{}
	for h := range c.holds {
		live[h.kind]++
	}
	pending := len(c.deletes)
	c.mu.Unlock()
	for _, k := range lockKinds {
		ch <- prometheus.MustNewConstMetric(holdsDesc, prometheus.GaugeValue, float64(live[k]), k)
	}
	for _, k := range leaderKinds {
		ch <- prometheus.MustNewConstMetric(leaderDesc, prometheus.GaugeValue, float64(live[k]), k)
	}
	ch <- prometheus.MustNewConstMetric(deletesDesc, prometheus.GaugeValue, float64(pending))
}
