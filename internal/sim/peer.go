package sim

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync/atomic"
	"time"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/zab/transport"
)

// simPeer is one peer of the world, across its incarnations.
type simPeer struct {
	w        *World
	id       int64
	observer bool
	ens      *zk.Ensemble // nil while down
	view     hooks.View   // the view inside ens (guarded by World.hookMu)
	ready    bool         // hooks and listeners act (guarded by World.hookMu)
	tr       *simTransport
	fs       *MemFS // the disk of the current incarnation
	inc      int    // incarnation (starts at 1)

	restartAt int64 // while down: the tick it comes back
	paused    bool  // a stopped process: no ticks, no deliveries
	slowUntil int64 // clock skew: ticks are skipped until then
	ticked    int64 // Ticks the world gave this peer, over all its incarnations (localexpiry.go also compares incarnations)

	// A stalled Barrier or Tick (slow disk): busy is its result channel,
	// stallC is signalled by the file-system hook when it blocks, and
	// releaseC, when closed, lets the stalled operation go on.
	busy      chan error
	stallC    chan struct{}
	releaseC  chan struct{}
	stallEnds int64

	// crashDisk is set by a hook (on the peer's goroutine) when the peer
	// crashed: the disk the crash leaves. The world kills the peer once
	// the Barrier or Tick returns.
	crashDisk *MemFS
	crashWhy  string
	diskDead  bool // the file-system hook fails every log operation (after a crash point)

	plan        crashPlan
	fsPlan      fsPlan
	lastApplied int64
	lastDigest  uint64
	claim       atomic.Int64 // highest zxid this incarnation claimed durable in an ack it sent
	prevClaim   int64        // the previous incarnation's
	// newLeader is the epoch and zxid of the last NEWLEADER the peer got
	// (cleared by a TRUNC or SNAP), startEpoch its durable current epoch
	// when its incarnation started: if a crash leaves that NEWLEADER's
	// epoch durable as a new current epoch, the history it ends must be
	// durable too.
	newLeader   [2]int64
	startEpoch  int64
	tornKeep    int                  // a torn write happened: the crash keeps this percent
	inbox       map[zab.MsgType]bool // message types delivered since the last tick
	snaps       int                  // snapshots installed from a leader
	snapPending bool                 // one was installed and no entry applied since
	keptSeen    int64                // this incarnation's kept applies counted so far
	lastStatus  string
	dormant     bool        // a spare that has not joined (or was retired): not started (reconfig.go)
	servers     []zk.Server // a joiner's starting server list (nil: the world's)
	removedAt   int64       // tick it was first seen removed (reconfig.go)
	stalledAt   int64       // tick it was first seen removed with a pending add-back (reconfig.go)
	rejoin      bool        // retired with its disk kept: it comes back with zk.Config.Rejoin
}

// simTransport gives the peer the frames the world took from its endpoint:
// the world sees every frame (and may tamper with it) before the peer does.
type simTransport struct {
	p      *simPeer
	ep     *transport.Endpoint
	events chan transport.Event
}

func (t *simTransport) ID() int64 { return t.ep.ID() }

// Send notes what an acknowledgement claims durable as it is sent: a peer
// must never claim what it does not have, even in a frame a crash loses.
func (t *simTransport) Send(to int64, frame []byte) error {
	if m, err := zab.DecodeMessage(frame); err == nil {
		switch m.Type {
		case zab.MsgAck, zab.MsgDiffAck, zab.MsgAckEpoch:
			raiseClaim(&t.p.claim, m.Zxid)
		}
	}
	return t.ep.Send(to, frame)
}
func (t *simTransport) Events() <-chan transport.Event { return t.events }
func (t *simTransport) Disconnect(peer int64) error    { return t.ep.Disconnect(peer) }
func (t *simTransport) Close() error                   { return t.ep.Close() }

// seededReader is a deterministic io.Reader for Config.Rand.
type seededReader struct{ r *rand.Rand }

func (s *seededReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(s.r.Uint32())
	}
	return len(p), nil
}

// config is the peer's configuration for its current incarnation.
func (w *World) config(p *simPeer) zk.Config {
	cfg := zk.Config{
		ID: p.id, TickTime: TickTime, DataDir: "/zk", FS: p.fs, Servers: w.peerServers(p), Groups: w.groups, Weights: w.weights,
		ManualClock: true, Clock: w.clockNow,
		Rand:          &seededReader{rand.New(rand.NewPCG(w.opts.Seed, uint64(p.id)<<32|uint64(p.inc)))},
		SnapCount:     w.snapCnt,
		PurgeInterval: time.Nanosecond, // purge (and flush the tree) after every apply: see doc.go
		Logger:        w.opts.Logger.With("peer", p.id),
		TestHooks: &hooks.Hooks{Stepped: true, Func: w.hook, SegmentSize: 4 << 10, Broken: w.broken(p), Attach: func(v hooks.View) {
			w.hookMu.Lock()
			p.view, p.keptSeen = v, 0
			w.hookMu.Unlock()
		}},
		Listener:               zk.EventListener{StatusChanged: func(st zk.Status) { w.onStatus(p, st) }},
		Transport:              p.tr,
		ReadOnlyMode:           w.ro.on,
		LocalSessions:          w.ls.on,
		LocalSessionsUpgrading: w.ls.upgrading,
		ReconfigEnabled:        w.opts.Reconfig,
		StandaloneDisabled:     w.opts.OneVoter,
		Rejoin:                 p.rejoin,
	}
	if w.opts.Reconfig && w.opts.Policy > 0 {
		cfg.MembershipPolicy = &zk.MembershipPolicy{DownTicks: w.opts.Policy}
	}
	return cfg
}

// broken returns the wrong behaviours p's next incarnation runs with.
func (w *World) broken(p *simPeer) hooks.Broken {
	if w.sabotaged(p) {
		return w.opts.Broken
	}
	return 0
}

func (w *World) clockNow() time.Time {
	return origin.Add(time.Duration(w.clock.Load()) * time.Millisecond)
}

// start starts the peer's next incarnation on its disk.
func (w *World) start(p *simPeer) error {
	p.inc++
	p.tr = &simTransport{p: p, ep: w.net.Restart(p.id), events: make(chan transport.Event, 1<<16)}
	p.crashDisk, p.diskDead, p.tornKeep = nil, false, 0
	p.prevClaim = p.claim.Swap(0)
	p.plan, p.fsPlan = crashPlan{}, fsPlan{}
	p.fs.SetHook(func(op FSOp) *FSFault { return w.fsHook(p, op) })
	ens, err := zk.NewEnsemble(w.config(p))
	if err != nil {
		return fmt.Errorf("sim: peer %d (incarnation %d) does not start: %w", p.id, p.inc, err)
	}
	w.hookMu.Lock()
	p.ens = ens
	w.hookMu.Unlock()
	w.trace.line(w.now, "start peer=%d inc=%d", p.id, p.inc)
	// The loop's first turn runs concurrently with the code above: hooks and
	// listeners ignore it (p.ready is false), and this barrier waits for it.
	w.control(p, false)
	w.hookMu.Lock()
	p.ready = true
	w.hookMu.Unlock()
	z, d := p.view.Applied()
	w.firstTurnApplies(p, z)
	w.checkJump(p, z, d)
	return nil
}

// firstTurnApplies takes into the committed history what a peer that leads
// alone (one participant, Options.OneVoter) committed and applied in its
// loop's first turn, which the hooks ignore: the entries of its log after
// the history's end, up to the zxid z it applied, in order, as
// observeApply takes them. checkJump then compares its digest. Any other
// peer must never apply past the history there (checkJump says so).
func (w *World) firstTurnApplies(p *simPeer, z int64) {
	if !w.opts.OneVoter || p.ens.Status().Mode != zk.ModeLeading {
		return
	}
	if ids := voterIDs(p.ens.ClusterConfig().Servers); len(ids) != 1 || ids[0] != p.id {
		return
	}
	for w.ref.last < z {
		ents, err := p.view.LogEntries(w.ref.last, 1)
		if err != nil || len(ents) == 0 || ents[0].Zxid > z {
			w.failf("peer %d applied up to %#x in its first turn, but its log does not hold the entry after %#x (%v)", p.id, z, w.ref.last, err)
			return
		}
		if _, ok := w.extendRef(p, ents[0].Zxid, ents[0].Data); !ok {
			return
		}
		w.trace.line(w.now, "first turn peer=%d applied zxid=%#x", p.id, ents[0].Zxid)
	}
}

// control runs a Barrier (or a Tick) on p and waits for it, unless it
// stalls on a slow disk; then p is busy until the stall is released.
func (w *World) control(p *simPeer, tick bool) {
	if p.ens == nil || p.busy != nil || p.paused {
		return
	}
	done := make(chan error, 1)
	ens := p.ens
	p.stallC = make(chan struct{}, 1)
	go func() {
		if tick {
			done <- ens.Tick(w.ctx)
		} else {
			done <- ens.Barrier(w.ctx)
		}
	}()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, zk.ErrClosed) {
			w.failf("peer %d: control call: %v", p.id, err)
		}
		w.afterControl(p)
	case <-p.stallC:
		p.busy = done
		w.trace.line(w.now, "stall peer=%d until=%d", p.id, p.stallEnds)
	}
}

// unstall lets p's stalled operation finish.
func (w *World) unstall(p *simPeer) {
	if p.busy == nil {
		return
	}
	done := p.busy
	p.busy = nil
	p.release()
	select {
	case <-done:
	case <-p.stallC: // it stalled again: let that one go too
		p.release()
		<-done
	}
	w.trace.line(w.now, "unstall peer=%d", p.id)
	w.afterControl(p)
}

// release opens a stalled file-system operation of p, if any.
func (p *simPeer) release() {
	if p.releaseC != nil {
		close(p.releaseC)
		p.releaseC = nil
	}
}

// afterControl handles what a Barrier or Tick left: a crash to carry out,
// a failure, an applied zxid that jumped (a snapshot installed), status.
func (w *World) afterControl(p *simPeer) {
	if p.ens == nil {
		return
	}
	if p.crashDisk != nil {
		w.kill(p, p.crashDisk, p.crashWhy)
		return
	}
	st := p.ens.Status()
	if pl := &p.fsPlan; pl.fired {
		// An I/O error or a full disk: the peer must have stopped at once,
		// without sending anything after the failed operation.
		if st.Err == nil {
			w.failf("peer %d did not fail-stop after %s (%s)", p.id, pl.label, pl.firedOp)
		}
		if sent := w.sentBy(p.id); !maps.Equal(sent, pl.sentThen) {
			w.failf("peer %d sent frames after %s (before %v, after %v)", p.id, pl.label, pl.sentThen, sent)
		}
		w.kill(p, p.fs.CrashClone(pl.keep, w.cloneRNG()), "disk fault "+pl.label)
		return
	}
	if p.diskDead {
		// A torn write, then the crash.
		w.kill(p, p.fs.CrashClone(p.tornKeep, w.cloneRNG()), p.crashWhy)
		return
	}
	if st.Err != nil {
		w.failf("peer %d failed without an injected fault: %v", p.id, st.Err)
		w.kill(p, p.fs.Clone(), "unexpected failure")
		return
	}
	z, d := p.view.Applied()
	if z != p.lastApplied && p.ready {
		w.checkJump(p, z, d) // (start checks its first turn itself)
	}
	w.observeStatus(p, st)
	w.roCheckPeer(p, st)
	w.lsStatus(p, st)
}

// kill stops p as a crash would: its disk becomes disk (what the crash
// left), its connections break, and it restarts later.
func (w *World) kill(p *simPeer, disk *MemFS, why string) {
	p.release()
	if p.busy != nil {
		<-p.busy
		p.busy = nil
	}
	p.diskDead = true // the old incarnation's log must not change any more
	p.ens.Close()
	w.hookMu.Lock()
	p.ens, p.ready = nil, false
	w.hookMu.Unlock()
	w.net.Crash(p.id)
	p.fs = disk
	if p.paused {
		p.paused = false
		w.net.Resume(p.id)
		delete(w.faults.pauses, p.id)
	}
	p.restartAt = w.now + 1 + int64(w.rng.IntN(200))
	w.stats.Crashes++
	w.trace.line(w.now, "crash peer=%d inc=%d restart=%d why=%s", p.id, p.inc, p.restartAt, why)
	w.settle()
}

// restartDue restarts the peers whose downtime is over.
func (w *World) restartDue(force bool) {
	for _, p := range w.peers {
		if p.ens != nil || p.dormant || (!force && p.restartAt > w.now) {
			continue
		}
		if err := w.start(p); err != nil {
			w.failf("%v", err)
			p.restartAt = w.now + 1_000_000 // never again
			continue
		}
		w.stats.Restarts++
		w.checkClaims(p)
	}
}
