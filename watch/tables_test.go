package watch

import (
	"slices"
	"testing"
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
