package znode

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSessionTable(t *testing.T) {
	h := newHarness(t)
	h.ok(Txn{Type: TxnCreateSession, Session: 3, Timeout: 4000, Password: []byte("a")})
	h.ok(Txn{Type: TxnCreateSession, Session: -5, Timeout: 6000, Password: []byte("b")})
	_, d := h.tree.Applied()
	// A duplicate is a no-op success: nothing changes.
	h.ok(Txn{Type: TxnCreateSession, Session: 3, Timeout: 1, Password: []byte("zz")})
	if _, d2 := h.tree.Applied(); d2 != d {
		t.Fatal("duplicate CreateSession changed the digest")
	}
	s, ok, err := h.tree.Session(3)
	if err != nil || !ok || s.Timeout != 4000 || string(s.Password) != "a" {
		t.Fatalf("Session(3) = %+v %v %v", s, ok, err)
	}
	all, err := h.tree.Sessions()
	want := []SessionInfo{{ID: -5, Timeout: 6000, Password: []byte("b")}, {ID: 3, Timeout: 4000, Password: []byte("a")}}
	if err != nil || !cmp.Equal(all, want) {
		t.Fatalf("Sessions = %+v, %v", all, err)
	}
	h.ok(Txn{Type: TxnCloseSession, Session: 3})
	if _, ok, _ := h.tree.Session(3); ok {
		t.Fatal("closed session still recorded")
	}
}

func TestCloseSessionDeletesEphemerals(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.session(2)
	h.create("/p", "")
	for _, c := range []struct {
		path    string
		session int64
	}{{"/p/b", 1}, {"/p/a", 1}, {"/z", 1}, {"/p/other", 2}} {
		h.ok(Txn{Type: TxnCreate, Path: c.path, Mode: ModeEphemeral, Session: c.session, ACL: OpenACLUnsafe()})
	}
	p := h.get("/p").Stat
	_, changes := h.apply(Txn{Type: TxnCloseSession, Session: 1})
	z := h.zxid
	var got []string
	for _, c := range changes {
		if c.Type != ChangeDeleted || c.Zxid != z {
			t.Fatalf("change %+v", c)
		}
		got = append(got, c.Path)
	}
	if !cmp.Equal(got, []string{"/p/a", "/p/b", "/z"}) {
		t.Fatalf("deleted %v", got)
	}
	p.NumChildren -= 2
	p.Cversion += 2 // ZooKeeper reports every delete of a child too
	p.Pzxid = z
	if diff := cmp.Diff(p, h.get("/p").Stat); diff != "" {
		t.Fatalf("parent (-want +got):\n%s", diff)
	}
	if eph, _ := h.tree.Ephemerals(1, "/"); len(eph) != 0 {
		t.Fatalf("left %v", eph)
	}
	if eph, _ := h.tree.Ephemerals(2, "/"); !cmp.Equal(eph, []string{"/p/other"}) {
		t.Fatalf("session 2: %v", eph)
	}
	// Closing again, or closing a session never seen, is a no-op success.
	_, d := h.tree.Applied()
	for _, id := range []int64{1, 12345} {
		if r, ch := h.apply(Txn{Type: TxnCloseSession, Session: id}); r.Err != nil || len(ch) != 0 {
			t.Fatalf("close %d again: %v %v", id, r.Err, ch)
		}
	}
	if _, d2 := h.tree.Applied(); d2 != d {
		t.Fatal("idempotent close changed the digest")
	}
}

func TestDeleteContainerAndTTL(t *testing.T) {
	h := newHarness(t)
	h.ok(Txn{Type: TxnCreate, Path: "/c", Mode: ModeContainer, ACL: OpenACLUnsafe()})
	h.create("/c/kid", "")
	h.ok(Txn{Type: TxnDelete, Path: "/c/kid", Version: -1})
	ttl := h.ok(Txn{Type: TxnCreate, Path: "/t", Mode: ModePersistentWithTTL, TTL: 100, ACL: OpenACLUnsafe(), Time: 1000})
	if ttl.Stat.Mtime != 1000 {
		t.Fatal(ttl.Stat)
	}
	// The TTL counts from the last data change, and needs to be exceeded.
	if r, _ := h.apply(Txn{Type: TxnDeleteContainer, Path: "/t", Time: 1100}); r.Err == nil {
		t.Fatal("TTL node reaped at exactly its TTL")
	}
	h.ok(Txn{Type: TxnSetData, Path: "/t", Version: -1, Time: 1050})
	if r, _ := h.apply(Txn{Type: TxnDeleteContainer, Path: "/t", Time: 1101}); r.Err == nil {
		t.Fatal("TTL node reaped although modified at 1050")
	}
	root := h.get("/").Stat
	_, changes := h.apply(Txn{Type: TxnDeleteContainer, Path: "/t", Time: 1151})
	if len(changes) != 1 || changes[0].Path != "/t" || changes[0].Type != ChangeDeleted {
		t.Fatalf("changes %+v", changes)
	}
	root.NumChildren--
	root.Cversion++ // the delete counts in the reported cversion
	root.Pzxid = h.zxid
	if diff := cmp.Diff(root, h.get("/").Stat); diff != "" {
		t.Fatalf("root (-want +got):\n%s", diff)
	}
	h.ok(Txn{Type: TxnDeleteContainer, Path: "/c"})
	if h.tree.NodeCount() != 4 {
		t.Fatalf("NodeCount %d", h.tree.NodeCount())
	}
}

func TestReapable(t *testing.T) {
	h := newHarness(t)
	mk := func(path string, mode CreateMode, ttl, now int64) {
		h.ok(Txn{Type: TxnCreate, Path: path, Mode: mode, TTL: ttl, ACL: OpenACLUnsafe(), Time: now})
	}
	mk("/c1", ModeContainer, 0, 10)          // never used: not reapable
	mk("/c2", ModeContainer, 0, 10)          // used, emptied: reapable
	mk("/c3", ModeContainer, 0, 10)          // used, has a child: not reapable
	mk("/t1", ModePersistentWithTTL, 50, 10) // expired at 100
	mk("/t2", ModePersistentWithTTL, 500, 10)
	mk("/t3", ModePersistentWithTTL, 5, 10) // expired but has a child
	mk("/p", ModePersistent, 0, 10)
	h.create("/c2/x", "")
	h.ok(Txn{Type: TxnDelete, Path: "/c2/x", Version: -1})
	h.create("/c3/x", "")
	h.create("/t3/x", "")
	got, err := h.tree.Reapable(100, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Txn{{Type: TxnDeleteContainer, Path: "/c2", Time: 100}, {Type: TxnDeleteContainer, Path: "/t1", Time: 100}}
	if !cmp.Equal(got, want) {
		t.Fatalf("Reapable = %+v", got)
	}
	if got, _ := h.tree.Reapable(100, 1); len(got) != 1 || got[0].Path != "/c2" {
		t.Fatalf("limit 1: %+v", got)
	}
	h.ok(got[0])
	if got, _ := h.tree.Reapable(100, 0); len(got) != 1 || got[0].Path != "/t1" {
		t.Fatalf("after reaping /c2: %+v", got)
	}
}
