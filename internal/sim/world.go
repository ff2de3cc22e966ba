package sim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/zab/transport"
)

// Options configures a run. Zero fields take defaults derived from the seed,
// so that a seed alone names a run.
type Options struct {
	Seed      uint64
	Voters    int // 3 or 5; default: drawn from the seed
	Observers int // default: drawn from the seed (0 or 1); -1 means none
	Ticks     int // simulated ticks of the fault phase (one tick is TickTime/10)
	Clients   int // default: 2 per peer
	SnapCount int // the peers' SnapCount; default: drawn from the seed
	NoFaults  bool
	// Hierarchical gives the ensemble a hierarchical quorum drawn from the
	// seed (hierarchy.go): 2 or 3 groups, weights 0 to 3. Its voters
	// default to 5 or 6.
	Hierarchical bool
	// Trace, if set, receives every line of the trace as it happens.
	Trace io.Writer
	// Logger receives the peers' logs (default: discarded).
	Logger *slog.Logger
	// Sabotage turns on a deliberately broken behaviour (see Sabotage), on
	// SabotagePeer only (0: every peer) where it concerns one peer.
	Sabotage     Sabotage
	SabotagePeer int64
	// ReadOnly turns the peers' read-only mode on (1) or off (-1); 0 draws
	// it from the seed (readonly.go).
	ReadOnly int
	// LocalSessions turns the peers' local sessions on (1; 2: upgrading
	// too) or off (-1); 0 draws them from the seed (localsess.go).
	LocalSessions int
	// Broken starts the sabotaged peers (as Sabotage says) on a build
	// with deliberately wrong behaviours (hooks.Broken).
	Broken hooks.Broken
	// Reconfig adds membership changes to the faults (reconfig.go).
	Reconfig bool
	// Policy, with Reconfig, runs every peer with zk.MembershipPolicy
	// whose DownTicks is Policy (0: off): the leader's own changes are
	// checked too (matchReconfigs).
	Policy int64
	// OneVoter, with Reconfig, runs every peer with
	// zk.Config.StandaloneDisabled (zoo.cfg standaloneEnabled=false), and
	// the admin client also shrinks the participants to one at random,
	// the leader among those removed or not, and may replace a lone
	// participant by a joiner.
	OneVoter bool
}

// TickTime is the peers' TickTime: ZooKeeper's default, so that the time
// scales (session timeouts, container reaping) are ZooKeeper's. One tick of
// the simulation is a tenth of it.
const TickTime = 2 * time.Second

// tickMs is one simulated tick in milliseconds.
const tickMs = int64(TickTime/time.Millisecond) / zk.TicksPerTickTime

// World is one simulated ensemble: its peers, their disks, the network, the
// clock, the clients, and everything the checks need. One goroutine (the
// caller of Run, or a scenario test) drives it; hooks run on peer
// goroutines while that goroutine waits for them.
type World struct {
	opts    Options
	rng     *rand.Rand
	net     *transport.Network
	servers []zk.Server
	peers   []*simPeer
	byID    map[int64]*simPeer
	voters  []int64
	groups  [][]int64       // Options.Hierarchical: the quorum's groups
	weights map[int64]int64 // and weights

	now   int64        // simulated ticks
	clock atomic.Int64 // simulated ms since the origin, for Config.Clock
	ts    int64        // event counter: call and return times of the histories

	trace *tracer
	ref   *reference
	fails []string
	stats Stats

	clients     []*client
	outstanding []*opRecord
	history     []*opRecord
	handles     []handleRec
	abort       bool // a call got stuck: the run cannot go on
	nextOp      int
	dumper      stackDumper

	faults    *faultState
	leaders   map[int64]int64 // epoch -> the peer that served as its leader
	snapCnt   int
	clones    uint64
	hookMu    sync.Mutex // guards what hooks touch from peer goroutines
	callers   sync.Map   // goroutine id -> the *opRecord it runs (turn.go)
	outOfTurn []string   // calls that queued a request outside their turn (checkQueued; under hookMu)
	ctx       context.Context
	cancel    context.CancelFunc
	heal      int64 // tick at which the fault phase ended
	ready     bool  // the workload's roots exist
	quick     bool  // tests: a short quiet phase, no session-expiry check
	stopping  bool  // the run is over: hooks stop injecting faults

	sabotageDone bool             // a one-shot sabotage happened
	sites        map[string]int64 // if not nil: the call sites of log operations seen, and a peer that made each
	sabotageHeld atomic.Bool      // a scenario holds the sabotage back for now
	sabotagePeer atomic.Int64     // Options.SabotagePeer (a scenario may move it)

	ro roWorld // read-only mode and its checks (readonly.go)
	ls lsWorld // local sessions and their checks (localsess.go)
	rc rcState // membership changes (reconfig.go)
}

// Stats counts what a run did.
type Stats struct {
	Ops          int
	OpsOK        int
	OpsUnknown   int
	Committed    int
	Delivered    int
	Crashes      int
	Restarts     int
	HookCrashes  map[string]int
	Faults       map[string]int
	LinOps       int
	LinTime      time.Duration
	LinMaxKey    time.Duration
	SnapInstalls int
	KeptApplies  int64   // txns a leader applied from its pipeline's kept effects
	BadOps       int     // bad requests sent (badinput.go)
	ReadOnly     ROStats // read-only mode (readonly.go)
	Local        LSStats // local sessions (localsess.go)
}

// origin is the simulated wall clock at tick 0.
var origin = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// newWorld builds the world for opts, with every peer started.
func newWorld(opts Options) (*World, error) {
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed5eed5eed5eed))
	opts = withDefaults(opts, rng)
	w := &World{
		opts: opts, rng: rng, byID: map[int64]*simPeer{}, trace: newTracer(opts.Trace),
		leaders: map[int64]int64{}, stats: Stats{HookCrashes: map[string]int{}, Faults: map[string]int{}},
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.sabotagePeer.Store(opts.SabotagePeer)
	w.snapCnt = 10 + rng.IntN(60)
	if opts.SnapCount > 0 {
		w.snapCnt = opts.SnapCount
	}
	total := opts.Voters + opts.Observers
	for i := 1; i <= total; i++ {
		id := int64(i)
		obs := i > opts.Voters
		w.servers = append(w.servers, zk.Server{ID: id, Host: "sim", QuorumPort: 2000 + i, ElectionPort: 3000 + i, Observer: obs})
		p := &simPeer{id: id, observer: obs, fs: NewMemFS(), w: w}
		w.peers = append(w.peers, p)
		w.byID[id] = p
		if !obs {
			w.voters = append(w.voters, id)
		}
	}
	w.net = transport.NewNetwork(transport.NetworkOptions{Peers: w.allIDs(), Manual: true, EventBuffer: 16})
	w.initReconfig()
	ref, err := newReference()
	if err != nil {
		return nil, err
	}
	w.ref = ref
	w.faults = newFaultState(w)
	w.initReadOnly()
	w.initLocalSessions()
	w.trace.line(0, "world seed=%d voters=%d observers=%d clients=%d ticks=%d snapcount=%d reconfig=%v", opts.Seed,
		opts.Voters, opts.Observers, opts.Clients, opts.Ticks, w.snapCnt, opts.Reconfig)
	if opts.Hierarchical {
		w.groups, w.weights = drawHierarchy(opts.Seed, w.voters)
		w.trace.line(0, "quorum groups=%v weights=%v", w.groups, sortedWeights(w.weights))
	}
	for _, p := range w.peers {
		if p.dormant {
			continue
		}
		if err := w.start(p); err != nil {
			w.close()
			return nil, err
		}
	}
	for i := 0; i < opts.Clients; i++ {
		w.clients = append(w.clients, &client{id: i, w: w})
	}
	return w, nil
}

func withDefaults(o Options, rng *rand.Rand) Options {
	voters, observers := 3, 0
	if rng.IntN(3) == 0 {
		voters = 5
	}
	if rng.IntN(3) == 0 {
		observers = 1
	}
	if o.Hierarchical {
		voters = map[int]int{3: 6, 5: 5}[voters]
	}
	if o.Voters == 0 {
		o.Voters = voters
	}
	switch {
	case o.Observers == 0:
		o.Observers = observers
	case o.Observers < 0:
		o.Observers = 0
	}
	if o.Ticks == 0 {
		o.Ticks = 1500
	}
	if o.Clients == 0 {
		o.Clients = 2 * (o.Voters + o.Observers)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// cloneRNG returns the source of a crash clone's choices: its own stream,
// because a clone also visits the tree's Pebble files, whose number and
// sizes depend on Pebble's background work (never on what a read returns).
// The log's files come first in name order, so its choices are the same
// every time.
func (w *World) cloneRNG() *rand.Rand {
	w.clones++
	return rand.New(rand.NewPCG(w.opts.Seed, 0xc10e<<32|w.clones))
}

// stamp returns the next event time of the histories.
func (w *World) stamp() int64 {
	w.ts++
	return w.ts
}

// failf records a check failure; the run goes on so that the report shows
// everything that went wrong, but the result fails.
func (w *World) failf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(w.fails) < 50 {
		w.fails = append(w.fails, fmt.Sprintf("tick %d: %s", w.now, msg))
	}
	w.trace.line(w.now, "FAIL %s", msg)
}

// live returns the peers that run (not crashed), in id order.
func (w *World) live() []*simPeer {
	var out []*simPeer
	for _, p := range w.peers {
		if p.ens != nil {
			out = append(out, p)
		}
	}
	return out
}

// leader returns the peer that serves as leader, or nil.
func (w *World) leader() *simPeer {
	for _, p := range w.live() {
		if st := p.ens.Status(); st.Mode == zk.ModeLeading && st.Serving {
			return p
		}
	}
	return nil
}

// shuffled returns the peers in an order drawn from the seed.
func (w *World) shuffled(ps []*simPeer) []*simPeer {
	out := slices.Clone(ps)
	w.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// close stops everything: peers, clients' goroutines, the network.
func (w *World) close() {
	w.stopping = true
	w.cancel()
	for _, p := range w.peers {
		p.release()
		if p.ens != nil {
			p.ens.Close()
			p.ens = nil
		}
	}
	w.settle()
	w.net.Close()
	w.ref.close()
}
