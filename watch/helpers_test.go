package watch

import (
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/embedzk/zk/znode"
)

// recSink records what the Manager does to it and checks the Sink protocol:
// no call after Close or Overflow, and exactly one of them. cap > 0 bounds
// the events it takes until drained.
type recSink struct {
	cap       int
	pending   int
	events    []Event
	closes    int
	overflows int
	violation string
}

func (s *recSink) ended() bool { return s.closes+s.overflows > 0 }

func (s *recSink) Deliver(e Event) bool {
	if s.ended() {
		s.violation = fmt.Sprintf("Deliver(%v) after end", e)
	}
	if s.cap > 0 && s.pending >= s.cap {
		return false
	}
	s.pending++
	s.events = append(s.events, e)
	return true
}

func (s *recSink) Overflow() {
	if s.ended() {
		s.violation = "Overflow after end"
	}
	s.overflows++
}

func (s *recSink) Close() {
	if s.ended() {
		s.violation = "Close after end"
	}
	s.closes++
}

func (s *recSink) check(t *testing.T) {
	t.Helper()
	if s.violation != "" {
		t.Fatalf("sink protocol violated: %s", s.violation)
	}
}

// types returns the recorded event types and paths, compactly.
func (s *recSink) log() []string {
	out := make([]string, 0, len(s.events))
	for _, e := range s.events {
		out = append(out, fmt.Sprintf("%v %s", e.Type, e.Path))
	}
	return out
}

// allow is a mayRead that grants READ to world entries and to digest entries
// whose ID is the session's decimal id.
func allow(session int64, acl []znode.ACL) bool {
	for _, a := range acl {
		if a.Perms&znode.PermRead == 0 {
			continue
		}
		if a.Scheme == "world" || (a.Scheme == "digest" && a.ID == strconv.FormatInt(session, 10)) {
			return true
		}
	}
	return false
}

var (
	worldRead = []znode.ACL{{Perms: znode.PermAll, Scheme: "world", ID: "anyone"}}
	noRead    = []znode.ACL{{Perms: znode.PermWrite, Scheme: "world", ID: "anyone"}}
)

func onlySession(s int64) []znode.ACL {
	return []znode.ACL{{Perms: znode.PermRead, Scheme: "digest", ID: strconv.FormatInt(s, 10)}}
}

func created(p string, zxid int64) znode.Change {
	return znode.Change{Type: znode.ChangeCreated, Path: p, Zxid: zxid, ACL: worldRead, ParentACL: worldRead}
}

func deleted(p string, zxid int64) znode.Change {
	return znode.Change{Type: znode.ChangeDeleted, Path: p, Zxid: zxid, ACL: worldRead, ParentACL: worldRead}
}

func changed(p string, zxid int64) znode.Change {
	return znode.Change{Type: znode.ChangeDataChanged, Path: p, Zxid: zxid, ACL: worldRead, ParentACL: worldRead}
}

func equalLog(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

// checkIndexes verifies the Manager's internal indexes agree with each other.
func checkIndexes(m *Manager) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	recursive, inPaths, inSessions := 0, 0, 0
	for path, pw := range m.byPath {
		if pw.path != path || pw.empty() {
			return fmt.Errorf("path entry %q: path %q, empty %v", path, pw.path, pw.empty())
		}
		for _, k := range []Kind{KindData, KindChild, KindPersistent, KindPersistentRecursive} {
			for i, r := range *pw.list(k) {
				if m.byID[r.id] != r || int(r.pidx) != i || r.path != path || pw.list(r.kind) != pw.list(k) {
					return fmt.Errorf("watch %d misplaced in path %q list %v slot %d", r.id, path, k, i)
				}
				inPaths++
			}
		}
		recursive += len(pw.recur)
	}
	for session, sw := range m.bySession {
		if len(sw.regs) == 0 {
			return fmt.Errorf("empty session entry %d", session)
		}
		for i, r := range sw.regs {
			if m.byID[r.id] != r || int(r.sidx) != i || r.session != session {
				return fmt.Errorf("watch %d misplaced in session %d slot %d", r.id, session, i)
			}
			inSessions++
		}
	}
	if inPaths != len(m.byID) || inSessions != len(m.byID) || recursive != m.recursive {
		return fmt.Errorf("%d watches, %d in paths, %d in sessions, recursive %d counted %d",
			len(m.byID), inPaths, inSessions, recursive, m.recursive)
	}
	return nil
}

// add is Manager.Add for a Manager without a session limit, where Add
// cannot fail.
func add(m *Manager, session int64, path string, kind Kind, sink Sink) ID {
	id, err := m.Add(session, path, kind, sink)
	if err != nil {
		panic(err)
	}
	return id
}
