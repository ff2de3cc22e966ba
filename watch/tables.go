package watch

import (
	"cmp"
	"slices"
)

// ZooKeeper keeps its watches in two tables, each a set of (connection,
// path) pairs: the data table (getData and exists watches, and both kinds
// of persistent watch) and the child table (getChildren watches and
// non-recursive persistent watches). Its four-letter words count and list
// those pairs, not registrations: a session's getData and exists watches
// on one path are one pair. Tables and DataPairs give the same view of the
// registrations here.

// Tables counts the registrations as ZooKeeper's two watch tables hold
// them.
type Tables struct {
	// DataPairs, DataPaths and DataSessions: the data table's distinct
	// (session, path) pairs, its paths and its sessions (wchs).
	DataPairs, DataPaths, DataSessions int
	// ChildPairs: the child table's distinct (session, path) pairs.
	ChildPairs int
}

// Total is ZooKeeper's watch count (mntr's zk_watch_count): the pairs of
// both tables.
func (t Tables) Total() int { return t.DataPairs + t.ChildPairs }

// Tables counts the registrations as ZooKeeper's watch tables would hold
// them. It walks every registration under the Manager's lock (15–30 ms for
// 100,000 on this project's test machine, BenchmarkTables100k; ZooKeeper's
// count walks its tables too): for the four-letter words and metrics
// scrapes, not for hot paths.
func (m *Manager) Tables() Tables {
	m.mu.Lock()
	defer m.mu.Unlock()
	var t Tables
	var seen []int64 // scratch: few watchers per path, a slice beats a map
	for _, pw := range m.byPath {
		seen = addSessions(addSessions(addSessions(seen[:0], pw.data), pw.persis), pw.recur)
		if len(seen) > 0 {
			t.DataPaths++
			t.DataPairs += len(seen)
		}
		t.ChildPairs += len(addSessions(addSessions(seen[:0], pw.child), pw.persis))
	}
	for _, sw := range m.bySession {
		for _, r := range sw.regs {
			if r.kind != KindChild {
				t.DataSessions++
				break
			}
		}
	}
	return t
}

// addSessions adds to seen the sessions of l it does not hold yet.
func addSessions(seen []int64, l []*reg) []int64 {
	for _, r := range l {
		if !slices.Contains(seen, r.session) {
			seen = append(seen, r.session)
		}
	}
	return seen
}

// Pair is one (session, path) pair of the data table.
type Pair struct {
	Session int64
	Path    string
}

// DataPairs returns the data table's pairs (see Tables), sorted by session,
// then path: what ZooKeeper's wchc lists by session and wchp by path.
func (m *Manager) DataPairs() []Pair {
	m.mu.Lock()
	var out []Pair
	for _, pw := range m.byPath {
		for _, l := range [][]*reg{pw.data, pw.persis, pw.recur} {
			for _, r := range l {
				out = append(out, Pair{Session: r.session, Path: pw.path})
			}
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Pair) int {
		return cmp.Or(cmp.Compare(a.Session, b.Session), cmp.Compare(a.Path, b.Path))
	})
	return slices.Compact(out)
}
