package engine

import (
	"context"
	"time"

	"github.com/embedzk/zk/session"
	"github.com/embedzk/zk/znode"
)

// SessionDump is what ZooKeeper's dump four-letter word shows of a peer's
// sessions and ephemeral nodes.
type SessionDump struct {
	// Tracking is set on a leader or a standalone peer, whose session
	// tracker expires sessions: Buckets then hold its expiry buckets.
	// Other peers list the ensemble's sessions in Global, as ZooKeeper's
	// learners do.
	Tracking bool
	Buckets  []ExpiryBucket
	Global   []SessionTimeout // by id
	// LocalTracking is set when the peer keeps local sessions
	// (Config.LocalSessions, and it serves): Local then holds its local
	// session tracker's expiry buckets, which ZooKeeper's dump lists
	// first, as "Local " sessions, before the "Global " ones.
	LocalTracking bool
	Local         []ExpiryBucket
	// Ephemerals lists the sessions that own ephemeral nodes, by id, each
	// with its nodes' paths, sorted.
	Ephemerals []SessionEphemerals
}

// ExpiryBucket is the sessions (sorted) that expire at one tick of the
// leader's tracker, unless touched before.
type ExpiryBucket struct {
	Expires  time.Time
	Sessions []int64
}

// SessionTimeout is a session and its negotiated timeout.
type SessionTimeout struct {
	ID      int64
	Timeout time.Duration
}

// SessionEphemerals is a session and the paths of its ephemeral nodes.
type SessionEphemerals struct {
	ID    int64
	Paths []string
}

// SessionDump returns the peer's sessions for the dump word. The expiry
// buckets are read on the peer loop, which owns the tracker; the sessions
// and ephemerals from the applied tree.
func (r Remote) SessionDump(ctx context.Context) (SessionDump, error) {
	var d SessionDump
	err := r.e.inspect(ctx, func(p *peer) {
		if p.tracker == nil {
			return
		}
		d.Tracking = true
		d.Buckets = expiryBuckets(p.tracker, p.trackerTickAt, p.cfg.TickTime)
	})
	if err != nil {
		return SessionDump{}, err
	}
	if r.e.localSessionsOn() {
		d.LocalTracking, d.Local = r.e.lsess.dump(r.e.cfg.TickTime)
	}
	err = r.e.readTree(func(t *znode.Tree) error {
		if !d.Tracking {
			sessions, err := t.Sessions() // by id
			if err != nil {
				return err
			}
			for _, s := range sessions {
				d.Global = append(d.Global, SessionTimeout{ID: s.ID, Timeout: time.Duration(s.Timeout) * time.Millisecond})
			}
		}
		return t.EphemeralsBySession(func(id int64, paths []string) {
			d.Ephemerals = append(d.Ephemerals, SessionEphemerals{ID: id, Paths: paths})
		})
	})
	return d, err
}

// expiryBuckets is t's expiry buckets, each with the time its tick comes:
// t's last tick came at tickAt, and one comes every tick.
func expiryBuckets(t *session.Tracker, tickAt time.Time, tick time.Duration) []ExpiryBucket {
	var out []ExpiryBucket
	now := t.Now()
	for _, b := range t.Buckets() {
		at := tickAt.Add(time.Duration(b.Deadline-now) * tick)
		out = append(out, ExpiryBucket{Expires: at, Sessions: b.IDs})
	}
	return out
}

// dump returns the local session tracker's expiry buckets, and whether
// there is one (the peer keeps local sessions and serves).
func (l *localSessions) dump(tick time.Duration) (bool, []ExpiryBucket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tracker == nil {
		return false, nil
	}
	return true, expiryBuckets(l.tracker, l.tickAt, tick)
}

// inspect runs fn on the peer loop and waits for it. fn must only read.
func (e *Ensemble) inspect(ctx context.Context, fn func(*peer)) error {
	r := newRequest(reqInspect, nil)
	r.inspect = fn
	return e.runControl(ctx, r)
}
