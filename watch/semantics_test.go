package watch

import (
	"errors"
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// watchCase sets one watch, applies changes one Trigger each, and checks the
// events the watch received and whether it is still registered.
type watchCase struct {
	name    string
	path    string
	kind    Kind
	changes []znode.Change
	want    []string
	alive   bool
}

func runWatchCases(t *testing.T, cases []watchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := NewManager()
			s := &recSink{}
			id := add(m, 7, tc.path, tc.kind, s)
			for _, c := range tc.changes {
				m.Trigger([]znode.Change{c}, nil)
			}
			s.check(t)
			equalLog(t, "events", s.log(), tc.want...)
			_, alive := m.byID[id]
			if alive != tc.alive {
				t.Fatalf("registered = %v, want %v", alive, tc.alive)
			}
			if alive && s.ended() || !alive && s.closes != 1 {
				t.Fatalf("closes=%d overflows=%d with registered=%v", s.closes, s.overflows, alive)
			}
			if w, _, _ := m.Count(); w != map[bool]int{true: 1, false: 0}[alive] {
				t.Fatalf("Count watches = %d", w)
			}
		})
	}
}

func TestOneShotWatches(t *testing.T) {
	runWatchCases(t, []watchCase{
		{name: "exist on missing node fires on create", path: "/a", kind: KindExist,
			changes: []znode.Change{created("/a", 1), changed("/a", 2)},
			want:    []string{"NodeCreated /a"}},
		{name: "exist on node fires on data change", path: "/a", kind: KindExist,
			changes: []znode.Change{changed("/a", 1), changed("/a", 2)},
			want:    []string{"NodeDataChanged /a"}},
		{name: "exist fires on delete", path: "/a", kind: KindExist,
			changes: []znode.Change{deleted("/a", 1)},
			want:    []string{"NodeDeleted /a"}},
		{name: "data fires once on change", path: "/a", kind: KindData,
			changes: []znode.Change{changed("/a", 1), changed("/a", 2)},
			want:    []string{"NodeDataChanged /a"}},
		{name: "data fires on delete", path: "/a/b", kind: KindData,
			changes: []znode.Change{deleted("/a/b", 1)},
			want:    []string{"NodeDeleted /a/b"}},
		{name: "data ignores children and siblings", path: "/a", kind: KindData,
			changes: []znode.Change{created("/a/b", 1), deleted("/a/b", 2), changed("/ab", 3), changed("/", 4)},
			alive:   true},
		{name: "child fires on child create", path: "/a", kind: KindChild,
			changes: []znode.Change{created("/a/b", 1), created("/a/c", 2)},
			want:    []string{"NodeChildrenChanged /a"}},
		{name: "child fires on child delete", path: "/a", kind: KindChild,
			changes: []znode.Change{deleted("/a/b", 1)},
			want:    []string{"NodeChildrenChanged /a"}},
		{name: "child of deleted node gets NodeDeleted", path: "/a", kind: KindChild,
			changes: []znode.Change{deleted("/a", 1)},
			want:    []string{"NodeDeleted /a"}},
		{name: "child ignores data, grandchildren, own create", path: "/a", kind: KindChild,
			changes: []znode.Change{changed("/a", 1), created("/a/b/c", 2), changed("/a/b", 3), created("/a", 4)},
			alive:   true},
		{name: "child watch on root", path: "/", kind: KindChild,
			changes: []znode.Change{created("/x/y", 1), created("/x", 2)},
			want:    []string{"NodeChildrenChanged /"}},
	})
}

func TestPersistentWatches(t *testing.T) {
	runWatchCases(t, []watchCase{
		{name: "persistent sees node and children, stays", path: "/a", kind: KindPersistent,
			changes: []znode.Change{
				created("/a", 1), changed("/a", 2), created("/a/b", 3), changed("/a/b", 4),
				created("/a/b/c", 5), deleted("/a/b", 6), deleted("/a", 7), created("/a", 8)},
			want: []string{"NodeCreated /a", "NodeDataChanged /a", "NodeChildrenChanged /a",
				"NodeChildrenChanged /a", "NodeDeleted /a", "NodeCreated /a"},
			alive: true},
		{name: "recursive sees everything below, no children events", path: "/a", kind: KindPersistentRecursive,
			changes: []znode.Change{
				created("/a", 1), created("/a/b", 2), created("/a/b/c", 3), changed("/a/b/c", 4),
				deleted("/a/b/c", 5), changed("/a", 6), created("/ab", 7), changed("/", 8), deleted("/a/b", 9)},
			want: []string{"NodeCreated /a", "NodeCreated /a/b", "NodeCreated /a/b/c", "NodeDataChanged /a/b/c",
				"NodeDeleted /a/b/c", "NodeDataChanged /a", "NodeDeleted /a/b"},
			alive: true},
		{name: "recursive on root sees all", path: "/", kind: KindPersistentRecursive,
			changes: []znode.Change{created("/x", 1), changed("/", 2), deleted("/x", 3)},
			want:    []string{"NodeCreated /x", "NodeDataChanged /", "NodeDeleted /x"},
			alive:   true},
	})
}

func TestEventsCarryZxid(t *testing.T) {
	m := NewManager()
	s := &recSink{}
	m.Add(1, "/a", KindPersistentRecursive, s)
	c := &recSink{}
	m.Add(1, "/a", KindChild, c)
	m.Trigger([]znode.Change{created("/a/b", 0x500000001), changed("/a/b", 0x500000002)}, nil)
	if len(s.events) != 2 || s.events[0].Zxid != 0x500000001 || s.events[1].Zxid != 0x500000002 {
		t.Fatalf("recursive events %+v", s.events)
	}
	if len(c.events) != 1 || c.events[0].Zxid != 0x500000001 || c.events[0].Err != nil {
		t.Fatalf("child events %+v", c.events)
	}
}

// TestOneChangeEveryKind checks one session with every kind of watch on the
// same paths: each registration gets its own event once.
func TestOneChangeEveryKind(t *testing.T) {
	m := NewManager()
	sinks := map[string]*recSink{}
	add := func(name, path string, k Kind) {
		sinks[name] = &recSink{}
		m.Add(3, path, k, sinks[name])
	}
	add("data", "/a/b", KindData)
	add("data2", "/a/b", KindData) // a second registration of the same watch
	add("exist", "/a/b", KindExist)
	add("child", "/a/b", KindChild)
	add("persist", "/a/b", KindPersistent)
	add("recur", "/a/b", KindPersistentRecursive)
	add("parentChild", "/a", KindChild)
	add("parentPersist", "/a", KindPersistent)
	add("parentRecur", "/a", KindPersistentRecursive)
	add("rootRecur", "/", KindPersistentRecursive)
	m.Trigger([]znode.Change{deleted("/a/b", 9)}, nil)
	want := map[string]string{
		"data": "NodeDeleted /a/b", "data2": "NodeDeleted /a/b", "exist": "NodeDeleted /a/b",
		"child": "NodeDeleted /a/b", "persist": "NodeDeleted /a/b", "recur": "NodeDeleted /a/b",
		"parentChild": "NodeChildrenChanged /a", "parentPersist": "NodeChildrenChanged /a",
		"parentRecur": "NodeDeleted /a/b", "rootRecur": "NodeDeleted /a/b",
	}
	for name, s := range sinks {
		s.check(t)
		equalLog(t, name, s.log(), want[name])
	}
	if w, p, ss := m.Count(); w != 5 || p != 3 || ss != 1 {
		t.Fatalf("Count = %d, %d, %d; want 5 watches (persistent ones) on 3 paths, 1 session", w, p, ss)
	}
}

func TestRemoveByType(t *testing.T) {
	kinds := []Kind{KindData, KindExist, KindChild, KindPersistent, KindPersistentRecursive}
	cases := []struct {
		typ     WatcherType
		removed map[Kind]EventType
	}{
		{WatcherChildren, map[Kind]EventType{KindChild: EventChildWatchRemoved}},
		{WatcherData, map[Kind]EventType{KindData: EventDataWatchRemoved, KindExist: EventDataWatchRemoved}},
		{WatcherPersistent, map[Kind]EventType{KindPersistent: EventPersistentWatchRemoved}},
		{WatcherPersistentRecursive, map[Kind]EventType{KindPersistentRecursive: EventPersistentWatchRemoved}},
		{WatcherAny, map[Kind]EventType{KindData: EventDataWatchRemoved, KindExist: EventDataWatchRemoved,
			KindChild: EventChildWatchRemoved, KindPersistent: EventPersistentWatchRemoved,
			KindPersistentRecursive: EventPersistentWatchRemoved}},
	}
	for _, tc := range cases {
		t.Run(tc.typ.String(), func(t *testing.T) {
			m := NewManager()
			mine := map[Kind]*recSink{}
			others := []*recSink{}
			for _, k := range kinds {
				mine[k] = &recSink{}
				m.Add(1, "/p", k, mine[k])
				o1, o2 := &recSink{}, &recSink{}
				m.Add(2, "/p", k, o1)   // other session, same path
				m.Add(1, "/p/q", k, o2) // same session, other path
				others = append(others, o1, o2)
			}
			n, err := m.Remove(1, "/p", tc.typ)
			if err != nil || n != len(tc.removed) {
				t.Fatalf("Remove = %d, %v; want %d", n, err, len(tc.removed))
			}
			for k, s := range mine {
				s.check(t)
				if ev, ok := tc.removed[k]; ok {
					if s.closes != 1 || len(s.events) != 1 || s.events[0] != (Event{Type: ev, Path: "/p"}) {
						t.Fatalf("%v: events %+v closes %d", k, s.events, s.closes)
					}
				} else if s.ended() || len(s.events) != 0 {
					t.Fatalf("%v: touched although not selected", k)
				}
			}
			for _, o := range others {
				if o.ended() || len(o.events) != 0 {
					t.Fatalf("another registration was touched")
				}
			}
			if _, err := m.Remove(1, "/p", tc.typ); !errors.Is(err, zkerr.ErrNoWatcher) {
				t.Fatalf("second Remove: %v, want ErrNoWatcher", err)
			}
		})
	}
}

func TestRemoveErrors(t *testing.T) {
	m := NewManager()
	m.Add(1, "/a", KindData, &recSink{})
	for _, tc := range []struct {
		session int64
		path    string
		typ     WatcherType
		want    error
	}{
		{1, "/a", WatcherChildren, zkerr.ErrNoWatcher},
		{2, "/a", WatcherData, zkerr.ErrNoWatcher},
		{1, "/b", WatcherAny, zkerr.ErrNoWatcher},
		{1, "/a", 0, zkerr.ErrBadArguments},
		{1, "/a", 6, zkerr.ErrBadArguments},
	} {
		if n, err := m.Remove(tc.session, tc.path, tc.typ); n != 0 || !errors.Is(err, tc.want) {
			t.Fatalf("Remove(%d,%s,%v) = %d, %v; want %v", tc.session, tc.path, tc.typ, n, err, tc.want)
		}
	}
	if w, _, _ := m.Count(); w != 1 {
		t.Fatalf("a failed Remove removed something")
	}
}

func TestRemoveID(t *testing.T) {
	m := NewManager()
	s := &recSink{}
	id := add(m, 1, "/a", KindPersistent, s)
	if !m.RemoveID(id) {
		t.Fatal("RemoveID of a live watch = false")
	}
	if m.RemoveID(id) || m.RemoveID(12345) {
		t.Fatal("RemoveID of a gone watch = true")
	}
	m.Trigger([]znode.Change{changed("/a", 1)}, nil)
	s.check(t)
	equalLog(t, "events", s.log(), "PersistentWatchRemoved /a")
	fired := &recSink{}
	id = add(m, 1, "/a", KindData, fired)
	m.Trigger([]znode.Change{changed("/a", 2)}, nil)
	if m.RemoveID(id) {
		t.Fatal("RemoveID of a fired one-shot watch = true")
	}
	if w, p, ss := m.Count(); w != 0 || p != 0 || ss != 0 {
		t.Fatalf("Count = %d %d %d after removals", w, p, ss)
	}
}

func TestDropSession(t *testing.T) {
	m := NewManager()
	var mine []*recSink
	for i, k := range []Kind{KindData, KindExist, KindChild, KindPersistent, KindPersistentRecursive} {
		s := &recSink{}
		mine = append(mine, s)
		m.Add(5, []string{"/a", "/b", "/c", "/d", "/"}[i], k, s)
	}
	other := &recSink{}
	m.Add(6, "/a", KindData, other)
	m.DropSession(5, zkerr.ErrSessionExpired)
	paths := []string{"/a", "/b", "/c", "/d", "/"}
	for i, s := range mine {
		s.check(t)
		if s.closes != 1 || len(s.events) != 1 {
			t.Fatalf("watch %d: events %+v closes %d", i, s.events, s.closes)
		}
		e := s.events[0]
		if e.Type != EventNotWatching || e.Path != paths[i] || e.Zxid != 0 || !errors.Is(e.Err, zkerr.ErrSessionExpired) {
			t.Fatalf("watch %d: event %+v", i, e)
		}
	}
	if got := m.SessionWatches(5); got != nil {
		t.Fatalf("SessionWatches after drop = %+v", got)
	}
	// The dropped watches are gone: changes reach only the other session.
	m.Trigger([]znode.Change{changed("/a", 1), created("/x", 2)}, nil)
	equalLog(t, "other", other.log(), "NodeDataChanged /a")
	for _, s := range mine {
		if len(s.events) != 1 {
			t.Fatal("dropped watch got an event")
		}
	}
	m.DropSession(5, nil) // no registrations: no-op
	s := &recSink{}
	m.Add(9, "/z", KindPersistent, s)
	m.DropSession(9, nil)
	if !errors.Is(s.events[0].Err, zkerr.ErrClosed) {
		t.Fatalf("nil reason gave %v", s.events[0].Err)
	}
	if w, p, ss := m.Count(); w != 0 || p != 0 || ss != 0 {
		t.Fatalf("Count = %d %d %d", w, p, ss)
	}
}

func TestSessionWatches(t *testing.T) {
	m := NewManager()
	a := add(m, 1, "/a", KindData, &recSink{})
	b := add(m, 1, "/b", KindPersistentRecursive, &recSink{})
	m.Add(2, "/a", KindData, &recSink{})
	c := add(m, 1, "/a", KindChild, &recSink{})
	m.RemoveID(b)
	got := m.SessionWatches(1)
	want := []Registration{{a, 1, "/a", KindData}, {c, 1, "/a", KindChild}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("SessionWatches = %+v, want %+v", got, want)
	}
}

func TestACLFiltering(t *testing.T) {
	m := NewManager()
	one, persist, other, parentPersist, parentChild := &recSink{}, &recSink{}, &recSink{}, &recSink{}, &recSink{}
	m.Add(1, "/s", KindData, one)
	m.Add(1, "/s", KindPersistent, persist)
	m.Add(2, "/s", KindData, other)
	m.Add(1, "/", KindPersistent, parentPersist)
	m.Add(1, "/", KindChild, parentChild)
	// Only session 2 may read /s; session 1 may not read its parent either.
	c := znode.Change{Type: znode.ChangeDeleted, Path: "/s", Zxid: 4, ACL: onlySession(2), ParentACL: noRead}
	m.Trigger([]znode.Change{c}, allow)
	for _, s := range []*recSink{one, persist, other, parentPersist, parentChild} {
		s.check(t)
	}
	// The one-shot watch is consumed as ZooKeeper does, but it says why.
	if len(one.events) != 1 || one.events[0].Type != EventNotWatching || one.events[0].Path != "/s" ||
		!errors.Is(one.events[0].Err, zkerr.ErrNoAuth) || one.closes != 1 {
		t.Fatalf("refused one-shot: %+v closes %d", one.events, one.closes)
	}
	if len(parentChild.events) != 1 || !errors.Is(parentChild.events[0].Err, zkerr.ErrNoAuth) || parentChild.events[0].Path != "/" {
		t.Fatalf("refused parent child watch: %+v", parentChild.events)
	}
	equalLog(t, "persistent", persist.log())
	equalLog(t, "parent persistent", parentPersist.log())
	equalLog(t, "other session", other.log(), "NodeDeleted /s")
	// Persistent watches stay and get what they may read.
	m.Trigger([]znode.Change{{Type: znode.ChangeCreated, Path: "/s", Zxid: 5, ACL: onlySession(1), ParentACL: onlySession(1)}}, allow)
	equalLog(t, "persistent", persist.log(), "NodeCreated /s")
	equalLog(t, "parent persistent", parentPersist.log(), "NodeChildrenChanged /")
	if persist.ended() || parentPersist.ended() {
		t.Fatal("persistent watch ended by a refused event")
	}
}

func TestOverflowRemovesAndTells(t *testing.T) {
	m := NewManager()
	s := NewChanSink(2)
	m.Add(1, "/a", KindPersistentRecursive, s)
	keep := &recSink{}
	m.Add(1, "/a", KindPersistent, keep)
	m.Trigger([]znode.Change{changed("/a", 1), changed("/a/b", 2), changed("/a/c", 3), changed("/a", 4)}, nil)
	var got []Event
	for e := range s.C() {
		got = append(got, e)
	}
	want := []Event{
		{Type: EventNodeDataChanged, Path: "/a", Zxid: 1},
		{Type: EventNodeDataChanged, Path: "/a/b", Zxid: 2},
		{Type: EventNotWatching, Path: "/a/c", Err: zkerr.ErrWatchOverflow},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if !errors.Is(s.Err(), zkerr.ErrWatchOverflow) {
		t.Fatalf("Err = %v", s.Err())
	}
	if w, _, _ := m.Count(); w != 1 || m.recursive != 0 {
		t.Fatalf("overflowed watch still registered: %d watches, %d recursive", w, m.recursive)
	}
	equalLog(t, "other watch", keep.log(), "NodeDataChanged /a", "NodeDataChanged /a")
}

// TestOneShotOverflow: a one-shot whose sink refuses its event is reported as
// overflowed, not closed.
func TestOneShotOverflow(t *testing.T) {
	m := NewManager()
	s := &recSink{cap: 1, pending: 1}
	m.Add(1, "/a", KindData, s)
	m.Trigger([]znode.Change{changed("/a", 1)}, nil)
	s.check(t)
	if s.overflows != 1 || s.closes != 0 || len(s.events) != 0 {
		t.Fatalf("overflows=%d closes=%d events=%v", s.overflows, s.closes, s.events)
	}
}

// TestTriggerTouchesOnlyRelevantWatches: the ACL check runs once per watch
// that fires, never for unrelated watches, whatever their number.
func TestTriggerTouchesOnlyRelevantWatches(t *testing.T) {
	m := NewManager()
	for i := 0; i < 2000; i++ {
		m.Add(int64(i), "/busy", KindData, &recSink{})
		m.Add(int64(i), "/busy", KindChild, &recSink{})
		m.Add(int64(i), "/busy/x", KindPersistent, &recSink{})
	}
	m.Add(1, "/", KindPersistentRecursive, &recSink{})
	calls := 0
	count := func(int64, []znode.ACL) bool { calls++; return true }
	m.Trigger([]znode.Change{changed("/busy/x/y/z", 1)}, count)
	if calls != 1 {
		t.Fatalf("DataChanged below busy paths made %d ACL checks, want 1 (the root's recursive watch)", calls)
	}
	calls = 0
	m.Trigger([]znode.Change{changed("/busy", 2)}, count)
	if calls != 2001 {
		t.Fatalf("DataChanged on /busy made %d ACL checks, want 2001", calls)
	}
}

func TestInvalidAddPanics(t *testing.T) {
	m := NewManager()
	for _, f := range []func(){
		func() { m.Add(1, "/a", 0, &recSink{}) },
		func() { m.Add(1, "/a", KindPersistentRecursive+1, &recSink{}) },
		func() { m.Add(1, "/a", KindData, nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		}()
	}
	if w, _, _ := m.Count(); w != 0 {
		t.Fatal("invalid Add registered a watch")
	}
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{EventNodeChildrenChanged.String(), "NodeChildrenChanged"},
		{EventNotWatching.String(), "NotWatching"},
		{EventType(99).String(), "EventType(99)"},
		{KindPersistentRecursive.String(), "PersistentRecursive"},
		{Kind(0).String(), "Kind(0)"},
		{WatcherAny.String(), "Any"},
		{WatcherType(9).String(), "WatcherType(9)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestFireOneRegistration(t *testing.T) {
	m := NewManager()
	one := NewChanSink(1)
	per := NewChanSink(4)
	other := NewChanSink(1)
	oneID := add(m, 1, "/a", KindData, one)
	perID := add(m, 1, "/a", KindPersistent, per)
	m.Add(1, "/a", KindData, other)
	ev := Event{Type: EventNodeDataChanged, Path: "/a", Zxid: 9}
	if !m.Fire(oneID, ev) || !m.Fire(perID, ev) {
		t.Fatal("Fire of live registrations must report true")
	}
	if got := <-one.C(); got != ev {
		t.Fatalf("one-shot got %+v", got)
	}
	if _, open := <-one.C(); open {
		t.Fatal("a fired one-shot must be closed")
	}
	if m.Fire(oneID, ev) {
		t.Fatal("a fired one-shot is gone")
	}
	if got := <-per.C(); got != ev {
		t.Fatalf("persistent got %+v", got)
	}
	if w, _, _ := m.Count(); w != 2 {
		t.Fatalf("the persistent watch and the untouched one-shot must stay, have %d", w)
	}
	select {
	case e := <-other.C():
		t.Fatalf("Fire must reach only its registration, other got %+v", e)
	default:
	}
}
