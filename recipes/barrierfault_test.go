package recipes

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/znode"
)

var bfSeeds = flag.Int("barrier.seeds", 2, "seeds of TestBarrierFaults (a campaign: -barrier.seeds=12 -barrier.steps=100)")
var bfSteps = flag.Int("barrier.steps", 15, "fault steps per seed of TestBarrierFaults")

const (
	bfGate    = "/b/gate" // the DistributedBarrier
	bfDir     = "/db"     // the DistributedDoubleBarrier
	bfMembers = 3         // its threshold, and the members of each round
	bfWaiters = 3         // waiters on the DistributedBarrier
	bfCtl     = bfWaiters // worker index of the barrier's controller
	bfFirstM  = bfCtl + 1 // worker index of the first member
)

// TestBarrierFaults runs a DistributedBarrier (a controller that sets and
// removes it, waiters that wait on it) and rounds of a
// DistributedDoubleBarrier (bfMembers members enter, then leave) on three
// peers while peers are cut off and healed and sessions expire; workers
// whose session ends start again on a new one, and a member whose
// membership may be lost before the round is complete enters again (the
// recipe's Context contract). After the faults heal, every waiter must be
// released by a last Remove, and the double barrier must complete rounds,
// within bounded (fake) time. Then the committed history, read back from
// the leader's log and replayed on a tree of the test's own, is checked:
//   - a Wait that returned nil read the barrier missing (the read's zxid is
//     bounded by its peer's applied zxid before and after it), at some zxid
//     where it really was missing;
//   - an Enter that returned nil had, at some zxid between its node's
//     creation and its return, at least bfMembers member nodes, its own
//     among them;
//   - a Leave that returned nil came after every member node of its round
//     (those that entered, including members that re-entered) was deleted.
func TestBarrierFaults(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*bfSeeds); seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { runBarrierFaults(t, seed, *bfSteps) })
		})
	}
}

type barrierFaults struct {
	*faultWorkers
	vmu   sync.Mutex
	views map[int64]hooks.View

	mu       sync.Mutex   // guards what follows
	reads    []gateRead   // every Wait that returned nil
	enters   []dbEnter    // every Enter that returned nil
	leaves   []dbLeave    // every Leave that returned nil
	round    *dbRound     // the double barrier's current round
	released map[int]bool // waiters released after the last Remove
	lastRm   bool         // the last Remove returned
	stage    map[int]string
	stats    map[string]int
}

// gateRead bounds the zxid of the read that let a Wait return nil (hi -1:
// none did).
type gateRead struct{ waiter, lo, hi int64 }

type dbEnter struct {
	node string
	hi   int64
}

type dbLeave struct {
	round *dbRound
	hi    int64
}

// dbRound is one round of the double barrier: leave is closed when
// bfMembers members are in at once, finished when all of them are out.
type dbRound struct {
	n        int
	live     int
	left     int
	nodes    []string // member nodes that entered in this round
	leave    chan struct{}
	finished chan struct{}
	next     *dbRound
}

func newRound(n int) *dbRound {
	return &dbRound{n: n, leave: make(chan struct{}), finished: make(chan struct{})}
}

func runBarrierFaults(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 13))
	w := &barrierFaults{views: map[int64]hooks.View{}, round: newRound(0), released: map[int]bool{}, stage: map[int]string{}, stats: map[string]int{}}
	cl := newClusterWith(t, func(cfg *zk.Config) {
		id := cfg.ID
		cfg.TestHooks = &hooks.Hooks{Attach: func(v hooks.View) {
			w.vmu.Lock()
			w.views[id] = v
			w.vmu.Unlock()
		}}
	})
	w.faultWorkers = &faultWorkers{cl: cl, sessions: map[int]*zk.Session{}, net: make(chan struct{}, 1)}
	ctx, stop := context.WithCancel(t.Context())
	ctlCtx, ctlStop := context.WithCancel(ctx)
	var wg, ctl sync.WaitGroup
	for i := range bfWaiters {
		wg.Go(func() { w.waiter(ctx, i) })
	}
	ctl.Go(func() { w.control(ctlCtx, rand.New(rand.NewPCG(seed, 14))) })
	for i := range bfMembers {
		wg.Go(func() { w.member(ctx, bfFirstM+i) })
	}
	faults := w.faults(ctx, rng, steps, bfFirstM+bfMembers)
	w.cl.net.Heal()
	ctlStop()
	ctl.Wait()
	w.removeLast(t)
	w.cl.waitFor("every waiter released by the last Remove", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.released) == bfWaiters
	})
	w.mu.Lock()
	healed := w.round.n
	w.mu.Unlock()
	w.waitRounds(t, healed+2)
	stop()
	wg.Wait()
	h := w.history(t)
	w.check(t, h)
	t.Logf("seed %d: faults %v; %d releases, %d enters, %d leaves checked over %d txns, %d rounds; %v",
		seed, faults, len(w.reads), len(w.enters), len(w.leaves), len(h.zxid), w.round.n, w.stats)
}

// waitRounds waits until round n starts, failing with what each member
// does after a minute.
func (w *barrierFaults) waitRounds(t *testing.T, n int) {
	for start := time.Now(); ; time.Sleep(tickTime) {
		w.mu.Lock()
		r := *w.round
		stage := fmt.Sprint(w.stage)
		w.mu.Unlock()
		if r.n >= n {
			return
		}
		if time.Since(start) > time.Minute {
			s := must[*zk.Session](t)(w.cl.ens[w.cl.leader()].NewSession(t.Context()))
			kids, _, err := s.Children(t.Context(), bfDir)
			for _, k := range kids {
				_, st, err := s.Exists(t.Context(), bfDir+"/"+k)
				t.Logf("%s: owner %#x czxid %#x (%v)", k, st.EphemeralOwner, st.Czxid, err)
			}
			w.faultWorkers.mu.Lock()
			for i, s := range w.sessions {
				t.Logf("worker %d: session %#x %v", i, s.ID(), s.State())
			}
			w.faultWorkers.mu.Unlock()
			t.Fatalf("after a minute: round %d (%d in, %d out, nodes %v) does not end; members %s; %s holds %v (%v)",
				r.n, r.live, r.left, r.nodes, stage, bfDir, kids, err)
		}
	}
}

func (w *barrierFaults) at(i int, what string, r *dbRound) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stage[i] = fmt.Sprint(what, " ", r.n)
}

func (w *barrierFaults) note(what string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stats[what+": "+errClass(err)]++
}

// applied returns the zxid peer (an index) has applied.
func (w *barrierFaults) applied(peer int) int64 {
	w.vmu.Lock()
	v := w.views[int64(peer+1)]
	w.vmu.Unlock()
	z, _ := v.Applied()
	return z
}

// session is a worker's session and Client, on peer.
type session struct {
	s    *zk.Session
	c    *Client
	peer int
}

// close closes the session, trying again while its peer does not serve: a
// session whose Close failed lives on, and its member node with it, which
// would hold the double barrier's members in Leave for good.
func (s *session) close() {
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	s.c.Close(cctx)
	cancel()
	for {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := s.s.Close(cctx)
		cancel()
		if err == nil || s.s.State() == zk.StateExpired || s.s.State() == zk.StateClosed {
			return
		}
		time.Sleep(tickTime)
	}
}

// connect opens a session for worker i on the first peer from *peer on
// that serves, with its Client on wrap(session) (nil: the session), and
// records it for expiry. It returns nil once ctx ends.
func (w *barrierFaults) connect(ctx context.Context, i int, peer *int, wrap func(*zk.Session, int) Conn) *session {
	for ; ctx.Err() == nil; *peer++ {
		time.Sleep(tickTime) // a peer that refuses at once must not spin
		p := *peer % 3
		s, err := w.open(ctx, w.cl.ens[p])
		if err != nil {
			continue
		}
		var conn Conn = s
		if wrap != nil {
			conn = wrap(s, p)
		}
		c, err := NewClient(conn)
		if err != nil {
			s.Close(context.Background())
			continue
		}
		w.faultWorkers.mu.Lock()
		w.sessions[i] = s
		w.faultWorkers.mu.Unlock()
		return &session{s: s, c: c, peer: p}
	}
	return nil
}

// boundConn bounds the zxid of each read that finds the barrier missing
// between its peer's applied zxid before and after it.
type boundConn struct {
	Conn
	w      *barrierFaults
	peer   int
	lo, hi int64 // of the last such read (-1: none since reset)
}

func (b *boundConn) ExistsW(ctx context.Context, path string) (bool, zk.Stat, <-chan zk.Event, error) {
	lo := b.w.applied(b.peer)
	ok, st, ch, err := b.Conn.ExistsW(ctx, path)
	if path == bfGate && err == nil && !ok {
		b.lo, b.hi = lo, b.w.applied(b.peer)
	}
	return ok, st, ch, err
}

// waiter waits on the barrier again and again, recording the bounds of
// the read behind each release.
func (w *barrierFaults) waiter(ctx context.Context, i int) {
	for peer := i; ctx.Err() == nil; {
		var bc *boundConn
		s := w.connect(ctx, i, &peer, func(s *zk.Session, p int) Conn {
			bc = &boundConn{Conn: s, w: w, peer: p}
			return bc
		})
		if s == nil {
			return
		}
		b := must[*DistributedBarrier](w.cl.t)(NewDistributedBarrier(s.c, bfGate))
		for ctx.Err() == nil && s.c.Err() == nil {
			bc.lo, bc.hi = -1, -1
			err := b.Wait(ctx)
			if err == nil {
				w.mu.Lock()
				w.reads = append(w.reads, gateRead{waiter: int64(i), lo: bc.lo, hi: bc.hi})
				if w.lastRm {
					w.released[i] = true
				}
				w.mu.Unlock()
			} else {
				w.note("wait", err)
			}
			time.Sleep(tickTime) // pace (fake time): faults come between operations
		}
		s.close()
	}
}

// control sets and removes the barrier, a few TickTimes apart.
func (w *barrierFaults) control(ctx context.Context, rng *rand.Rand) {
	for peer := 0; ctx.Err() == nil; {
		s := w.connect(ctx, bfCtl, &peer, nil)
		if s == nil {
			return
		}
		b := must[*DistributedBarrier](w.cl.t)(NewDistributedBarrier(s.c, bfGate))
		for ctx.Err() == nil && s.c.Err() == nil {
			octx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := b.Set(octx); err != nil {
				w.note("set", err)
			}
			time.Sleep(time.Duration(1+rng.IntN(20)) * tickTime)
			if err := b.Remove(octx); err != nil {
				w.note("remove", err)
			}
			cancel()
			time.Sleep(time.Duration(1+rng.IntN(10)) * tickTime)
		}
		s.close()
	}
}

// removeLast removes the barrier once the faults healed and the controller
// stopped: every waiter must then be released.
func (w *barrierFaults) removeLast(t *testing.T) {
	var s *zk.Session
	w.cl.waitFor("a session", func() bool {
		var err error
		s, err = w.cl.ens[w.cl.leader()].NewSession(t.Context())
		return err == nil
	})
	c := must[*Client](t)(NewClient(s))
	defer c.Close(context.Background())
	b := must[*DistributedBarrier](t)(NewDistributedBarrier(c, bfGate))
	if err := b.Remove(t.Context()); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.lastRm = true
	w.mu.Unlock()
}

// member takes part in round after round of the double barrier.
func (w *barrierFaults) member(ctx context.Context, i int) {
	m := &dbMember{w: w, i: i, peer: i}
	defer m.drop()
	w.mu.Lock()
	r := w.round
	w.mu.Unlock()
	for ctx.Err() == nil {
		w.at(i, "enter", r)
		d := m.enter(ctx, r)
		if d == nil {
			return
		}
		w.at(i, "leave", r)
		m.leave(ctx, r, d)
		w.at(i, "done", r)
		select {
		case <-r.finished:
			r = r.next
			time.Sleep(tickTime) // pace (fake time): faults come between rounds
		case <-ctx.Done():
			return
		}
	}
}

type dbMember struct {
	w    *barrierFaults
	i    int
	peer int
	s    *session
}

// client returns the member's Client, on a new session if the last ended.
func (m *dbMember) client(ctx context.Context) *Client {
	if m.s != nil && m.s.c.Err() != nil {
		m.drop()
	}
	if m.s == nil {
		m.s = m.w.connect(ctx, m.i, &m.peer, nil)
	}
	if m.s == nil {
		return nil
	}
	return m.s.c
}

func (m *dbMember) drop() {
	if m.s != nil {
		m.s.close()
		m.s = nil
	}
}

// enter enters round r; if the membership may be lost before the round is
// complete, it drops the session and enters again. It returns nil once ctx
// ends.
func (m *dbMember) enter(ctx context.Context, r *dbRound) *DistributedDoubleBarrier {
	w := m.w
	for ctx.Err() == nil {
		c := m.client(ctx)
		if c == nil {
			return nil
		}
		d := must[*DistributedDoubleBarrier](w.cl.t)(NewDistributedDoubleBarrier(c, bfDir, bfMembers))
		if err := d.Enter(ctx); err != nil {
			w.note("enter", err)
			time.Sleep(tickTime)
			continue
		}
		hi := w.applied(m.s.peer)
		d.mu.Lock()
		node := d.node
		d.mu.Unlock()
		w.mu.Lock()
		w.enters = append(w.enters, dbEnter{node: node, hi: hi})
		r.nodes = append(r.nodes, node)
		if r.live++; r.live == bfMembers {
			close(r.leave)
		}
		w.mu.Unlock()
		select {
		case <-r.leave:
			return d
		case <-d.Context().Done():
		case <-ctx.Done():
			return nil
		}
		w.mu.Lock()
		complete := r.live == bfMembers
		if !complete {
			r.live--
		}
		w.mu.Unlock()
		if complete {
			return d
		}
		w.note("membership", context.Cause(d.Context()))
		m.drop() // its node goes with the session (closed, or expired)
	}
	return nil
}

// leave leaves round r; the last member out starts the next round.
func (m *dbMember) leave(ctx context.Context, r *dbRound, d *DistributedDoubleBarrier) {
	w := m.w
	err := d.Leave(ctx)
	hi := w.applied(m.s.peer)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil {
		w.leaves = append(w.leaves, dbLeave{round: r, hi: hi})
	} else {
		w.stats["leave: "+errClass(err)]++
	}
	if r.left++; r.left == bfMembers {
		r.next = newRound(r.n + 1)
		w.round = r.next
		close(r.finished)
	}
}

// bfHistory is the committed history of the barriers' nodes: the state
// after each committed txn, and each member node's life.
type bfHistory struct {
	zxid  []int64 // of each committed txn
	gate  []bool  // the barrier's node exists after it
	count []int   // member nodes after it
	born  map[string]int64
	died  map[string]int64
}

// at returns the index of the state at zxid z (-1: before the first txn).
func (h *bfHistory) at(z int64) int {
	return sort.Search(len(h.zxid), func(k int) bool { return h.zxid[k] > z }) - 1
}

// history replays the leader's log, which holds all of it, on a tree of
// the test's own.
func (w *barrierFaults) history(t *testing.T) *bfHistory {
	w.vmu.Lock()
	view := w.views[int64(w.cl.leader()+1)]
	w.vmu.Unlock()
	if view.LogBase() != 0 {
		t.Fatal("the leader's log does not start at the beginning")
	}
	applied, _ := view.Applied()
	ref, err := znode.Open(znode.Options{FS: vfs.NewMem(), Dir: "/ref"})
	chMust(t, err)
	defer ref.Close()
	h := &bfHistory{born: map[string]int64{}, died: map[string]int64{}}
	prev := map[string]bool{}
	for at := int64(0); at < applied; {
		ents, err := view.LogEntries(at, 1<<20)
		chMust(t, err)
		if len(ents) == 0 {
			t.Fatalf("the log ends at %#x, before the applied %#x", at, applied)
		}
		for _, le := range ents {
			if le.Zxid > applied {
				break
			}
			applyRef(t, ref, le)
			prev = h.record(t, ref, le.Zxid, prev)
		}
		at = ents[len(ents)-1].Zxid
	}
	return h
}

// record notes the state of ref after the txn at zxid z.
func (h *bfHistory) record(t *testing.T, ref *znode.Tree, z int64, prev map[string]bool) map[string]bool {
	_, gerr := ref.Get(bfGate)
	if gerr != nil && !errors.Is(gerr, zk.ErrNoNode) {
		t.Fatal(gerr)
	}
	kids, _, err := ref.Children(bfDir)
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		t.Fatal(err)
	}
	cur := map[string]bool{}
	for _, k := range kids {
		if k != readyNode {
			cur[bfDir+"/"+k] = true
		}
	}
	for k := range cur {
		if !prev[k] {
			h.born[k] = z
		}
	}
	for k := range prev {
		if !cur[k] {
			h.died[k] = z
		}
	}
	h.zxid = append(h.zxid, z)
	h.gate = append(h.gate, gerr == nil)
	h.count = append(h.count, len(cur))
	return cur
}

// check checks every release, enter and leave against the history.
func (w *barrierFaults) check(t *testing.T, h *bfHistory) {
	for _, r := range w.reads {
		if r.hi < 0 {
			t.Errorf("waiter %d released without reading the barrier missing", r.waiter)
			continue
		}
		missing := false
		for k := h.at(r.lo); k <= h.at(r.hi) && !missing; k++ {
			missing = k < 0 || !h.gate[k]
		}
		if !missing {
			t.Errorf("waiter %d released by a read in [%#x, %#x], where the barrier was set throughout", r.waiter, r.lo, r.hi)
		}
	}
	for _, e := range w.enters {
		born, ok := h.born[e.node]
		if !ok {
			t.Errorf("%s entered, but its node was never committed", e.node)
			continue
		}
		died, gone := h.died[e.node]
		full := false
		for k := h.at(born); k <= h.at(e.hi) && !full; k++ {
			full = h.count[k] >= bfMembers && (!gone || h.zxid[k] < died)
		}
		if !full {
			t.Errorf("%s (created at %#x) entered by %#x, with fewer than %d members in all along", e.node, born, e.hi, bfMembers)
		}
	}
	for _, l := range w.leaves {
		for _, node := range l.round.nodes {
			if died, ok := h.died[node]; !ok || died > l.hi {
				t.Errorf("round %d: a member left by %#x while %s was still in (deleted at %#x, %v)", l.round.n, l.hi, node, died, ok)
			}
		}
	}
}
