package recipesim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing/synctest"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/embedzk/zk/internal/crashmem"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/zab/transport"
)

// Options configures a run; a seed alone names one.
type Options struct {
	Seed     uint64
	Ticks    int // ticks of the fault phase (default 1500)
	NoFaults bool
	Sabotage Sabotage
	// Trace, if set, receives every line of the trace.
	Trace io.Writer
}

// TickTime is the peers' TickTime (ZooKeeper's default): session timeouts
// and container reaping keep ZooKeeper's scales.
const TickTime = 2 * time.Second

// tick is one step of the world: a tenth of TickTime, and a microsecond,
// so that the recipes' timers (set at steps, for fractions of session
// timeouts) do not end on the steps' instants; actors' timers end between
// steps too (see holder.dur). Goroutines that wake at one instant would
// otherwise race, and a seed would not give one run.
const tick = TickTime/zk.TicksPerTickTime + time.Microsecond

// peer is one member, across its incarnations.
type peer struct {
	id        int64
	fs        *crashmem.FS
	ens       *zk.Ensemble // nil while down
	inc       int
	restartAt int64
	frozen    int64       // paused until this tick (0: running)
	inspector *zk.Session // a session for the checks' reads
	inspState chan struct{}
	// checked, checkedEnds: the applied zxid and number of ended sessions
	// of the last node check (nothing to check again until they change).
	checked     int64
	checkedEnds int
}

// World is one run: peers, network, actors, checks. The driver goroutine
// (Run's caller) owns it; actors touch only what mu guards.
type World struct {
	opts    Options
	rng     *rand.Rand
	ctx     context.Context
	cancel  context.CancelFunc
	net     *transport.Network
	servers []zk.Server
	peers   []*peer
	now     int64

	mu       sync.Mutex // guards what actors touch: gates, log, holders, ended
	gates    []*gateReq
	log      []acquisition
	holders  []*holder
	ended    map[int64]int64 // session -> applied zxid at which its end was seen
	stopping bool
	finish   chan struct{} // closed when actors may close their sessions
	sessions []*session    // actors' sessions not known to have ended
	tokens   map[string]*tokenState
	actorsWG sync.WaitGroup
	actorsUp int
	actors   []*actor

	held     map[transport.Link]int64 // silent links, until tick
	isolated map[int64]int64          // isolated peers, until tick
	heal     int64

	trace *tracer
	fails []string
	stats Stats
}

func newWorld(opts Options) *World {
	if opts.Ticks == 0 {
		opts.Ticks = 1500
	}
	w := &World{
		opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x7ec1be5)),
		ended: map[int64]int64{}, held: map[transport.Link]int64{}, isolated: map[int64]int64{},
		finish: make(chan struct{}), trace: newTracer(opts.Trace), stats: newStats(),
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	ids := []int64{1, 2, 3}
	for _, id := range ids {
		w.servers = append(w.servers, zk.Server{ID: id, Host: "sim", QuorumPort: 2000 + int(id), ElectionPort: 3000 + int(id)})
		w.peers = append(w.peers, &peer{id: id, fs: crashmem.New()})
	}
	w.net = transport.NewNetwork(transport.NetworkOptions{Peers: ids, Manual: true, EventBuffer: 1 << 16})
	for _, p := range w.peers {
		w.start(p)
	}
	return w
}

// failf records a failed check; the run goes on.
func (w *World) failf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(w.fails) < 50 {
		w.fails = append(w.fails, fmt.Sprintf("tick %d: %s", w.now, msg))
	}
	w.trace.line(w.now, "FAIL %s", msg)
}

func (w *World) config(p *peer) zk.Config {
	return zk.Config{
		ID: p.id, TickTime: TickTime, DataDir: "/zk", FS: p.fs, Servers: w.servers, ManualClock: true,
		Rand:      &seeded{rand.New(rand.NewPCG(w.opts.Seed, uint64(p.id)<<32|uint64(p.inc)))},
		SnapCount: 300, Logger: slog.New(slog.DiscardHandler),
		TestHooks: &hooks.Hooks{Stepped: true},
		Transport: w.net.Restart(p.id),
	}
}

// seeded is a deterministic io.Reader for Config.Rand.
type seeded struct{ r *rand.Rand }

func (s *seeded) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(s.r.Uint32())
	}
	return len(b), nil
}

// start starts p's next incarnation on its disk.
func (w *World) start(p *peer) {
	p.inc++
	ens, err := zk.NewEnsemble(w.config(p))
	if err != nil {
		w.failf("peer %d (incarnation %d) does not start: %v", p.id, p.inc, err)
		return
	}
	synctest.Wait() // the loop's first turn
	w.mu.Lock()
	p.ens, p.restartAt = ens, 0
	w.mu.Unlock()
	p.inspState = make(chan struct{})
	w.trace.line(w.now, "start peer=%d inc=%d", p.id, p.inc)
	go w.inspect(p, ens, p.inspState)
	synctest.Wait()
}

// crash stops p as a crash would: its disk keeps what it synced.
func (w *World) crash(p *peer, downFor int64) {
	clone := p.fs.CrashClone(vfs.CrashCloneCfg{})
	w.net.Crash(p.id)
	close(p.inspState)
	ens := p.ens
	w.mu.Lock()
	p.ens, p.inspector = nil, nil
	w.mu.Unlock()
	ens.Close()
	synctest.Wait() // what the crash woke runs until it blocks
	p.fs, p.frozen = clone, 0
	p.restartAt = w.now + downFor
	w.net.Resume(p.id)
	w.trace.line(w.now, "crash peer=%d until=%d", p.id, p.restartAt)
}

// inspect keeps a session on ens for the checks' reads (its creation
// passes the gate like every write).
func (w *World) inspect(p *peer, ens *zk.Ensemble, gone chan struct{}) {
	for {
		if !w.sleepUntil(gone, time.Duration(p.id)*53, func() bool { return ens.Status().Serving }) {
			return
		}
		if !w.gate(gone, fmt.Sprintf("inspector/%d", p.id)) || !ens.Status().Serving {
			continue
		}
		s, err := ens.NewSession(w.ctx, zk.WithSessionTimeout(20*TickTime))
		if err != nil {
			continue
		}
		w.mu.Lock()
		p.inspector = s
		w.mu.Unlock()
		states := s.States()
		for {
			select {
			case _, ok := <-states:
				if ok {
					continue
				}
			case <-gone:
				return
			}
			break
		}
		w.mu.Lock()
		p.inspector = nil
		w.mu.Unlock()
	}
}

// sleepUntil sleeps a tick (and offset) at a time until cond holds;
// false if gone.
func (w *World) sleepUntil(gone <-chan struct{}, offset time.Duration, cond func() bool) bool {
	for !cond() {
		select {
		case <-gone:
			return false
		case <-w.ctx.Done():
			return false
		case <-time.After(tick + offset):
		}
	}
	return true
}

// ensOf returns p's current incarnation (nil while down), for actors.
func (w *World) ensOf(p *peer) *zk.Ensemble {
	w.mu.Lock()
	defer w.mu.Unlock()
	return p.ens
}

// live returns the running peers.
func (w *World) live() []*peer {
	var out []*peer
	for _, p := range w.peers {
		if p.ens != nil {
			out = append(out, p)
		}
	}
	return out
}

// running returns the running peers that are not paused.
func (w *World) running() []*peer {
	return slices.DeleteFunc(w.live(), func(p *peer) bool { return p.frozen != 0 })
}

// leader returns the serving leader, or nil.
func (w *World) leader() *peer {
	for _, p := range w.running() {
		if st := p.ens.Status(); st.Mode == zk.ModeLeading && st.Serving {
			return p
		}
	}
	return nil
}

// settle lets everything the last action allows happen: the gated calls
// (one at a time, in order), the frames (but those of held links), the
// peers' handling of both, until nothing moves. Peers act one at a time,
// in an order drawn from the seed, and what each wakes runs before the
// next one acts: a client may hear of a change before another peer
// applies it, as over a real network.
func (w *World) settle() {
	for round := 0; ; round++ {
		if round > 100000 {
			w.failf("the world does not settle")
			return
		}
		w.releaseGates()
		n := w.deliver()
		run := w.running()
		w.rng.Shuffle(len(run), func(i, j int) { run[i], run[j] = run[j], run[i] })
		for _, p := range run {
			if err := p.ens.Barrier(w.ctx); err != nil {
				w.failf("barrier on %d: %v", p.id, err)
			}
			w.releaseGates()
		}
		if n == 0 && !w.gatesPending() && w.deliverable() == 0 {
			return
		}
	}
}

// releaseGates lets the pending gated calls go, one at a time in key
// order, each running until it blocks before the next goes.
func (w *World) releaseGates() {
	for {
		synctest.Wait()
		g := w.nextGate()
		if g == nil {
			return
		}
		w.trace.line(w.now, "gate %s", g.key)
		close(g.pass)
	}
}

// deliver delivers every pending frame but those of held links.
func (w *World) deliver() int {
	n := 0
	for {
		batch := w.pending()
		if len(batch) == 0 {
			return n
		}
		for _, p := range batch {
			if w.net.Deliver(p) == nil {
				n++
			}
		}
	}
}

func (w *World) pending() []transport.Pending {
	var out []transport.Pending
	for _, p := range w.net.Pending() {
		if _, ok := w.held[transport.Link{From: p.From, To: p.To}]; !ok {
			out = append(out, p)
		}
	}
	return out
}

func (w *World) deliverable() int { return len(w.pending()) }

// step runs one tick of the world.
func (w *World) step(faults bool) {
	// What the clock's move woke (actors' timers end on tick boundaries)
	// runs until it blocks before the driver acts.
	w.settle()
	w.restartDue()
	if faults {
		w.faultStep()
	}
	w.expireFaults()
	w.settle()
	for _, p := range w.running() {
		if err := p.ens.Tick(w.ctx); err != nil {
			w.failf("tick on %d: %v", p.id, err)
		}
		synctest.Wait()
	}
	w.settle()
	w.observeEnds()
	w.check()
	time.Sleep(tick)
	w.mu.Lock()
	w.now++
	w.mu.Unlock()
}

// close stops everything; the bubble's goroutines all end.
func (w *World) close() {
	w.cancel()
	for _, p := range w.peers {
		if p.ens != nil {
			close(p.inspState)
			p.ens.Close()
			w.mu.Lock()
			p.ens = nil
			w.mu.Unlock()
		}
	}
	w.net.Close()
	synctest.Wait()
}
