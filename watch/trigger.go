package watch

import (
	"strings"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// MayRead reports whether session may READ a node with the given ACL. It is
// called with the Manager's lock held and must not call into the Manager.
type MayRead = func(session int64, acl []znode.ACL) bool

// Trigger turns applied changes into events and delivers them. changes must
// be in the order they were applied (zxid order, from one txn or several);
// the events of one change are all delivered before those of the next.
//
// For each change at path P:
//
//   - Created: NodeCreated to data and exist watches on P (then removed),
//     persistent watches on P and recursive watches on P and every ancestor;
//     NodeChildrenChanged to child watches (then removed) and persistent
//     watches on parent(P).
//   - Deleted: NodeDeleted to data, exist and child watches on P (then
//     removed), persistent watches on P and recursive watches on P and every
//     ancestor; NodeChildrenChanged on parent(P) as for Created.
//   - DataChanged: NodeDataChanged to data and exist watches on P (then
//     removed), persistent watches on P and recursive watches on P and every
//     ancestor.
//
// A registration receives an event only if mayRead(session, acl) is true,
// with acl = Change.ACL for events on P and Change.ParentACL for the parent's
// NodeChildrenChanged; a nil mayRead allows all. A one-shot watch whose event
// is refused is removed anyway, as in ZooKeeper, and ends with
// EventNotWatching (Err = zkerr.ErrNoAuth); a persistent or recursive one
// skips the event and stays.
//
// A change of an unknown type fires nothing. Trigger does not retain changes.
func (m *Manager) Trigger(changes []znode.Change, mayRead MayRead) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inTrigger = true
	defer func() { m.inTrigger = false }()
	for i := range changes {
		m.trigger(&changes[i], mayRead)
	}
}

func (m *Manager) trigger(c *znode.Change, mayRead MayRead) {
	var typ EventType
	switch c.Type {
	case znode.ChangeCreated:
		typ = EventNodeCreated
	case znode.ChangeDeleted:
		typ = EventNodeDeleted
	case znode.ChangeDataChanged:
		typ = EventNodeDataChanged
	default:
		return
	}
	m.changes++
	ev := Event{Type: typ, Path: c.Path, Zxid: c.Zxid}
	if pw := m.byPath[c.Path]; pw != nil {
		m.fireOneShot(pw, &pw.data, ev, c.ACL, mayRead)
		if typ == EventNodeDeleted {
			m.fireOneShot(pw, &pw.child, ev, c.ACL, mayRead)
		}
		m.firePersistent(&pw.persis, ev, c.ACL, mayRead)
	}
	if m.recursive > 0 {
		for p := c.Path; ; p = parent(p) {
			if pw := m.byPath[p]; pw != nil && len(pw.recur) > 0 {
				m.firePersistent(&pw.recur, ev, c.ACL, mayRead)
			}
			if p == "/" {
				break
			}
		}
	}
	if typ == EventNodeDataChanged || c.Path == "/" {
		return
	}
	pp := parent(c.Path)
	if pw := m.byPath[pp]; pw != nil {
		pev := Event{Type: EventNodeChildrenChanged, Path: pp, Zxid: c.Zxid}
		m.fireOneShot(pw, &pw.child, pev, c.ParentACL, mayRead)
		m.firePersistent(&pw.persis, pev, c.ParentACL, mayRead)
	}
}

// fireOneShot fires every one-shot registration of the list *l of pw: each
// is removed, then gets ev (or EventNotWatching if its session may not read
// it), then is closed.
func (m *Manager) fireOneShot(pw *pathWatches, l *[]*reg, ev Event, acl []znode.ACL, mayRead MayRead) {
	regs := *l
	if len(regs) == 0 {
		return
	}
	*l = nil
	m.dropPathIfEmpty(pw)
	for _, r := range regs {
		m.unlinkSession(r)
		if mayRead == nil || mayRead(r.session, acl) {
			m.end(r, &ev)
		} else {
			m.end(r, &Event{Type: EventNotWatching, Path: r.path, Err: zkerr.ErrNoAuth})
		}
	}
}

// firePersistent delivers ev to every registration of the list *l whose
// session may read it; a registration whose sink overflows is removed.
func (m *Manager) firePersistent(l *[]*reg, ev Event, acl []znode.ACL, mayRead MayRead) {
	for i := 0; i < len(*l); {
		r := (*l)[i]
		if mayRead != nil && !mayRead(r.session, acl) {
			i++
			continue
		}
		if m.deliver(r.sink, ev) {
			i++
			continue
		}
		// unlink moves the last registration of *l into slot i: look at
		// slot i again.
		m.unlink(r)
		m.overflow(r)
	}
}

// parent returns the parent of a valid znode path other than "/". A path
// without a slash (invalid) gets "/" so that walks up always end.
func parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}
