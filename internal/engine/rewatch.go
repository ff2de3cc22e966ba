package engine

import (
	"errors"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/watch"
	"github.com/embedzk/zk/znode"
)

// refireWatches runs after the tree was replaced by a leader's snapshot:
// the changes in between were never applied one by one here, so, as
// ZooKeeper's SetWatches does for a reconnecting client, each one-shot watch
// of a local session fires if its node changed after zxid before (data and
// exist watches: created, changed or deleted; child watches: children
// changed or node deleted). Persistent watches cannot be replayed from a
// snapshot; they get NodeDataChanged or NodeChildrenChanged for their own
// path when it changed, and nothing for descendants; strict watches
// (FromZxid, WithEventData) end with ErrCompacted instead. The caller holds
// the apply lock.
func (p *peer) refireWatches(before int64) {
	p.e.strict.endAll(p.e.watches, p.e.applied.load())
	p.e.journal.reset(p.e.applied.load())
	for _, id := range p.e.localSessionIDs() {
		s := p.e.localSession(id)
		if s == nil {
			continue
		}
		for _, reg := range p.e.watches.SessionWatches(id) {
			if ev, ok := p.missedEvent(reg, before); ok && s.allowedEvent(ev, p) {
				p.e.watches.Fire(reg.ID, ev)
			}
		}
	}
}

// missedEvent decides the event reg missed since zxid before, if any.
func (p *peer) missedEvent(reg watch.Registration, before int64) (Event, bool) {
	n, err := p.e.tree.Stat(reg.Path)
	zxid := p.e.applied.load()
	missing := errors.Is(err, zkerr.ErrNoNode)
	if err != nil && !missing {
		return Event{}, false
	}
	ev := Event{Path: reg.Path, Zxid: zxid}
	switch reg.Kind {
	case watch.KindExist:
		switch {
		case missing:
			return Event{}, false // still missing, or created and deleted: nothing to see
		case n.Stat.Czxid > before:
			ev.Type = EventNodeCreated
		case n.Stat.Mzxid > before:
			ev.Type = EventNodeDataChanged
		default:
			return Event{}, false
		}
	case watch.KindData, watch.KindPersistent, watch.KindPersistentRecursive:
		switch {
		case missing && reg.Kind == watch.KindData:
			ev.Type = EventNodeDeleted
		case missing:
			return Event{}, false // a persistent watch may be set on a missing node
		case n.Stat.Mzxid > before:
			ev.Type = EventNodeDataChanged
		case reg.Kind == watch.KindPersistent && n.Stat.Pzxid > before:
			ev.Type = EventNodeChildrenChanged
		default:
			return Event{}, false
		}
	case watch.KindChild:
		switch {
		case missing:
			ev.Type = EventNodeDeleted
		case n.Stat.Pzxid > before:
			ev.Type = EventNodeChildrenChanged
		default:
			return Event{}, false
		}
	}
	return ev, true
}

// allowedEvent reports whether s may read the node ev is about.
func (s *Session) allowedEvent(ev Event, p *peer) bool {
	n, err := p.e.tree.Stat(ev.Path)
	if err != nil {
		return true // deleted: ZooKeeper tells the watcher without an ACL check
	}
	return s.allowed(n.ACL, znode.PermRead)
}
