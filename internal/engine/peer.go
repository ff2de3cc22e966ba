package engine

import (
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/session"
	"github.com/embedzk/zk/wal"
	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/zab/transport"
	"github.com/embedzk/zk/znode"
)

// peer is the state owned by the peer loop goroutine: the ZAB core, the
// leader's pipeline and session tracker, and the requests in flight. Nothing
// here is touched by any other goroutine.
type peer struct {
	e    *Ensemble
	cfg  Config
	node *zab.Node
	zst  zab.Status

	failReported bool // the listener heard of the fail-stop

	// Leader only (nil otherwise).
	pending *znode.Pending
	tracker *session.Tracker
	owners  *owners // the leader's session owners (owner.go)
	// trackerTickAt is when (wall clock, whatever Config.Clock says) the
	// tracker last ticked or was made: its deadlines count TickTimes from
	// then (dump.go).
	trackerTickAt time.Time
	// lastProposed is the zxid of the last txn proposed or known: the state
	// a failed prep was checked against.
	lastProposed int64
	auth         lastAuth // the pipeline's last ACL check (pipeline.go)
	// fwdIds is the memory of the last forwarded write's identities,
	// reused by the next one (decodeForward).
	fwdIds []znode.Identity
	// walBatch is persist's scratch for the entries of one log append.
	walBatch []wal.Entry

	// proposed holds this leader's proposals until they are applied, so
	// the apply need not decode what the pipeline just encoded, nor run
	// again the txn the pipeline just ran (its kept effects).
	proposed map[int64]proposal
	// keptApplies and keptMisses count this leader's txns applied from
	// their kept effects, and those that had to run again (never, while
	// the pipeline and the apply agree: the tests check it). Atomic: the
	// tests read them while the loop runs.
	keptApplies, keptMisses atomic.Int64

	inflight map[uint64]*request
	reqBase  uint64 // random high bits: ids never collide with a past run's
	reqSeq   uint64

	ticks    int64
	start    time.Time // logical clock origin for ManualClock
	snap     snapshotter
	snapIn   *wal.SnapshotWriter    // a snapshot arriving from the leader
	snapOut  map[int64]*snapStream  // leader: snapshots on their way to learners
	reapPace reaper                 // leader: paces container/TTL deletes
	digests  digestRecords          // recorded digest mismatches (digest.go)
	log      peerLog                // what was logged and measured (logging.go)
	ro       roPeer                 // read-only mode (readonly.go)
	unsure   map[int64]*unsureClose // sessions closed through the leader (localsess_unsure.go)
	policy   policyState            // leader: the membership policy's record (policy.go)
	audits   []auditNote            // the audit log's events of the entries being applied (audit.go)
}

const maxBatch = 256 // requests or transport events handled per loop turn

func newPeer(e *Ensemble) (*peer, error) {
	cfg := e.cfg
	mc, version, joining, err := e.startMembers() // the membership in effect at the tree's applied zxid
	if err != nil {
		return nil, err
	}
	voters, observers := mc.members()
	q, err := mc.quorum() // nil: a majority of the voters
	if err != nil {
		return nil, err
	}
	var seed [16]byte
	if _, err := io.ReadFull(randReader(cfg), seed[:]); err != nil {
		return nil, fmt.Errorf("zk: seeding: %w", err)
	}
	rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	st := e.wal.State()
	applied, _ := e.tree.Applied()
	node, err := zab.NewNode(zab.Config{
		ID:            cfg.ID,
		Voters:        voters,
		Observers:     observers,
		Quorum:        q,
		ConfigVersion: version,
		Joining:       joining,
		// A deliberately wrong build, for the simulation's test only.
		BrokenReconfigCommit: cfg.TestHooks.Breaks(hooks.CommitNewConfigAlone),
		InitLimit:            cfg.InitLimit * TicksPerTickTime,
		SyncLimit:            cfg.SyncLimit * TicksPerTickTime,
		HeartbeatInterval:    TicksPerTickTime / 2,
		ElectionFinalize:     1,
		ElectionResend:       TicksPerTickTime / 2,
		MaxMsgBytes:          maxProposalBytes,
		Rand:                 rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())),
		Logger:               cfg.Logger,
	}, walLog{e.wal}, zab.Durable{AcceptedEpoch: st.AcceptedEpoch, CurrentEpoch: st.CurrentEpoch, Applied: applied})
	if err != nil {
		return nil, fmt.Errorf("zk: starting the protocol: %w", err)
	}
	p := &peer{
		e:        e,
		cfg:      cfg,
		node:     node,
		zst:      node.Status(),
		inflight: map[uint64]*request{},
		proposed: map[int64]proposal{},
		reqBase:  rng.Uint64() &^ (1<<32 - 1),
		start:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		reapPace: newReaper(cfg),
	}
	p.snap.init(p, rng)
	idClock := p.now().UnixMilli()
	if cfg.ManualClock && cfg.Clock == nil {
		// A logical clock restarts at the same instant: take the time part
		// of session ids from the seeded source instead, so ids of a run do
		// not repeat those of the previous one.
		idClock = int64(rng.Uint64() >> 25)
	}
	e.ids = newSessionIDs(cfg, idClock)
	return p, nil
}

// run is the peer loop: it owns every protocol decision of this peer.
func (p *peer) run() {
	var tickC <-chan time.Time
	if !p.cfg.ManualClock {
		t := time.NewTicker(p.cfg.TickTime / TicksPerTickTime)
		defer t.Stop()
		tickC = t.C
	}
	var evC <-chan transport.Event
	if p.e.trans != nil {
		evC = p.e.trans.Events()
	}
	reqC := p.e.reqC
	if p.cfg.TestHooks.IsStepped() {
		evC, reqC = nil, nil // handled only inside barriers
	}
	defer p.shutdown()
	for {
		p.flush()
		select {
		case <-p.e.stopC:
			return
		case <-tickC:
			p.tick()
		case ev, ok := <-evC:
			if !ok {
				evC = nil
				continue
			}
			p.handleEvent(ev)
			p.drainEvents(evC)
		case r := <-reqC:
			p.handleRequest(r)
			p.drainRequests()
		case r := <-p.e.ctlC:
			p.control(r)
		case <-p.snap.doneC:
			p.snap.finished()
		}
	}
}

// drainEvents handles up to a batch of queued transport events; it reports
// whether it handled a full batch (more may be queued).
func (p *peer) drainEvents(evC <-chan transport.Event) bool {
	for i := 0; i < maxBatch; i++ {
		select {
		case ev, ok := <-evC:
			if !ok {
				return false
			}
			p.handleEvent(ev)
		default:
			return false
		}
	}
	return true
}

// drainRequests takes every queued request (up to a batch) before the next
// Ready, so that one fsync covers all of them (group commit); it reports
// whether it took a full batch (more may be queued).
func (p *peer) drainRequests() bool {
	for i := 0; i < maxBatch; i++ {
		select {
		case r := <-p.e.reqC:
			p.handleRequest(r)
		default:
			return false
		}
	}
	return true
}

// control handles a tick, a barrier or an inspection. A barrier handles
// every transport event and client request already queued (events first),
// and everything they cause locally, before it is answered. An inspection
// only reads the loop's state, so it flushes nothing.
func (p *peer) control(r *request) {
	switch r.kind {
	case reqTick:
		p.tick()
	case reqInspect:
		r.inspect(p)
		r.done <- struct{}{}
		return
	case reqBarrier:
		for more := true; more; {
			more = false
			if p.e.trans != nil {
				for p.drainEvents(p.e.trans.Events()) {
					more = true
				}
			}
			// As in the free-running loop, requests see what the events
			// changed (a lost quorum, a new role) only after a flush.
			p.flush()
			for p.drainRequests() {
				more = true
			}
			p.flush()
			more = more || len(p.e.reqC) > 0 || (p.e.trans != nil && len(p.e.trans.Events()) > 0)
		}
	}
	p.flush()
	r.done <- struct{}{}
}

// failed reports whether the peer fail-stopped.
func (p *peer) failed() bool { return p.e.failErr.Load() != nil }

// shutdown answers everything still waiting: the peer is going away.
func (p *peer) shutdown() {
	p.snap.stop()
	p.dropAllSnapshots()
	if p.snapIn != nil {
		p.snapIn.Abort()
		p.snapIn = nil
	}
	for id, r := range p.inflight {
		delete(p.inflight, id)
		r.fail(zkerr.ErrClosed)
	}
	for {
		select {
		case r := <-p.e.reqC:
			r.fail(zkerr.ErrClosed)
		case r := <-p.e.ctlC:
			r.done <- struct{}{}
		default:
			return
		}
	}
}

// now returns the time stamped into txns (ms since the Unix epoch).
func (p *peer) now() time.Time {
	switch {
	case p.cfg.Clock != nil:
		return p.cfg.Clock()
	case p.cfg.ManualClock:
		return p.start.Add(time.Duration(p.ticks) * (p.cfg.TickTime / TicksPerTickTime))
	}
	return time.Now()
}

// tick advances the clock by one tick.
func (p *peer) tick() {
	if p.failed() {
		return
	}
	p.ticks++
	p.node.Tick()
	p.publishDetail()
	p.dropUnwantedSnapshots()
	if p.ticks%TicksPerTickTime == 0 {
		p.sessionTick()
	}
	p.roTick()
	p.policyTick()
}

// handleRequest takes one request from a client goroutine.
func (p *peer) handleRequest(r *request) {
	if p.failed() {
		r.fail(p.e.errIfDown())
		return
	}
	if r.stale(p.e) {
		// Handed over before the peer last stopped or started serving (a
		// stalled loop took it late): its client has given up or moved
		// on, and under another leader it could run after writes that
		// client sent later. ZooKeeper drops such a request with the
		// connections it closes when its leader changes.
		r.fail(fmt.Errorf("%w: the call was made before the peer last stopped or started serving", zkerr.ErrNotServing))
		return
	}
	switch r.kind {
	case reqSync:
		id := p.track(r)
		if err := p.node.Sync(id); err != nil {
			delete(p.inflight, id)
			r.fail(fmt.Errorf("%w: %v", zkerr.ErrNotServing, err))
		}
	case reqWrite:
		p.write(r)
	case reqReconfig:
		p.reconfigure(r)
	case reqRevalidate:
		p.revalidate(r)
	}
}

// track registers r as in flight and returns its id.
func (p *peer) track(r *request) uint64 {
	p.reqSeq++
	r.id = p.reqBase | (p.reqSeq & (1<<32 - 1))
	p.inflight[r.id] = r
	return r.id
}

// handleEvent feeds one transport event to the core.
func (p *peer) handleEvent(ev transport.Event) {
	if p.failed() {
		return
	}
	switch ev.Kind {
	case transport.EventUp:
		p.node.LinkUp(ev.Peer)
	case transport.EventDown:
		p.node.LinkDown(ev.Peer)
	case transport.EventFrame:
		m, err := zab.DecodeMessage(ev.Frame)
		if err != nil {
			p.cfg.Logger.Warn("zk: dropping a malformed peer message", "from", ev.Peer, "err", err)
			return
		}
		p.markMsg("recv-", m)
		if err := p.node.Step(ev.Peer, m); err != nil {
			p.cfg.Logger.Debug("zk: peer message rejected", "from", ev.Peer, "err", err)
		}
	}
}

// status converts the core's status into the public one.
func (p *peer) status() Status {
	z := p.zst
	st := Status{ID: p.cfg.ID, Leader: z.Leader, Epoch: z.Epoch, LastZxid: z.LastZxid,
		Serving: z.Serving, Peers: append([]int64(nil), z.Synced...), ConfigVersion: z.ConfigVersion,
		RemovedBy: z.RemovedBy, Removed: z.Removed}
	switch z.Role {
	case zab.RoleLeading:
		st.Mode = ModeLeading
		if p.cfg.standalone() {
			st.Mode = ModeStandalone
		}
	case zab.RoleFollowing:
		st.Mode = ModeFollowing
	case zab.RoleObserving:
		st.Mode = ModeObserving
	default:
		st.Mode = ModeLooking
	}
	if p.e.ro.active.Load() {
		st.Mode = ModeReadOnly
	}
	if p.failed() {
		st.Mode, st.Serving = ModeFailed, false
	}
	return st
}

func randReader(cfg Config) io.Reader {
	if cfg.Rand != nil {
		return cfg.Rand
	}
	return crand.Reader
}
