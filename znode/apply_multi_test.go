package znode

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMultiSuccess(t *testing.T) {
	h := newHarness(t)
	h.create("/a", "old")
	h.create("/gone", "")
	txn := Txn{Type: TxnMulti, Time: 500, Ops: []Txn{
		{Type: TxnCheck, Path: "/a", Version: 0},
		{Type: TxnCreate, Path: "/a/q-", Mode: ModePersistentSequential, ACL: OpenACLUnsafe(), Data: []byte("1")},
		{Type: TxnCreate, Path: "/a/q-", Mode: ModePersistentSequential, ACL: OpenACLUnsafe(), Data: []byte("2")},
		{Type: TxnSetData, Path: "/a", Data: []byte("new"), Version: 0},
		{Type: TxnCheck, Path: "/a", Version: 1}, // sees the setData before it
		{Type: TxnDelete, Path: "/gone", Version: -1},
		{Type: TxnCreate, Path: "/gone", ACL: OpenACLUnsafe()}, // sees the delete
		{Type: TxnDelete, Path: "/a/q-0000000000", Version: 0},
	}}
	p := h.tree.NewPending()
	pr, pd := p.Prepare(h.zxid+1, &txn, nil)
	if pr.Err != nil {
		t.Fatal(pr.Err)
	}
	if txn.Ops[1].Path != "/a/q-0000000000" || txn.Ops[2].Path != "/a/q-0000000001" {
		t.Fatalf("resolved paths %q %q", txn.Ops[1].Path, txn.Ops[2].Path)
	}
	r, changes := h.apply(txn)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	z := h.zxid
	if _, d := h.tree.Applied(); d != pd {
		t.Fatalf("digest: prepare %#x, apply %#x", pd, d)
	}
	if diff := cmp.Diff(pr, r, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
		t.Fatalf("prepare vs apply (-prepare +apply):\n%s", diff)
	}
	if len(r.Multi) != len(txn.Ops) {
		t.Fatalf("%d results", len(r.Multi))
	}
	for i, op := range r.Multi {
		if op.Err != nil {
			t.Fatalf("op %d: %v", i, op.Err)
		}
	}
	wantCreate := Stat{Czxid: z, Mzxid: z, Pzxid: z, Ctime: 500, Mtime: 500, DataLength: 1}
	if diff := cmp.Diff(wantCreate, r.Multi[2].Stat); diff != "" {
		t.Fatalf("create op stat (-want +got):\n%s", diff)
	}
	if r.Multi[3].Stat.Version != 1 || r.Multi[3].Stat.Mtime != 500 {
		t.Fatalf("setData op stat %+v", r.Multi[3].Stat)
	}
	a := h.get("/a")
	// Two creates and one delete of a child: ZooKeeper reports cversion 3.
	if string(a.Data) != "new" || a.Stat.NumChildren != 1 || a.Stat.Cversion != 3 || a.Stat.Pzxid != z {
		t.Fatalf("/a after multi: %+v %q", a.Stat, a.Data)
	}
	var got []string
	for _, c := range changes {
		got = append(got, string(rune('0'+c.Type))+c.Path)
	}
	want := []string{"1/a/q-0000000000", "1/a/q-0000000001", "3/a", "2/gone", "1/gone", "2/a/q-0000000000"}
	if !cmp.Equal(got, want) {
		t.Fatalf("changes %v, want %v", got, want)
	}
}

func TestEmptyMultiSucceeds(t *testing.T) {
	h := newHarness(t)
	r := h.ok(Txn{Type: TxnMulti})
	if len(r.Multi) != 0 {
		t.Fatalf("results %+v", r.Multi)
	}
}

func TestFailedMultiLeavesPendingUntouched(t *testing.T) {
	h := newHarness(t)
	h.create("/a", "")
	p := h.tree.NewPending()
	ok := Txn{Type: TxnCreate, Path: "/a/x-", Mode: ModePersistentSequential, ACL: OpenACLUnsafe()}
	if r, _ := p.Prepare(h.zxid+1, &ok, nil); r.Err != nil {
		t.Fatal(r.Err)
	}
	n := p.Len()
	bad := Txn{Type: TxnMulti, Ops: []Txn{
		{Type: TxnCreate, Path: "/a/x-", Mode: ModePersistentSequential, ACL: OpenACLUnsafe()},
		{Type: TxnDelete, Path: "/nope", Version: -1},
	}}
	if r, _ := p.Prepare(h.zxid+2, &bad, nil); r.Err == nil {
		t.Fatal("multi should fail")
	}
	if p.Len() != n || bad.Ops[0].Path != "/a/x-" {
		t.Fatalf("failed multi leaked: len %d -> %d, path %q", n, p.Len(), bad.Ops[0].Path)
	}
	// The next sequential create continues from the first one only.
	next := Txn{Type: TxnCreate, Path: "/a/x-", Mode: ModePersistentSequential, ACL: OpenACLUnsafe()}
	if r, _ := p.Prepare(h.zxid+2, &next, nil); r.Err != nil || next.Path != "/a/x-0000000001" {
		t.Fatalf("next create: %v %q", r.Err, next.Path)
	}
}
