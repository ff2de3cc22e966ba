package engine

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/embedzk/zk/zab"
)

// LearnerStatus is a leader's view of one of its learners (Status.Learners):
// what `zkServer.sh status` cannot show, and operators ask first: who lags,
// by how much.
type LearnerStatus struct {
	ID       int64
	Observer bool
	// NonVoting: a follower no configuration counts (a joiner, or a server
	// a reconfig removed): ZooKeeper's non-voting follower.
	NonVoting bool
	// Phase is "broadcast" once the learner is synced and gets every
	// commit; while it joins: "info", "epoch", "acked", "snap", "diff",
	// "syncing".
	Phase string
	// Sync is how the leader synced it in this epoch: "DIFF", "TRUNC" (then
	// DIFF) or "SNAP" (then DIFF); "none" until chosen.
	Sync string
	// Zxid is how far it has the leader's history: for a follower, the last
	// zxid it acknowledged (durable on it); for an observer, the last sent.
	Zxid int64
	// LagTxns is how many entries of the leader's log it lacks (-1 when
	// they span epochs and cannot be counted without reading the log).
	LagTxns int64
	// Lag is how long ago the oldest entry it lacks was proposed, to a
	// tick (TickTime/10): 0 when it lacks none.
	Lag time.Duration
	// Silent is how long ago the leader last heard from it.
	Silent time.Duration
}

// observer holds what a peer shows of itself besides its role: the details
// the peer loop publishes, the recent fsync times, and the metrics (nil
// without Config.Registerer). Its hooks are cheap: a nil check when there
// are no metrics.
type observer struct {
	started time.Time
	tick    time.Duration // one tick of the internal clock
	detail  atomic.Pointer[peerDetail]
	fsyncs  latencyWindow
	met     *metrics
	props   SizeStats // this leader's proposals (Remote.ProposalSizes)
}

// SizeStats are the last, smallest and largest of some byte counts, -1
// before any, as ZooKeeper's BufferStats: a leader's proposals here (srvr's
// "Proposal sizes last/min/max"), the client port's responses (mntr's
// zk_last/min/max_client_response_size). Safe for concurrent use.
type SizeStats struct {
	last, min, max atomic.Int64
}

// Reset forgets every size (srst); a zero SizeStats must be Reset before
// use.
func (b *SizeStats) Reset() {
	b.last.Store(-1)
	b.min.Store(-1)
	b.max.Store(-1)
}

// Note records a size of n bytes.
func (b *SizeStats) Note(n int) {
	v := int64(n)
	b.last.Store(v)
	for cur := b.min.Load(); (cur < 0 || v < cur) && !b.min.CompareAndSwap(cur, v); cur = b.min.Load() {
	}
	for cur := b.max.Load(); v > cur && !b.max.CompareAndSwap(cur, v); cur = b.max.Load() {
	}
}

// Read returns the last, smallest and largest sizes (-1 before any).
func (b *SizeStats) Read() (last, min, max int64) { return b.last.Load(), b.min.Load(), b.max.Load() }

// peerDetail is what the loop publishes for Status at every tick and every
// change of role: the leader's view of its learners, the last election.
type peerDetail struct {
	learners []LearnerStatus
	election zab.ElectionInfo
	looking  string // why the peer looks for a leader, while it does
}

// publishDetail publishes the core's view of the learners and of the last
// election for Status (the core itself is the loop's alone).
func (p *peer) publishDetail() {
	d := &peerDetail{election: p.zst.Election, looking: p.zst.Reason}
	tick := p.e.obs.tick
	for _, l := range p.node.Learners() {
		d.learners = append(d.learners, LearnerStatus{ID: l.ID, Observer: l.Observer, NonVoting: l.NonVoting, Phase: l.Phase,
			Sync: l.Sync.String(), Zxid: l.Acked, LagTxns: l.LagTxns,
			Lag: time.Duration(l.LagTicks) * tick, Silent: time.Duration(l.SilentTicks) * tick})
	}
	p.e.obs.detail.Store(d)
}

// fillStatus adds to st what Status reports beyond the role: the learners'
// lag, the tree's sizes, the watches, the fsync p99 and why the peer does
// not serve.
func (e *Ensemble) fillStatus(st *Status) {
	d := e.obs.detail.Load()
	if d != nil {
		st.Round = d.election.Round
		if st.Mode == ModeLeading {
			st.Learners = slices.Clone(d.learners)
		}
	}
	st.Znodes = e.tree.NodeCount()
	st.Ephemerals = e.tree.EphemeralCount()
	st.DataSize = e.tree.DataSize()
	st.Watches, _, _ = e.watches.Count()
	st.FsyncP99 = e.obs.fsyncs.quantile(0.99)
	st.Why = whyNotServing(*st, d)
}

// whyNotServing says why a peer in st does not serve ("" if it does).
func whyNotServing(st Status, d *peerDetail) string {
	switch {
	case st.Serving:
		return ""
	case st.Mode == ModeClosed:
		return "closed"
	case st.Mode == ModeFailed:
		return fmt.Sprintf("failed: %v", st.Err)
	case st.Mode == ModeLooking && d != nil && d.looking != "":
		return fmt.Sprintf("looking for a leader (%s)", d.looking)
	case st.Mode == ModeLooking:
		return "looking for a leader"
	case st.Mode == ModeFollowing || st.Mode == ModeObserving:
		return fmt.Sprintf("syncing with leader %d", st.Leader)
	case st.Mode == ModeLeading:
		return "leading, waiting for a quorum of followers to sync"
	}
	return st.Mode.String()
}

// latencyWindow keeps the last few durations of an operation (the log's
// fsyncs) for Status's percentile.
type latencyWindow struct {
	mu   sync.Mutex
	ring [128]time.Duration
	n    int // held
	next int
}

func (w *latencyWindow) add(d time.Duration) {
	w.mu.Lock()
	w.ring[w.next] = d
	w.next = (w.next + 1) % len(w.ring)
	w.n = min(w.n+1, len(w.ring))
	w.mu.Unlock()
}

// quantile returns the q-quantile (0 < q <= 1) of the durations held, 0 if
// none.
func (w *latencyWindow) quantile(q float64) time.Duration {
	w.mu.Lock()
	held := slices.Clone(w.ring[:w.n])
	w.mu.Unlock()
	if len(held) == 0 {
		return 0
	}
	slices.Sort(held)
	i := int(q*float64(len(held))+0.999999) - 1
	return held[min(max(i, 0), len(held)-1)]
}
