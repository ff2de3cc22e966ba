package zab

import (
	"sort"

	"github.com/embedzk/zk/election"
)

// This file is what the core tells about itself for logs, metrics and
// status: how its last election ended, how the leader synchronizes each
// learner and how far each one lags. Nothing here changes a decision.

// ElectionInfo is how this peer's last election ended.
type ElectionInfo struct {
	election.Outcome
	// Reason is why the peer was looking: how its previous role ended
	// ("starting" for the first election).
	Reason string
	// Ticks is how long it was looking, in ticks.
	Ticks int64
	// Seq counts the elections this Node decided (0: none yet).
	Seq int64
}

// SyncMode is how a leader brings a learner to its history.
type SyncMode uint8

// The sync modes (ZooKeeper's DIFF, TRUNC and SNAP).
const (
	SyncNone  SyncMode = iota // not chosen yet
	SyncDiff                  // the learner's last zxid is in our log: the entries after it
	SyncTrunc                 // the learner has entries we do not: truncate them, then DIFF
	SyncSnap                  // our log does not reach back to it: a snapshot, then DIFF
)

func (m SyncMode) String() string {
	return [...]string{"none", "DIFF", "TRUNC", "SNAP"}[min(int(m), 3)]
}

// SyncStart reports that the leader chose how to sync a learner (Ready.Syncs).
type SyncStart struct {
	Peer  int64
	Mode  SyncMode
	From  int64 // the learner's last zxid
	Trunc int64 // TRUNC: the zxid its log is cut back to
	// Leader is the leader's last zxid when it chose: where the learner's
	// log ends after the sync (a snapshot is of the applied state, then
	// DIFF up to here).
	Leader int64
	// Txns is how many entries the DIFF sends (after the truncation); -1
	// when they span epochs and cannot be counted without reading the log,
	// and for SNAP (its size is the snapshot's).
	Txns int64
}

// LearnerInfo is the leader's view of one learner.
type LearnerInfo struct {
	ID       int64
	Observer bool
	// NonVoting: a follower no configuration counts (a joiner, or one a
	// configuration removed): ZooKeeper's non-voting follower.
	NonVoting bool
	Phase     string   // info, epoch, acked, snap, diff, syncing, broadcast
	Sync      SyncMode // how it is (or was) synced in this epoch
	// Acked is how far it has our history: a follower in broadcast, the
	// highest zxid it acknowledged (durable on it); an observer, the last
	// zxid sent to it; a learner still syncing, where its sync has come to.
	Acked int64
	// LagTxns is how many of our logged entries it does not have (-1 when
	// they span epochs and cannot be counted without reading the log).
	LagTxns int64
	// LagTicks is how long ago the oldest entry it lacks was proposed (0
	// when it lacks none; at least the age of the oldest proposal the
	// leader remembers when it lacks older ones).
	LagTicks int64
	// SilentTicks is how long ago it was last heard from.
	SilentTicks int64
}

// noteElection records the outcome of the election that just decided.
func (n *Node) noteElection() {
	n.lastElection = ElectionInfo{Outcome: n.el.Outcome(), Reason: n.lookingWhy, Ticks: n.tick - n.lookingSince,
		Seq: n.lastElection.Seq + 1}
}

// txnsBetween counts the entries in (a, b] of a log that holds consecutive
// counters within each epoch, or -1 if a and b are in different epochs and
// a is not the end of its epoch's history as b's epoch started.
func txnsBetween(a, b int64) int64 {
	switch {
	case b <= a:
		return 0
	case EpochOf(a) == EpochOf(b):
		return CounterOf(b) - CounterOf(a)
	}
	return -1
}

// Learners returns the leader's view of each learner, by id; nil on a peer
// that does not lead.
func (n *Node) Learners() []LearnerInfo {
	if n.ld == nil {
		return nil
	}
	out := make([]LearnerInfo, 0, len(n.ld.order))
	for _, id := range n.ld.ids() {
		l := n.ld.learners[id]
		li := LearnerInfo{ID: id, Observer: l.observer, NonVoting: !l.observer && !n.active.q.IsVoter(id),
			Phase: l.phase.String(), Sync: l.sync, SilentTicks: n.tick - l.heard}
		switch {
		case l.phase == lpBroadcast && l.observer:
			li.Acked = l.informed
		case l.phase == lpBroadcast:
			li.Acked = max(n.ld.acks[id], l.target)
		case l.phase >= lpSnap:
			li.Acked = l.cursor
		default:
			li.Acked = l.peerLast
		}
		last := n.lastLogged
		if l.observer {
			last = n.committed
		}
		li.LagTxns = txnsBetween(li.Acked, last)
		if li.Acked < last {
			if li.LagTxns < 0 && EpochOf(last) == n.ld.epoch && li.Acked >= n.ld.histLast {
				li.LagTxns = CounterOf(last) // it has our history, and lacks this epoch's entries
			}
			li.LagTicks = n.tick - n.ld.props.proposedAt(li.Acked, n.tick)
		}
		out = append(out, li)
	}
	return out
}

// propRing remembers when proposals were made: the first zxid proposed in
// each tick, for the last propRingSize ticks that proposed anything.
type propRing struct {
	zxids [propRingSize]int64
	ticks [propRingSize]int64
	n     int // records held
	next  int // slot of the next record
}

const propRingSize = 256

// note records that zxid was proposed at tick.
func (r *propRing) note(zxid, tick int64) {
	if r.n > 0 && r.ticks[(r.next+propRingSize-1)%propRingSize] == tick {
		return // this tick has its record: the first zxid proposed in it
	}
	r.zxids[r.next], r.ticks[r.next] = zxid, tick
	r.next = (r.next + 1) % propRingSize
	r.n = min(r.n+1, propRingSize)
}

// proposedAt returns the tick at which the entry after acked was
// proposed: the tick of the last record whose first zxid is at or before
// it; the oldest record's tick (a lower bound of its age) if it is older
// than every record; now if nothing was recorded.
func (r *propRing) proposedAt(acked, now int64) int64 {
	if r.n == 0 {
		return now
	}
	first := (r.next - r.n + propRingSize) % propRingSize
	at := func(i int) int { return (first + i) % propRingSize }
	i := sort.Search(r.n, func(i int) bool { return r.zxids[at(i)] > acked+1 })
	if i == 0 {
		return r.ticks[at(0)]
	}
	return r.ticks[at(i-1)]
}

// noteSync records that learner l is synced by DIFF from l.cursor, after a
// truncation of its log to l.cursor if trunc.
func (n *Node) noteSync(l *learner, trunc bool) {
	l.sync = SyncDiff
	if trunc {
		l.sync = SyncTrunc
	}
	txns := txnsBetween(l.cursor, n.lastLogged)
	if txns < 0 && l.cursor >= n.ld.histLast && EpochOf(n.lastLogged) == n.ld.epoch {
		txns = CounterOf(n.lastLogged)
	}
	s := SyncStart{Peer: l.id, Mode: l.sync, From: l.peerLast, Txns: txns, Leader: n.lastLogged}
	if trunc {
		s.Trunc = l.cursor
	}
	n.acc.syncs = append(n.acc.syncs, s)
}
