package engine

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

var sessionSeeds = flag.Int("zk.sessionseeds", 3, "seeds for TestRandomSessionsWatchesExpiry")

// change is one change the test made, as a watch must report it.
type change struct {
	typ  EventType
	path string
}

// liveWatch is a watch the test set, with what it must receive.
type liveWatch struct {
	owner     int
	path      string
	recursive bool
	oneShot   bool
	from      int // index in the change log where it was set
	end       int // change-log length when its session ended; -1 while alive
	ch        <-chan Event
	pw        *Watch
	got       []Event
}

// TestRandomSessionsWatchesExpiry: many sessions create ephemerals, change
// them, set one-shot and persistent watches, and are expired or closed at
// random ticks. After every step no ephemeral of a dead session remains and
// the ephemerals equal the model; at the end every watch got exactly the
// changes it had to see, once each, in zxid order.
func TestRandomSessionsWatchesExpiry(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*sessionSeeds); seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { randomSessions(t, seed, 400) })
	}
}

type sessionsWorld struct {
	t        *testing.T
	e        *Ensemble
	rng      *rand.Rand
	sessions []*Session
	alive    []bool
	eph      map[string]int // ephemeral path -> owner index
	log      []change
	watches  []*liveWatch
	admin    *Session
}

func randomSessions(t *testing.T, seed uint64, steps int) {
	e := standalone(t)
	w := &sessionsWorld{t: t, e: e, rng: rand.New(rand.NewPCG(seed, 5)), eph: map[string]int{}}
	w.admin = newSession(t, e)
	mustCreate(t, w.admin, "/e", "")
	for i := 0; i < 12; i++ {
		w.sessions = append(w.sessions, newSession(t, e))
		w.alive = append(w.alive, true)
	}
	for step := 0; step < steps; step++ {
		w.step()
		w.drain()
		w.checkEphemerals(fmt.Sprintf("seed %d step %d", seed, step))
	}
	w.checkWatches()
}

func (w *sessionsWorld) liveIndex() int {
	for {
		if i := w.rng.IntN(len(w.sessions)); w.alive[i] {
			return i
		}
	}
}

func (w *sessionsWorld) step() {
	ctx := testCtx(w.t)
	i := w.liveIndex()
	s := w.sessions[i]
	switch op := w.rng.IntN(10); {
	case op < 3:
		p := mustCreate(w.t, s, fmt.Sprintf("/e/s%d-", i), "", WithMode(ModeEphemeralSequential))
		w.eph[p] = i
		w.log = append(w.log, change{EventNodeCreated, p})
	case op < 5:
		if p := w.ownEphemeral(i); p != "" {
			if _, err := s.Set(ctx, p, []byte("x"), -1); err != nil {
				w.t.Fatal(err)
			}
			w.log = append(w.log, change{EventNodeDataChanged, p})
		}
	case op < 7:
		w.setWatch(i)
	case op < 8:
		if err := w.e.ExpireSession(ctx, s.ID()); err != nil {
			w.t.Fatal(err)
		}
		w.die(i)
	case op < 9:
		if err := s.Close(ctx); err != nil {
			w.t.Fatal(err)
		}
		w.die(i)
	default:
		ticks(w.t, w.e, 1+w.rng.IntN(TicksPerTickTime))
	}
}

func (w *sessionsWorld) ownEphemeral(i int) string {
	var mine []string
	for p, o := range w.eph {
		if o == i {
			mine = append(mine, p)
		}
	}
	if len(mine) == 0 {
		return ""
	}
	slices.Sort(mine)
	return mine[w.rng.IntN(len(mine))]
}

// setWatch sets a random watch for session i.
func (w *sessionsWorld) setWatch(i int) {
	ctx := testCtx(w.t)
	s := w.sessions[i]
	lw := &liveWatch{owner: i, from: len(w.log), end: -1}
	switch w.rng.IntN(3) {
	case 0:
		wt, err := s.AddWatch(ctx, "/e", true)
		if err != nil {
			w.t.Fatal(err)
		}
		lw.path, lw.recursive, lw.pw = "/e", true, wt
	case 1:
		p := w.ownEphemeral(w.liveIndex())
		if p == "" {
			return
		}
		_, _, ch, err := s.GetW(ctx, p)
		if err != nil {
			w.t.Fatal(err)
		}
		lw.path, lw.oneShot, lw.ch = p, true, ch
	default:
		p := fmt.Sprintf("/e/none%d", w.rng.IntN(3))
		_, _, ch, err := s.ExistsW(ctx, p)
		if err != nil {
			w.t.Fatal(err)
		}
		lw.path, lw.oneShot, lw.ch = p, true, ch
	}
	w.watches = append(w.watches, lw)
}

// die records that session i ended: its ephemerals went (in path order, in
// one txn) and a fresh session takes its place.
func (w *sessionsWorld) die(i int) {
	var gone []string
	for p, o := range w.eph {
		if o == i {
			gone = append(gone, p)
		}
	}
	slices.Sort(gone)
	for _, p := range gone {
		delete(w.eph, p)
		w.log = append(w.log, change{EventNodeDeleted, p})
	}
	w.alive[i] = false
	for _, lw := range w.watches {
		if lw.owner == i && lw.end < 0 {
			lw.end = len(w.log)
		}
	}
	w.sessions = append(w.sessions, newSession(w.t, w.e))
	w.alive = append(w.alive, true)
}

// drain collects every queued event of every watch.
func (w *sessionsWorld) drain() {
	for _, lw := range w.watches {
		lw.got = append(lw.got, w.drainOne(lw)...)
	}
}

func (w *sessionsWorld) drainOne(lw *liveWatch) []Event {
	var evs []Event
	for lw.pw != nil {
		ev, ok := lw.pw.TryNext()
		if !ok {
			return evs
		}
		evs = append(evs, ev)
	}
	for {
		select {
		case ev, ok := <-lw.ch:
			if !ok {
				return evs
			}
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

// checkEphemerals compares every ephemeral in the tree with the model: a
// dead session's ephemerals are gone.
func (w *sessionsWorld) checkEphemerals(label string) {
	names, _, err := w.admin.Children(testCtx(w.t), "/e")
	if err != nil {
		w.t.Fatal(err)
	}
	var want []string
	for p := range w.eph {
		want = append(want, baseOf(p))
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		w.t.Fatalf("%s: ephemerals %v, model %v", label, names, want)
	}
	for i, s := range w.sessions {
		if !w.alive[i] && s.State() == StateConnected {
			w.t.Fatalf("%s: dead session %d still connected", label, i)
		}
	}
}

// expected computes the events a watch must have received.
func (w *sessionsWorld) expected(lw *liveWatch, end int) []change {
	var want []change
	for _, c := range w.log[lw.from:end] {
		switch {
		case lw.recursive && (c.path == lw.path || len(c.path) > len(lw.path) && c.path[:len(lw.path)+1] == lw.path+"/"):
			want = append(want, c)
		case lw.oneShot && c.path == lw.path:
			return append(want, c)
		}
	}
	return want
}

// checkWatches: each watch got exactly its changes, once, in zxid order.
func (w *sessionsWorld) checkWatches() {
	for n, lw := range w.watches {
		var got []change
		last := int64(0)
		for _, ev := range lw.got {
			if ev.Type == EventNotWatching {
				if !errors.Is(ev.Err, ErrSessionExpired) && !errors.Is(ev.Err, ErrClosed) {
					w.t.Fatalf("watch %d ended with %+v", n, ev)
				}
				continue
			}
			if ev.Zxid < last { // one txn (a session's end) may delete several nodes
				w.t.Fatalf("watch %d: events out of zxid order: %+v", n, lw.got)
			}
			last = ev.Zxid
			got = append(got, change{ev.Type, ev.Path})
		}
		end := len(w.log)
		if lw.end >= 0 {
			end = lw.end
		}
		want := w.expected(lw, end)
		if !slices.Equal(got, want) {
			w.t.Fatalf("watch %d on %s (recursive %v) got %v, want %v", n, lw.path, lw.recursive, got, want)
		}
	}
}
