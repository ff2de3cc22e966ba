package watch

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/embedzk/zk/internal/zkerr"
)

// Remove removes session's registrations on path of the given type, as
// ZooKeeper's removeWatches does: WatcherChildren removes child watches,
// WatcherData data and exist watches, WatcherPersistent persistent watches,
// WatcherPersistentRecursive recursive watches and WatcherAny all of them.
// Each removed registration gets the removal event ZooKeeper's client raises
// (EventDataWatchRemoved, EventChildWatchRemoved or
// EventPersistentWatchRemoved, with Zxid 0), then Close; they are ended in ID
// order.
//
// It returns how many registrations it removed, or an error wrapping
// zkerr.ErrNoWatcher if none matched (zkerr.ErrBadArguments for an unknown
// typ).
func (m *Manager) Remove(session int64, path string, typ WatcherType) (int, error) {
	if !typ.valid() {
		return 0, fmt.Errorf("watch: remove: watcher type %d: %w", int32(typ), zkerr.ErrBadArguments)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	victims := m.matching(session, path, typ)
	if len(victims) == 0 {
		return 0, fmt.Errorf("watch: remove %s watches of session 0x%x on %s: %w", typ, session, path, zkerr.ErrNoWatcher)
	}
	slices.SortFunc(victims, byID)
	for _, r := range victims {
		m.unlink(r)
	}
	for _, r := range victims {
		m.end(r, &Event{Type: r.kind.removedEvent(), Path: r.path})
	}
	return len(victims), nil
}

// matching returns session's registrations on path that typ selects. It
// scans whichever is smaller: the path's lists of the selected kinds or the
// session's list.
func (m *Manager) matching(session int64, path string, typ WatcherType) []*reg {
	pw, sw := m.byPath[path], m.bySession[session]
	if pw == nil || sw == nil {
		return nil
	}
	var lists [][]*reg
	switch typ {
	case WatcherChildren:
		lists = [][]*reg{pw.child}
	case WatcherData:
		lists = [][]*reg{pw.data}
	case WatcherPersistent:
		lists = [][]*reg{pw.persis}
	case WatcherPersistentRecursive:
		lists = [][]*reg{pw.recur}
	default:
		lists = [][]*reg{pw.data, pw.child, pw.persis, pw.recur}
	}
	inPath := 0
	for _, l := range lists {
		inPath += len(l)
	}
	var out []*reg
	if inPath <= len(sw.regs) {
		for _, l := range lists {
			for _, r := range l {
				if r.session == session {
					out = append(out, r)
				}
			}
		}
		return out
	}
	for _, r := range sw.regs {
		if r.path == path && typ.Matches(r.kind) {
			out = append(out, r)
		}
	}
	return out
}

// RemoveID removes one registration with its removal event (as Remove would
// send it), then Close. It returns false if the registration was already
// gone (fired, removed, dropped or overflowed).
func (m *Manager) RemoveID(id ID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.byID[id]
	if r == nil {
		return false
	}
	m.unlink(r)
	m.end(r, &Event{Type: r.kind.removedEvent(), Path: r.path})
	return true
}

// DropSession removes all of session's registrations, delivering
// Event{Type: EventNotWatching, Path: the watched path, Err: reason} to each
// in ID order, then Close. reason should be zkerr.ErrSessionExpired or
// zkerr.ErrClosed; nil means zkerr.ErrClosed. Dropping a session without
// registrations does nothing.
func (m *Manager) DropSession(session int64, reason error) {
	if reason == nil {
		reason = zkerr.ErrClosed
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	sw := m.bySession[session]
	if sw == nil {
		return
	}
	delete(m.bySession, session)
	regs := sw.regs
	slices.SortFunc(regs, byID)
	for _, r := range regs {
		delete(m.byID, r.id)
		if r.kind == KindPersistentRecursive {
			m.recursive--
		}
		m.unlinkPath(r)
	}
	for _, r := range regs {
		m.end(r, &Event{Type: EventNotWatching, Path: r.path, Err: reason})
	}
}

func byID(a, b *reg) int { return cmp.Compare(a.id, b.id) }

// Fire delivers ev to one registration as if a change had triggered it: a
// one-shot registration is removed and closed after it, a persistent one
// stays (and is removed if its sink overflows). It returns false if the
// registration is gone. The root uses it after replacing the tree with a
// leader's snapshot, to tell watches about changes they never saw applied.
func (m *Manager) Fire(id ID, ev Event) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.byID[id]
	if r == nil {
		return false
	}
	if r.kind.OneShot() {
		m.unlink(r)
		m.end(r, &ev)
		return true
	}
	if !r.sink.Deliver(ev) {
		m.unlink(r)
		m.overflow(r)
	}
	return true
}

// EndID ends one registration with ev as its last event (typically
// EventNotWatching with the reason in Err), then Close; the sink reports an
// overflow instead if it cannot take ev. It returns false if the
// registration was already gone.
func (m *Manager) EndID(id ID, ev Event) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.byID[id]
	if r == nil {
		return false
	}
	m.unlink(r)
	m.end(r, &ev)
	return true
}

// Barrier returns once every Trigger, Fire and removal that started before
// it has delivered all its events. A consumer that took an event of zxid z
// and then finds its sink empty after a Barrier has every event of z that
// the Trigger of z delivered to it: the engine triggers each transaction in
// one call.
func (m *Manager) Barrier() {
	m.mu.Lock()
	m.mu.Unlock() // the empty critical section is the point: Trigger holds mu throughout
}
