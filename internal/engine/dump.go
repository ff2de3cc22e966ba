package engine

import (
	"context"
	"time"

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
		now := p.tracker.Now()
		for _, b := range p.tracker.Buckets() {
			at := p.trackerTickAt.Add(time.Duration(b.Deadline-now) * p.cfg.TickTime)
			d.Buckets = append(d.Buckets, ExpiryBucket{Expires: at, Sessions: b.IDs})
		}
	})
	if err != nil {
		return SessionDump{}, err
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

// inspect runs fn on the peer loop and waits for it. fn must only read.
func (e *Ensemble) inspect(ctx context.Context, fn func(*peer)) error {
	r := newRequest(reqInspect, nil)
	r.inspect = fn
	return e.runControl(ctx, r)
}
