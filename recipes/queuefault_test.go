package recipes

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/embedzk/zk"
)

var qfSeeds = flag.Int("recipes.seeds", 2, "seeds of TestQueueCounterFaults (a campaign: -recipes.seeds=12 -recipes.steps=100)")
var qfSteps = flag.Int("recipes.steps", 15, "fault steps per seed of TestQueueCounterFaults")

// TestQueueCounterFaults runs producers and consumers of a
// DistributedQueue and incrementers of a DistributedAtomicLong on three
// peers while peers are cut off and healed and sessions expire; workers
// whose session ends start again on a new one. At the end the faults heal,
// the workers stop and the queue is drained. No item whose Put returned
// nil may be lost (it was acknowledged, or is drained, or an Ack of it
// ended with its outcome unknown); no item may come out twice (two Acks
// that returned nil, or an Ack and the drain); the counter must hold every
// increment that succeeded, and more only by increments whose outcome was
// reported unknown. The faults are seeded (the goroutines' interleaving is
// not).
func TestQueueCounterFaults(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*qfSeeds); seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { runQueueCounterFaults(t, seed, *qfSteps) })
		})
	}
}

// ledger is what the workers were told.
type ledger struct {
	mu         sync.Mutex
	put        map[string]bool  // item -> Put returned nil
	acked      map[string]int   // item -> Acks that returned nil
	ackUnknown map[string]bool  // item -> an Ack's outcome stayed unknown
	ackErr     map[string]error // item -> the last Ack's error (for the report)
	incOK      int64            // increments that returned Succeeded
	incUnknown int64            // increments whose outcome stayed unknown
	errs       map[string]int   // error classes seen, for the log
}

func (l *ledger) note(what string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs[what+": "+errClass(err)]++
}

type faultWorkers struct {
	cl  *cluster
	led *ledger

	mu       sync.Mutex
	sessions map[int]*zk.Session // each worker's current session

	// net is held (a channel: blocking on it is durable for synctest, on a
	// sync.Mutex it is not) to cut or heal the network, and to open a
	// session: NewSession on a peer of a ManualClock ensemble that does
	// not serve ticks the peer itself until it does, without the bubble's
	// clock moving, so the heal that would end it never comes. A session
	// is opened only on a serving peer, and no cut comes meanwhile.
	net chan struct{}
}

func runQueueCounterFaults(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 12))
	w := &faultWorkers{cl: newCluster(t), sessions: map[int]*zk.Session{}, net: make(chan struct{}, 1), led: &ledger{
		put: map[string]bool{}, acked: map[string]int{}, ackUnknown: map[string]bool{}, ackErr: map[string]error{}, errs: map[string]int{}}}
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	ops := []func(ctx context.Context, c *Client, i, n int){w.produce, w.produce, w.consume, w.consume, w.increment, w.increment}
	for i, op := range ops {
		wg.Go(func() { w.work(ctx, i, op) })
	}
	faults := w.faults(ctx, rng, steps, len(ops))
	w.cl.net.Heal()
	stop()
	wg.Wait()
	drained, value := w.drain(t)
	w.check(t, drained, value)
	t.Logf("seed %d: faults %v; %d puts, %d acks, %d drained, counter %d (%d succeeded, %d unknown); errors %v",
		seed, faults, len(w.led.put), len(w.led.acked), len(drained), value, w.led.incOK, w.led.incUnknown, w.led.errs)
}

// faults runs steps of faults, each after 1 to 15 ticks: a peer cut off
// (one at a time), the network healed, the session of a random one of n
// workers expired, or nothing. It returns how many of each happened.
func (w *faultWorkers) faults(ctx context.Context, rng *rand.Rand, steps, n int) map[string]int {
	isolated := int64(0)
	faults := map[string]int{}
	for range steps {
		time.Sleep(time.Duration(1+rng.IntN(15)) * tickTime)
		switch rng.IntN(4) {
		case 0:
			if isolated == 0 {
				isolated = int64(1 + rng.IntN(3))
				w.net <- struct{}{}
				w.cl.net.Isolate(isolated)
				<-w.net
				faults["isolate"]++
			}
		case 1:
			w.net <- struct{}{}
			w.cl.net.Heal()
			<-w.net
			isolated = 0
		case 2:
			if w.expire(ctx, rng.IntN(n)) {
				faults["expire"]++
			}
		}
	}
	return faults
}

// work runs op every TickTime on a Client of worker i's own, on a new
// session (on any peer that opens one) whenever the last one ended.
func (w *faultWorkers) work(ctx context.Context, i int, op func(ctx context.Context, c *Client, i, n int)) {
	n := 0
	for peer := i; ctx.Err() == nil; peer++ {
		time.Sleep(tickTime) // a peer that refuses at once must not spin
		s, err := w.open(ctx, w.cl.ens[peer%3])
		if err != nil {
			continue
		}
		w.mu.Lock()
		w.sessions[i] = s
		w.mu.Unlock()
		if c, err := NewClient(s); err == nil {
			for ctx.Err() == nil && c.Err() == nil {
				op(ctx, c, i, n)
				n++
				time.Sleep(tickTime) // pace (fake time): faults come between operations
			}
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c.Close(cctx)
			cancel()
		}
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.Close(cctx)
		cancel()
	}
}

// open opens a session on e if it serves.
func (w *faultWorkers) open(ctx context.Context, e *zk.Ensemble) (*zk.Session, error) {
	w.net <- struct{}{}
	defer func() { <-w.net }()
	if !e.Status().Serving {
		return nil, zk.ErrNotServing
	}
	return e.NewSession(ctx)
}

func (w *faultWorkers) produce(ctx context.Context, c *Client, i, n int) {
	q := must[*DistributedQueue](w.cl.t)(NewDistributedQueue(c, "/q"))
	item := fmt.Sprintf("w%d-%d", i, n)
	octx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := q.Put(octx, []byte(item))
	w.led.mu.Lock()
	w.led.put[item] = err == nil
	w.led.mu.Unlock()
	if err != nil {
		w.led.note("put", err)
	}
}

func (w *faultWorkers) consume(ctx context.Context, c *Client, _, _ int) {
	q := must[*DistributedQueue](w.cl.t)(NewDistributedQueue(c, "/q"))
	octx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	it, err := q.Take(octx)
	if err != nil {
		w.led.note("take", err)
		return
	}
	err = it.Ack(octx)
	item := string(it.Data())
	w.led.mu.Lock()
	switch {
	case err == nil:
		w.led.acked[item]++
	case errors.Is(err, zk.ErrOutcomeUnknown):
		w.led.ackUnknown[item] = true
	}
	if err != nil {
		w.led.ackErr[item] = err
	}
	w.led.mu.Unlock()
	if err != nil {
		w.led.note("ack", err)
	}
}

func (w *faultWorkers) increment(ctx context.Context, c *Client, _, _ int) {
	a := must[*DistributedAtomicLong](w.cl.t)(NewDistributedAtomicLong(c, "/n",
		WithRetryPolicy(RetryPolicy{Tries: 50, Backoff: tickTime / 10})))
	octx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := a.Increment(octx)
	w.led.mu.Lock()
	switch {
	case err == nil && v.Succeeded:
		w.led.incOK++
	case errors.Is(err, zk.ErrOutcomeUnknown):
		w.led.incUnknown++
	}
	w.led.mu.Unlock()
	if err != nil {
		w.led.note("increment", err)
	}
}

// expire expires worker i's current session through a serving leader.
func (w *faultWorkers) expire(ctx context.Context, i int) bool {
	w.mu.Lock()
	s := w.sessions[i]
	w.mu.Unlock()
	if s == nil {
		return false
	}
	for _, e := range w.cl.ens {
		if st := e.Status(); st.Mode == zk.ModeLeading && st.Serving {
			octx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			return e.ExpireSession(octx, s.ID()) == nil
		}
	}
	return false
}

// drain takes every item left, once the workers are gone, and reads the
// counter.
func (w *faultWorkers) drain(t *testing.T) (map[string]int, int64) {
	var s *zk.Session
	w.cl.waitFor("a session", func() bool {
		var err error
		s, err = w.cl.ens[w.cl.leader()].NewSession(t.Context())
		return err == nil
	})
	c := must[*Client](t)(NewClient(s))
	defer c.Close(context.Background())
	q := must[*DistributedQueue](t)(NewDistributedQueue(c, "/q"))
	drained := map[string]int{}
	for len(must[[]string](t)(q.Items(t.Context()))) > 0 {
		it := must[*QueueItem](t)(q.Take(t.Context()))
		drained[string(it.Data())]++
		if err := it.Ack(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	a := must[*DistributedAtomicLong](t)(NewDistributedAtomicLong(c, "/n"))
	return drained, must[AtomicValue](t)(a.Get(t.Context())).PostValue
}

func (w *faultWorkers) check(t *testing.T, drained map[string]int, value int64) {
	l := w.led
	for item, n := range l.acked {
		if n+drained[item] > 1 {
			t.Errorf("%s came out %d times: acknowledged %d, drained %d", item, n+drained[item], n, drained[item])
		}
	}
	for item, n := range drained {
		if _, ok := l.put[item]; !ok || n > 1 {
			t.Errorf("%s drained %d times; put: %v", item, n, ok)
		}
	}
	for item, ok := range l.put {
		if ok && l.acked[item]+drained[item] == 0 && !l.ackUnknown[item] {
			t.Errorf("%s lost: its Put returned nil, and it was neither acknowledged nor left in the queue (ack error: %v)", item, l.ackErr[item])
		}
	}
	if value < l.incOK || value > l.incOK+l.incUnknown {
		t.Errorf("counter %d after %d increments that succeeded and %d of unknown outcome", value, l.incOK, l.incUnknown)
	}
}
