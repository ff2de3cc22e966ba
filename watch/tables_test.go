package watch

import (
	"slices"
	"testing"

	"github.com/embedzk/zk/znode"
)

// TestTablesCountPairs: ZooKeeper's tables hold (session, path) pairs. A
// getData and an exists watch of one session on one path are one pair; a
// persistent watch is in both tables, a recursive one in the data table
// only; a child watch only in the child table.
func TestTablesCountPairs(t *testing.T) {
	m := NewManager()
	add := func(session int64, path string, k Kind) {
		if _, err := m.Add(session, path, k, &recSink{}); err != nil {
			t.Fatal(err)
		}
	}
	add(1, "/a", KindData)
	add(1, "/a", KindExist) // the same pair
	add(2, "/a", KindData)
	add(1, "/b", KindChild)
	add(2, "/b", KindChild)
	add(3, "/c", KindPersistent)
	add(3, "/d", KindPersistentRecursive)
	add(4, "/e", KindChild) // child table only: not a data session
	want := Tables{DataPairs: 4, DataPaths: 3, DataSessions: 3, ChildPairs: 4}
	if got := m.Tables(); got != want {
		t.Errorf("Tables() = %+v, want %+v", got, want)
	}
	if got := m.Tables().Total(); got != 8 {
		t.Errorf("Total() = %d, want 8", got)
	}
	wantPairs := []Pair{{1, "/a"}, {2, "/a"}, {3, "/c"}, {3, "/d"}}
	if got := m.DataPairs(); !slices.Equal(got, wantPairs) {
		t.Errorf("DataPairs() = %v, want %v", got, wantPairs)
	}
	m.DropSession(3, nil)
	if got := m.Tables(); got != (Tables{DataPairs: 2, DataPaths: 1, DataSessions: 2, ChildPairs: 3}) {
		t.Errorf("after dropping session 3: %+v", got)
	}
}

// changeRec records the change numbers a ChangeSink is given.
type changeRec struct {
	recSink
	changes []uint64
}

func (c *changeRec) DeliverChange(ev Event, change uint64) bool {
	c.changes = append(c.changes, change)
	return c.Deliver(ev)
}

// TestChangeSinkNumbersChanges: the events of one change share a number,
// each change of a multi (one zxid) gets its own, and events that no
// change raised (a removal) come without one, through Deliver.
func TestChangeSinkNumbersChanges(t *testing.T) {
	m := NewManager()
	persistent, child := &changeRec{}, &changeRec{}
	if _, err := m.Add(1, "/p", KindPersistent, persistent); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(1, "/p", KindChild, child); err != nil {
		t.Fatal(err)
	}
	m.Trigger([]znode.Change{
		{Type: znode.ChangeDeleted, Path: "/p/a", Zxid: 7},
		{Type: znode.ChangeDeleted, Path: "/p/b", Zxid: 7},
	}, nil)
	if len(persistent.changes) != 2 || persistent.changes[0] == persistent.changes[1] {
		t.Fatalf("the persistent watch's changes: %v, want two different", persistent.changes)
	}
	if len(child.changes) != 1 || child.changes[0] != persistent.changes[0] {
		t.Fatalf("the child watch's change: %v, want the first delete's %d", child.changes, persistent.changes[0])
	}
	if n, err := m.Remove(1, "/p", WatcherAny); err != nil || n != 1 {
		t.Fatalf("Remove: %d %v", n, err)
	}
	if len(persistent.changes) != 2 || len(persistent.events) != 3 {
		t.Fatalf("after its removal: changes %v, events %v", persistent.changes, persistent.events)
	}
}
