package recipes

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/embedzk/zk"
)

// metricClient opens a session and its Client exporting on reg.
func (w *world) metricClient(reg prometheus.Registerer) (*zk.Session, *Client) {
	w.t.Helper()
	s, err := w.ens.NewSession(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	c, err := NewClient(s, WithRegisterer(reg))
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { c.Close(context.Background()) })
	return s, c
}

// sample returns the value of the sample of name with exactly labels (a
// histogram's count), and whether there is one.
func sample(t *testing.T, g prometheus.Gatherer, name string, labels ...string) (float64, bool) {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if labelsAre(m, labels) {
				switch {
				case m.Counter != nil:
					return m.Counter.GetValue(), true
				case m.Gauge != nil:
					return m.Gauge.GetValue(), true
				case m.Histogram != nil:
					return float64(m.Histogram.GetSampleCount()), true
				}
			}
		}
	}
	return 0, false
}

func labelsAre(m *dto.Metric, labels []string) bool {
	if len(m.GetLabel())*2 != len(labels) {
		return false
	}
	for i, l := range m.GetLabel() { // sorted by name, as labels must be given
		if l.GetName() != labels[2*i] || l.GetValue() != labels[2*i+1] {
			return false
		}
	}
	return true
}

// want checks samples: name, its labels, then the value (missing counts 0).
type want struct {
	name   string
	labels []string
	value  float64
}

func check(t *testing.T, g prometheus.Gatherer, when string, ws ...want) {
	t.Helper()
	for _, w := range ws {
		if got, _ := sample(t, g, w.name, w.labels...); got != w.value {
			t.Errorf("%s: %s%v = %v, want %v", when, w.name, w.labels, got, w.value)
		}
	}
}

// TestMetricsMutex: two acquisitions and releases of a Mutex count two
// acquisitions and two waits, a hold while held and none after, and no
// loss.
func TestMetricsMutex(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		reg := prometheus.NewRegistry()
		_, c := w.metricClient(reg)
		m := must[*Mutex](t)(NewMutex(c, "/m"))
		for i := 1; i <= 2; i++ {
			l := must[*Lease](t)(m.Acquire(w.ctx))
			check(t, reg, "held",
				want{"zk_recipes_acquisitions_total", []string{"kind", "mutex"}, float64(i)},
				want{"zk_recipes_acquire_wait_seconds", []string{"kind", "mutex"}, float64(i)},
				want{"zk_recipes_holds", []string{"kind", "mutex"}, 1},
			)
			if err := l.Release(w.ctx); err != nil {
				t.Fatal(err)
			}
			check(t, reg, "released", want{"zk_recipes_holds", []string{"kind", "mutex"}, 0})
		}
		if _, ok := sample(t, reg, "zk_recipes_leases_lost_total", "kind", "mutex", "reason", "closed"); ok {
			t.Error("a released lease counted as lost")
		}
		check(t, reg, "end",
			want{"zk_recipes_guaranteed_deletes_pending", nil, 0},
			want{"zk_recipes_leader", []string{"kind", "leader_latch"}, 0},
		)
	})
}

// TestMetricsLeaseLostExpiry: a lease lost to the session's expiry counts
// one loss with reason session_expired; one whose node another session
// deletes, node_deleted.
func TestMetricsLeaseLostExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		reg := prometheus.NewRegistry()
		s, c := w.metricClient(reg)
		rw := must[*RWMutex](t)(NewRWMutex(c, "/rw"))
		r := must[*Lease](t)(rw.ReadLock().Acquire(w.ctx))
		other, _ := w.session()
		if err := other.Delete(w.ctx, r.Node(), -1); err != nil {
			t.Fatal(err)
		}
		<-r.Context().Done()
		m := must[*Mutex](t)(NewMutex(c, "/m"))
		l := must[*Lease](t)(m.Acquire(w.ctx))
		w.expire(s)
		<-l.Context().Done()
		synctest.Wait()
		// The expiry deletes the node: the hold may see that before the
		// session's state, and the metric agrees with the lease's error.
		expired := lossReason(l.Err())
		if expired != "session_expired" && expired != "node_deleted" {
			t.Fatalf("lease after the expiry: %v", l.Err())
		}
		check(t, reg, "after the losses",
			want{"zk_recipes_acquisitions_total", []string{"kind", "mutex"}, 1},
			want{"zk_recipes_acquisitions_total", []string{"kind", "rwmutex_read"}, 1},
			want{"zk_recipes_leases_lost_total", []string{"kind", "mutex", "reason", expired}, 1},
			want{"zk_recipes_leases_lost_total", []string{"kind", "rwmutex_read", "reason", "node_deleted"}, 1},
			want{"zk_recipes_holds", []string{"kind", "mutex"}, 0},
			want{"zk_recipes_holds", []string{"kind", "rwmutex_read"}, 0},
		)
		// Releasing a lost lease is no second loss.
		l.Release(w.ctx)
		r.Release(w.ctx)
		check(t, reg, "after the releases",
			want{"zk_recipes_leases_lost_total", []string{"kind", "mutex", "reason", expired}, 1},
			want{"zk_recipes_leases_lost_total", []string{"kind", "rwmutex_read", "reason", "node_deleted"}, 1},
		)
	})
}

// TestMetricsLeaderLatch: a latch that leads, loses its node (the next
// participant leads) and is closed counts one term gained and one lost
// (reason node_deleted), and leads no more.
func TestMetricsLeaderLatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		reg := prometheus.NewRegistry()
		_, c := w.metricClient(reg)
		a := must[*LeaderLatch](t)(NewLeaderLatch(c, "/elect", "a"))
		b := must[*LeaderLatch](t)(NewLeaderLatch(w.client(), "/elect", "b"))
		defer b.Close(w.ctx)
		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		lease := must[*Lease](t)(a.Await(w.ctx))
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		check(t, reg, "leading",
			want{"zk_recipes_leadership_gained_total", []string{"kind", "leader_latch"}, 1},
			want{"zk_recipes_acquire_wait_seconds", []string{"kind", "leader_latch"}, 1},
			want{"zk_recipes_leader", []string{"kind", "leader_latch"}, 1},
			want{"zk_recipes_leadership_lost_total", []string{"kind", "leader_latch"}, 0},
		)
		other, _ := w.session()
		if err := other.Delete(w.ctx, lease.Node(), -1); err != nil {
			t.Fatal(err)
		}
		must[*Lease](t)(b.Await(w.ctx))
		synctest.Wait()
		check(t, reg, "after losing",
			want{"zk_recipes_leadership_gained_total", []string{"kind", "leader_latch"}, 1},
			want{"zk_recipes_leadership_lost_total", []string{"kind", "leader_latch"}, 1},
			want{"zk_recipes_leases_lost_total", []string{"kind", "leader_latch", "reason", "node_deleted"}, 1},
			want{"zk_recipes_leader", []string{"kind", "leader_latch"}, 0},
			want{"zk_recipes_acquisitions_total", []string{"kind", "leader_latch"}, 0},
		)
		if err := a.Close(w.ctx); err != nil {
			t.Fatal(err)
		}
		check(t, reg, "closed",
			want{"zk_recipes_leadership_lost_total", []string{"kind", "leader_latch"}, 1},
			want{"zk_recipes_leader", []string{"kind", "leader_latch"}, 0},
		)
	})
}

// TestMetricsRegistration: without a Registerer nothing is measured;
// Clients on one registry, each with labels of its own, count apart; a
// second Client with the same labels fails with zk.ErrBadArguments; Close
// unregisters.
func TestMetricsRegistration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		s, plain := w.session()
		if plain.met != nil {
			t.Fatal("a Client without a Registerer has metrics")
		}
		if c := must[*Client](t)(NewClient(s, WithRegisterer(nil))); c.met != nil {
			t.Fatal("a Client with a nil Registerer has metrics")
		} else {
			c.Close(w.ctx)
		}
		reg := prometheus.NewRegistry()
		as := func(id string) prometheus.Registerer {
			return prometheus.WrapRegistererWith(prometheus.Labels{"client": id}, reg)
		}
		s1, c1 := w.metricClient(as("1"))
		if _, err := NewClient(s1, WithRegisterer(as("1"))); !errors.Is(err, zk.ErrBadArguments) {
			t.Fatalf("second Client with the same labels: %v", err)
		}
		_, c2 := w.metricClient(as("2"))
		for _, c := range []*Client{c2, plain} {
			m := must[*Mutex](t)(NewMutex(c, "/m"))
			must[*Lease](t)(m.Acquire(w.ctx)).Release(w.ctx)
		}
		check(t, reg, "two Clients",
			want{"zk_recipes_acquisitions_total", []string{"client", "2", "kind", "mutex"}, 1},
			want{"zk_recipes_acquisitions_total", []string{"client", "1", "kind", "mutex"}, 0},
			want{"zk_recipes_holds", []string{"client", "1", "kind", "mutex"}, 0},
		)
		if err := c1.Close(w.ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := sample(t, reg, "zk_recipes_guaranteed_deletes_pending", "client", "1"); ok {
			t.Fatal("a closed Client's metrics are still registered")
		}
		if _, ok := sample(t, reg, "zk_recipes_guaranteed_deletes_pending", "client", "2"); !ok {
			t.Fatal("closing one Client unregistered another's metrics")
		}
		if err := c2.Close(w.ctx); err != nil {
			t.Fatal(err)
		}
		if fams := must[[]*dto.MetricFamily](t)(reg.Gather()); len(fams) != 0 {
			t.Fatalf("metrics left after closing every Client: %d families", len(fams))
		}
		_, c3 := w.metricClient(as("1")) // the names are free again
		c3.Close(w.ctx)
	})
}

// TestMetricsDeletesPending: a release whose delete fails is owed in the
// background, and the gauge counts it until it happens.
func TestMetricsDeletesPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		s, _ := w.session()
		cc := &counter{Conn: s}
		reg := prometheus.NewRegistry()
		c := must[*Client](t)(NewClient(cc, WithRegisterer(reg)))
		defer c.Close(w.ctx)
		m := must[*Mutex](t)(NewMutex(c, "/m"))
		l := must[*Lease](t)(m.Acquire(w.ctx))
		cc.set(func(name string) error {
			if name == "delete" {
				return zk.ErrConnectionLoss
			}
			return nil
		}, nil)
		ended, cancel := context.WithCancel(w.ctx)
		cancel()
		if err := l.Release(ended); err != nil {
			t.Fatal(err)
		}
		check(t, reg, "delete failing", want{"zk_recipes_guaranteed_deletes_pending", nil, 1})
		cc.set(nil, nil)
		c.poke()
		synctest.Wait()
		for len(w.children("/m")) != 0 {
			time.Sleep(tickTime) // the bubble's clock: the background retries
		}
		synctest.Wait()
		check(t, reg, "delete done", want{"zk_recipes_guaranteed_deletes_pending", nil, 0})
	})
}

// TestMetricsConnectionLoss: a hold that lapses (no write of the session
// confirmed for 2/3 of its timeout) counts a loss with reason
// connection_loss.
func TestMetricsConnectionLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		s, _ := w.session()
		cc := &counter{Conn: s}
		reg := prometheus.NewRegistry()
		c := must[*Client](t)(NewClient(cc, WithRegisterer(reg)))
		defer c.Close(w.ctx)
		m := must[*SemaphoreMutex](t)(NewSemaphoreMutex(c, "/sm"))
		l := must[*Lease](t)(m.Acquire(w.ctx))
		cc.set(func(name string) error {
			if name == "create" || name == "delete" || name == "multi" {
				return zk.ErrNotServing
			}
			return nil
		}, nil)
		<-l.Context().Done()
		synctest.Wait()
		check(t, reg, "lapsed",
			want{"zk_recipes_acquisitions_total", []string{"kind", "semaphore_mutex"}, 1},
			want{"zk_recipes_leases_lost_total", []string{"kind", "semaphore_mutex", "reason", "connection_loss"}, 1},
			want{"zk_recipes_holds", []string{"kind", "semaphore_mutex"}, 0},
		)
		if got, ok := sample(t, reg, "zk_recipes_acquisitions_total", "kind", "mutex"); !ok || got != 0 {
			t.Errorf("the semaphore's admission lock counted as a mutex: %v %v", got, ok)
		}
	})
}

// TestMetricsKinds: each recipe counts under its own kind.
func TestMetricsKinds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		reg := prometheus.NewRegistry()
		_, c := w.metricClient(reg)
		sem := must[*Semaphore](t)(NewSemaphore(c, "/sem", 3))
		leases := must[[]*Lease](t)(sem.AcquireN(w.ctx, 2))
		rw := must[*RWMutex](t)(NewRWMutex(c, "/rw"))
		wl := must[*Lease](t)(rw.WriteLock().Acquire(w.ctx))
		rl := must[*Lease](t)(rw.ReadLock().AcquireHolding(w.ctx, wl))
		led := make(chan struct{})
		sel := must[*LeaderSelector](t)(NewLeaderSelector(c, "/sel", "a", func(ctx context.Context, _ *Lease) error {
			close(led)
			<-ctx.Done()
			return nil
		}))
		if err := sel.Start(); err != nil {
			t.Fatal(err)
		}
		<-led
		synctest.Wait()
		check(t, reg, "holding",
			want{"zk_recipes_acquisitions_total", []string{"kind", "semaphore"}, 2},
			want{"zk_recipes_holds", []string{"kind", "semaphore"}, 2},
			want{"zk_recipes_acquisitions_total", []string{"kind", "rwmutex_write"}, 1},
			want{"zk_recipes_acquisitions_total", []string{"kind", "rwmutex_read"}, 1},
			want{"zk_recipes_holds", []string{"kind", "rwmutex_read"}, 1},
			want{"zk_recipes_leadership_gained_total", []string{"kind", "leader_selector"}, 1},
			want{"zk_recipes_leader", []string{"kind", "leader_selector"}, 1},
		)
		for _, l := range append(leases, wl, rl) {
			l.Release(w.ctx)
		}
		if err := sel.Close(w.ctx); err != nil {
			t.Fatal(err)
		}
		check(t, reg, "released",
			want{"zk_recipes_holds", []string{"kind", "semaphore"}, 0},
			want{"zk_recipes_holds", []string{"kind", "rwmutex_write"}, 0},
			want{"zk_recipes_leader", []string{"kind", "leader_selector"}, 0},
			want{"zk_recipes_leadership_lost_total", []string{"kind", "leader_selector"}, 1},
		)
	})
}

// BenchmarkMetricsHooks: what the metrics add to one acquisition and its
// release (the counters and the histogram; the gauges cost only when
// scraped). Compare with BenchmarkMutex's cycle, same run:
//
//	go test -run x -bench 'MetricsHooks|Mutex/peers=1/own' ./recipes
func BenchmarkMetricsHooks(b *testing.B) {
	m := must[*clientMetrics](b)(newClientMetrics(&Client{}, prometheus.NewRegistry()))
	start := time.Now()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.granted(kindMutex, start)
		m.dropped(kindMutex, nil)
	}
}
