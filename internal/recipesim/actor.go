package recipesim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/recipes"
)

// kind is what an actor does.
type kind int

const (
	kMutex    kind = iota // Mutex on /m (one actor shares it between two goroutines)
	kSemMutex             // SemaphoreMutex on /sm
	kReader               // read side of the RWMutex on /rw
	kWriter               // write side of the RWMutex on /rw
	kSem                  // Semaphore of semN leases on /sem
	kLatch                // LeaderLatch on /latch
)

const semN = 2

var kindNames = []string{"mutex", "smutex", "read", "write", "sem", "latch"}

func (k kind) String() string { return kindNames[k] }

// lockOf is the lock a kind contends for (readers and writers share one).
func (k kind) lock() string {
	return [...]string{"/m", "/sm", "/rw", "/rw", "/sem", "/latch"}[k]
}

// recipeDirs are the directories the recipes' nodes live in.
var recipeDirs = []string{"/m", "/sm/locks", "/sm/leases", "/rw", "/sem/locks", "/sem/leases", "/latch"}

// holder is one goroutine that holds (or wants) a lock: what the checks
// look at. Its fields are guarded by World.mu.
type holder struct {
	name    string
	kind    kind
	offset  time.Duration // of its timers, distinct from every other's
	lease   *recipes.Lease
	peer    *peer // the peer of its session while it holds
	until   int64 // the tick it means to hold until
	lastAcq int64 // tick of its last acquisition (-1: none)
}

// dur is n ticks and the holder's offset: its timers end alone.
func (h *holder) dur(n int) time.Duration { return time.Duration(n)*tick + h.offset }

// actor is one client program: a session on a peer, a Client, a recipe,
// and one or two goroutines using it.
type actor struct {
	w    *World
	name string
	kind kind
	rng  *rand.Rand
	hs   []*holder
}

func (w *World) spawnActors() {
	specs := []struct {
		k       kind
		n       int
		workers int
	}{{kMutex, 2, 1}, {kMutex, 1, 2}, {kSemMutex, 2, 1}, {kReader, 2, 1}, {kWriter, 1, 1}, {kSem, 3, 1}, {kLatch, 2, 1}}
	for _, sp := range specs {
		for i := 0; i < sp.n; i++ {
			a := &actor{w: w, kind: sp.k, name: fmt.Sprintf("%s%d", sp.k, len(w.actors))}
			a.rng = rand.New(rand.NewPCG(w.opts.Seed, uint64(len(w.actors))+1))
			for j := 0; j < sp.workers; j++ {
				h := &holder{name: fmt.Sprintf("%s.%d", a.name, j), kind: sp.k, lastAcq: -1,
					offset: time.Duration(len(w.holders)+1) * 1117}
				a.hs = append(a.hs, h)
				w.holders = append(w.holders, h)
			}
			w.actors = append(w.actors, a)
			w.actorsWG.Add(1)
			w.actorsUp++
			go a.run()
		}
	}
}

func (w *World) isStopping() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stopping
}

// sleep waits d (of the bubble's clock), or until the run ends.
func (w *World) sleep(d time.Duration) {
	select {
	case <-time.After(d):
	case <-w.ctx.Done():
	}
}

// run is the actor's life: sessions one after the other, until the run
// stops; then it closes its Client, and its session once allowed.
func (a *actor) run() {
	defer a.w.actorsWG.Done()
	defer func() {
		a.w.mu.Lock()
		a.w.actorsUp--
		a.w.mu.Unlock()
	}()
	var last *session
	for !a.w.isStopping() {
		s := a.connect()
		if s == nil {
			continue
		}
		last = s
		a.work(s)
	}
	<-a.w.finish
	if last != nil && last.sess.State() == zk.StateConnected {
		if a.w.gate(a.w.ctx.Done(), a.name+" close") {
			if last.sess.Close(a.w.ctx) == nil {
				a.w.sessionEnded(last)
			}
		}
	}
}

// session is a session of an actor, with the peer incarnation it is on.
type session struct {
	sess *zk.Session
	ens  *zk.Ensemble
	peer *peer
}

// connect opens a session on a peer drawn from the actor's generator.
func (a *actor) connect() *session {
	p := a.w.peers[a.rng.IntN(len(a.w.peers))]
	timeout := time.Duration(2+a.rng.IntN(19)) * TickTime
	ens := a.w.ensOf(p)
	if ens == nil || !ens.Status().Serving {
		a.w.sleep(a.hs[0].dur(3) + 7)
		return nil
	}
	if !a.w.gate(a.w.ctx.Done(), a.name+" session") || a.w.ensOf(p) != ens || !ens.Status().Serving {
		return nil
	}
	s, err := ens.NewSession(a.w.ctx, zk.WithSessionTimeout(timeout))
	a.w.gate(nil, a.name+" session answered")
	if err != nil {
		a.w.sleep(a.hs[0].dur(3) + 7)
		return nil
	}
	out := &session{sess: s, ens: ens, peer: p}
	a.w.addSession(out)
	return out
}

// work runs the actor's goroutines on a session until it (or its peer)
// ends or the run stops, then closes the Client (deleting its nodes).
func (a *actor) work(s *session) {
	c, err := recipes.NewClient(&gateConn{Session: s.sess, w: a.w, name: a.name}, recipes.WithID(a.name))
	if err != nil {
		return
	}
	acquire := a.recipe(c)
	var wg sync.WaitGroup
	for i, h := range a.hs {
		rng := rand.New(rand.NewPCG(a.w.opts.Seed^uint64(i+1)<<40, a.rng.Uint64()))
		wg.Go(func() {
			if a.kind == kLatch {
				a.lead(c, s.peer, h, rng)
			} else {
				a.use(c, s.peer, acquire, h, rng)
			}
		})
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(a.w.ctx, a.hs[0].dur(100))
	defer cancel()
	c.Close(ctx)
}

// recipe returns the acquire function of the actor's recipe on c.
func (a *actor) recipe(c *recipes.Client) func(context.Context) (*recipes.Lease, error) {
	must := func(l recipes.Locker, err error) func(context.Context) (*recipes.Lease, error) {
		if err != nil {
			panic(err)
		}
		return l.Acquire
	}
	switch a.kind {
	case kMutex:
		return must(recipes.NewMutex(c, "/m"))
	case kSemMutex:
		return must(recipes.NewSemaphoreMutex(c, "/sm"))
	case kReader, kWriter:
		rw, err := recipes.NewRWMutex(c, "/rw")
		if err != nil {
			panic(err)
		}
		if a.kind == kReader {
			return rw.ReadLock().Acquire
		}
		return rw.WriteLock().Acquire
	case kSem:
		return must(recipes.NewSemaphore(c, "/sem", semN))
	}
	return nil
}

// ended reports whether err means the Client (or its session) is over.
func ended(c *recipes.Client, err error) bool {
	return c.Err() != nil || errors.Is(err, zk.ErrSessionExpired) || errors.Is(err, zk.ErrClosed)
}

// use takes the lock, holds it a while (or until it may be lost), gives it
// back, and again.
func (a *actor) use(c *recipes.Client, p *peer, acquire func(context.Context) (*recipes.Lease, error), h *holder, rng *rand.Rand) {
	for !a.w.isStopping() {
		ctx, cancel := context.WithTimeout(a.w.ctx, h.dur(20+rng.IntN(400)))
		l, err := acquire(ctx)
		cancel()
		if err != nil {
			a.w.count("acquire: " + classify(err))
			if ended(c, err) {
				return
			}
			a.w.sleep(h.dur(1 + rng.IntN(10)))
			continue
		}
		a.w.acquired(h, p, l)
		select {
		case <-time.After(h.dur(a.w.holdTicks(h, rng))):
		case <-l.Context().Done():
		case <-a.w.ctx.Done():
		}
		a.w.released(h, l)
		rctx, rcancel := context.WithTimeout(a.w.ctx, h.dur(50))
		l.Release(rctx)
		rcancel()
		a.w.sleep(h.dur(rng.IntN(10)))
	}
}

// holdTicks draws how long a hold is kept (unless lost first): mostly a
// few ticks, sometimes (during the faults) longer than any session
// timeout.
func (w *World) holdTicks(h *holder, rng *rand.Rand) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 1 + rng.IntN(30)
	if rng.IntN(4) == 0 && w.heal == 0 {
		n = 200 + rng.IntN(800)
	}
	h.until = w.now + int64(n)
	return n
}

// lead takes part in the election: leads until leadership is lost or it
// has led long enough, then closes its latch (handing leadership on) and
// joins again.
func (a *actor) lead(c *recipes.Client, p *peer, h *holder, rng *rand.Rand) {
	for !a.w.isStopping() && c.Err() == nil {
		latch, err := recipes.NewLeaderLatch(c, "/latch", h.name)
		if err != nil || latch.Start() != nil {
			panic(err)
		}
		var last *recipes.Lease
		for !a.w.isStopping() && c.Err() == nil {
			ctx, cancel := context.WithTimeout(a.w.ctx, h.dur(20+rng.IntN(400)))
			l, err := latch.Await(ctx)
			cancel()
			if err != nil {
				a.w.count("await: " + classify(err))
				a.w.sleep(h.dur(1 + rng.IntN(10)))
				continue
			}
			if l != last {
				a.w.acquired(h, p, l)
				last = l
			}
			var done bool
			select {
			case <-time.After(h.dur(a.w.holdTicks(h, rng))):
				done = true
			case <-l.Context().Done():
			case <-a.w.ctx.Done():
			}
			a.w.released(h, l)
			if done {
				break
			}
		}
		ctx, cancel := context.WithTimeout(a.w.ctx, h.dur(50))
		latch.Close(ctx)
		cancel()
	}
}
