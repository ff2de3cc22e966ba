package sim

import (
	"context"
	"errors"
	"strings"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/znode"
)

// watchRec is a watch a client set, and the events it got.
type watchRec struct {
	c          *client
	handle     int
	op         *opRecord
	persistent bool
	path       string
	at         int64 // the zxid it was registered at (the call's read state)
	peer       *simPeer
	inc        int
	snaps      int // the peer's snapshot installs when it was set
	ch         <-chan zk.Event
	pw         *zk.Watch
	events     []zk.Event
	closed     bool
	expect     *znode.Change // one-shot: the change that must fire it, once known
	dropped    bool          // SabotageDropEvent
}

func newWatchRec(c *client, op *opRecord) *watchRec {
	r := &watchRec{c: c, handle: c.handle, op: op, path: op.path, at: op.applied, peer: op.peer, inc: op.inc,
		snaps: op.peer.snaps, ch: op.watchC}
	if op.pw != nil {
		r.persistent, r.pw = true, op.pw
	}
	return r
}

// poll takes the events that arrived.
func (r *watchRec) poll() {
	if r.pw != nil {
		r.pollPersistent()
		return
	}
	for !r.closed {
		select {
		case ev, ok := <-r.ch:
			if !ok {
				r.closed = true
				return
			}
			if r.c.w.opts.Sabotage == SabotageDropEvent && !r.persistent && !r.dropped {
				r.dropped = true
				continue
			}
			r.events = append(r.events, ev)
			r.c.w.trace.line(r.c.w.now, "event c%d %s %v %s %#x", r.c.id, r.path, ev.Type, ev.Path, ev.Zxid)
		default:
			return
		}
	}
}

// pollPersistent takes the events queued on a persistent watch; Next with a
// done ctx returns a queued event, or the end, without waiting.
func (r *watchRec) pollPersistent() {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for !r.closed {
		ev, err := r.pw.Next(done)
		switch {
		case errors.Is(err, context.Canceled):
			return
		case err != nil:
			r.closed = true
			return
		}
		r.events = append(r.events, ev)
		r.c.w.trace.line(r.c.w.now, "event c%d %s %v %s %#x", r.c.id, r.path, ev.Type, ev.Path, ev.Zxid)
	}
}

// pollWatches polls c's watches; before a read, it also checks that every
// one-shot watch whose change the read can see has fired already (an event
// reaches a session before the session can read the change).
func (w *World) pollWatches(c *client) {
	for _, r := range c.watches {
		r.poll()
	}
}

// pollAll polls every client's watches (persistent watches buffer a
// limited number of events).
func (w *World) pollAll() {
	for _, c := range w.clients {
		w.pollWatches(c)
	}
}

// fires reports whether change ch fires the one-shot watch r.
func (r *watchRec) fires(ch znode.Change) bool {
	switch r.op.kind {
	case opChildrenW:
		return (ch.Path == r.path && ch.Type == znode.ChangeDeleted) ||
			(znode.Parent(ch.Path) == r.path && ch.Type != znode.ChangeDataChanged && ch.Path != r.path)
	default:
		return ch.Path == r.path
	}
}

// eventFor is the event a change gives the one-shot watch r.
func (r *watchRec) eventFor(ch znode.Change) zk.EventType {
	switch {
	case r.op.kind == opChildrenW && ch.Path != r.path:
		return zk.EventNodeChildrenChanged
	case ch.Type == znode.ChangeCreated:
		return zk.EventNodeCreated
	case ch.Type == znode.ChangeDeleted:
		return zk.EventNodeDeleted
	}
	return zk.EventNodeDataChanged
}

// expected returns the change that fires one-shot watch r, once the
// committed history holds it.
func (r *watchRec) expected() (znode.Change, bool) {
	if r.expect != nil {
		return *r.expect, true
	}
	ch, ok := r.c.w.ref.nextChange(r.at, r.fires)
	if ok {
		r.expect = &ch
	}
	return ch, ok
}

// beforeRead checks, as c starts a read of its handle's tree at zxid, that
// its one-shot watches fired for every change that read can see.
func (w *World) beforeRead(c *client, zxid int64) {
	for _, r := range c.watches {
		if r.persistent || r.handle != c.handle || len(r.events) > 0 || r.peer.snaps != r.snaps {
			continue
		}
		if ch, ok := r.expected(); ok && ch.Zxid <= zxid {
			w.failf("c%d reads state %#x before its watch on %s (set at %#x) got the event of %#x",
				c.id, zxid, r.path, r.at, ch.Zxid)
			r.events = append(r.events, zk.Event{Type: zk.EventNotWatching}) // report once
		}
	}
}

// checkWatches runs at the end: each watch got what the committed history
// says it must, in order, and nothing else.
func (w *World) checkWatches() {
	w.pollAll()
	for _, c := range w.clients {
		for _, r := range c.watches {
			if r.persistent {
				w.checkPersistent(r)
			} else {
				w.checkOneShot(r)
			}
		}
	}
}

func (w *World) checkOneShot(r *watchRec) {
	ch, ok := r.expected()
	aliveEnd := r.peer.inc == r.inc && r.peer.ens != nil
	if len(r.events) == 0 {
		if ok && aliveEnd && r.peer.snaps == r.snaps && r.peer.lastApplied >= ch.Zxid && r.c.sid != 0 && r.c.handle == r.handle {
			w.failf("watch of c%d on %s (set at %#x) never fired for %#x", r.c.id, r.path, r.at, ch.Zxid)
		}
		return
	}
	ev := r.events[0]
	switch {
	case ev.Type == zk.EventNotWatching:
	case r.peer.snaps != r.snaps:
		// A snapshot replaced the tree: ZooKeeper's SetWatches semantics.
	case !ok:
		w.failf("watch of c%d on %s (set at %#x) fired %v %#x, but nothing changed", r.c.id, r.path, r.at, ev.Type, ev.Zxid)
	case ev.Zxid != ch.Zxid || ev.Type != r.eventFor(ch):
		w.failf("watch of c%d on %s (set at %#x) fired %v %#x, want %v %#x", r.c.id, r.path, r.at, ev.Type,
			ev.Zxid, r.eventFor(ch), ch.Zxid)
	}
	if len(r.events) > 1 {
		w.failf("one-shot watch of c%d on %s got %d events", r.c.id, r.path, len(r.events))
	}
}

// checkPersistent: a recursive watch on /r gets every change below it, in
// zxid order, exactly once.
func (w *World) checkPersistent(r *watchRec) {
	var want []zk.Event
	for _, t := range w.ref.chain {
		if t.zxid <= r.at {
			continue
		}
		for _, ch := range t.changes {
			if ch.Path == r.path || strings.HasPrefix(ch.Path, r.path+"/") {
				ev := zk.Event{Path: ch.Path, Zxid: ch.Zxid}
				ev.Type = map[znode.ChangeType]zk.EventType{znode.ChangeCreated: zk.EventNodeCreated,
					znode.ChangeDeleted: zk.EventNodeDeleted, znode.ChangeDataChanged: zk.EventNodeDataChanged}[ch.Type]
				want = append(want, ev)
			}
		}
	}
	for i, ev := range r.events {
		if ev.Type == zk.EventNotWatching || ev.Type == zk.EventPersistentWatchRemoved {
			return
		}
		if r.peer.snaps != r.snaps {
			return // replaced by a snapshot: events after it are not replayable
		}
		if i >= len(want) || ev.Type != want[i].Type || ev.Path != want[i].Path || ev.Zxid != want[i].Zxid {
			got := want[max(0, min(i, len(want)-1)):min(i+1, len(want))] // none when nothing was owed
			w.failf("persistent watch of c%d (set at %#x): event %d is %v %s %#x, want %v", r.c.id, r.at, i,
				ev.Type, ev.Path, ev.Zxid, got)
			return
		}
	}
	if r.peer.inc != r.inc || r.peer.ens == nil || r.peer.snaps != r.snaps || r.closed {
		return
	}
	n := 0
	for _, ev := range want {
		if ev.Zxid <= r.peer.lastApplied {
			n++
		}
	}
	if len(r.events) < n {
		w.failf("persistent watch of c%d (set at %#x) got %d events, its peer applied %d", r.c.id, r.at, len(r.events), n)
	}
}
