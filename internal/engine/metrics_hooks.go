package engine

import (
	"time"

	"github.com/embedzk/zk/zab"
)

// The observer's hooks, called where things happen. Without metrics each is
// a nil check (the fsync window, for Status, is always kept).

// init sets the observer up for e, registering the metrics if
// Config.Registerer is set. It runs before the peer loop starts.
func (o *observer) init(e *Ensemble) error {
	o.started = time.Now()
	o.tick = e.cfg.TickTime / TicksPerTickTime
	o.props.Reset()
	if e.cfg.Registerer == nil {
		return nil
	}
	m, err := newMetrics(e, e.cfg.Registerer)
	if err != nil {
		return err
	}
	o.met = m
	return nil
}

// close unregisters the metrics.
func (o *observer) close() {
	if o.met != nil {
		o.met.unregister()
	}
}

// fsynced: one group commit of entries took d to write and, if synced,
// fsync. One not synced (Config.NoForceSync) counts in no fsync time, as
// ZooKeeper times only the fsyncs forceSync makes.
func (o *observer) fsynced(d time.Duration, entries int, synced bool) {
	if synced {
		o.fsyncs.add(d)
	}
	if m := o.met; m != nil {
		now := o.now()
		if synced {
			m.fsync.observe(int64(d), now)
		}
		m.batch.observe(int64(entries), now)
	}
}

// now is the time since the peer started (ns), the clock of the metrics.
func (o *observer) now() int64 { return int64(time.Since(o.started)) }

// proposed: this leader proposed zxid.
func (o *observer) proposed(zxid int64) {
	if m := o.met; m != nil {
		m.proposals.Inc()
		m.props.note(zxid, o.now())
	}
}

// committed: this leader applies ents, committed by a quorum.
func (o *observer) committed(ents []zab.Entry) {
	m := o.met
	if m == nil || len(ents) == 0 {
		return
	}
	now := o.now()
	m.commits.Add(uint64(len(ents)))
	for _, ent := range ents {
		if at, ok := m.props.since(ent.Zxid); ok {
			m.commit.observe(now-at, now)
		}
	}
}

// requestDone: a session's request that began at start (o.now()) is
// answered.
func (o *observer) requestDone(start int64, write bool) {
	if m := o.met; m != nil {
		now := o.now()
		if write {
			m.update.observe(now-start, now)
		} else {
			m.read.observe(now-start, now)
		}
	}
}

// measuring reports whether requests are timed (there are metrics).
func (o *observer) measuring() bool { return o.met != nil }

// tooLarge: a request was refused over the size limits.
func (o *observer) tooLarge() {
	if m := o.met; m != nil {
		m.large.Inc()
	}
}

// digestMismatch: an applied entry's digest was not the leader's.
func (o *observer) digestMismatch() {
	if m := o.met; m != nil {
		m.digests.Inc()
	}
}

// failed: the peer fail-stopped.
func (o *observer) failed() {
	if m := o.met; m != nil {
		m.failures.Inc()
	}
}

// expired: this leader expires n sessions.
func (o *observer) expired(n int) {
	if m := o.met; m != nil {
		m.expired.Add(uint64(n))
	}
}

// syncStarted: this leader chose how to sync a learner.
func (o *observer) syncStarted(s zab.SyncStart) {
	m := o.met
	if m == nil {
		return
	}
	switch s.Mode {
	case zab.SyncDiff:
		m.diffs.Inc()
	case zab.SyncTrunc:
		m.truncs.Inc()
	case zab.SyncSnap:
		m.snaps.Inc()
	}
}

// snapshotWritten: a snapshot of size bytes took d to write.
func (o *observer) snapshotWritten(size int64, d time.Duration) {
	if m := o.met; m != nil {
		m.lastSnapSize.Store(size)
		m.snapTime.observe(int64(d), o.now())
	}
}

// roleEvents: the peer started elections lookings times more, decided one
// that took (in ticks) electionTicks (-1: none decided), came to serve
// under a new leader or epoch (newLeader), or finished syncing with its
// leader after synced (-1: not now) as an observer or a follower.
func (o *observer) roleEvents(lookings int64, electionTicks int64, newLeader bool, synced time.Duration, observer bool) {
	m := o.met
	if m == nil {
		return
	}
	m.looking.Add(uint64(max(lookings, 0)))
	now := o.now()
	if electionTicks >= 0 {
		m.election.observe(int64(time.Duration(electionTicks)*o.tick), now)
	}
	if newLeader {
		m.leaderChanges.Inc()
	}
	switch {
	case synced < 0:
	case observer:
		m.observerSync.observe(int64(synced), now)
	default:
		m.followerSync.observe(int64(synced), now)
	}
}
