package znode

import (
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestSizes: ZooKeeper's approximate data size counts every node's path and
// data; creates, sets, deletes and a session's ephemerals move it and the
// ephemeral count.
func TestSizes(t *testing.T) {
	h := newHarness(t)
	base := int64(len("/") + len("/zookeeper") + len("/zookeeper/quota") + len("/zookeeper/config"))
	check := func(bytes, ephemerals int64) {
		t.Helper()
		if got := [2]int64{h.tree.DataSize(), h.tree.EphemeralCount()}; got != [2]int64{bytes, ephemerals} {
			t.Fatalf("DataSize, EphemeralCount %v, want %v", got, [2]int64{bytes, ephemerals})
		}
	}
	check(base, 0)
	h.create("/a", "12345")
	check(base+2+5, 0)
	h.ok(Txn{Type: TxnSetData, Path: "/a", Data: []byte("1"), Version: -1})
	check(base+2+1, 0)
	h.session(7)
	h.ok(Txn{Type: TxnCreate, Session: 7, Path: "/a/e", Data: []byte("xy"), ACL: OpenACLUnsafe(), Mode: ModeEphemeral})
	check(base+3+4+2, 1)
	h.ok(Txn{Type: TxnCloseSession, Session: 7})
	check(base+3, 0)
	h.ok(Txn{Type: TxnDelete, Path: "/a", Version: -1})
	check(base, 0)
}

// TestSizesOfALegacyTree: a tree whose meta record predates the sizes (25
// bytes) reopens with its sizes measured from its nodes.
func TestSizesOfALegacyTree(t *testing.T) {
	opts := testOptions(vfs.NewMem())
	tr, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, tree: tr, zxid: 0x100000000, now: 1_700_000_000_000}
	h.session(7)
	h.create("/a", "12345")
	h.ok(Txn{Type: TxnCreate, Session: 7, Path: "/a/e", Data: []byte("xy"), ACL: OpenACLUnsafe(), Mode: ModeEphemeral})
	want := [2]int64{tr.DataSize(), tr.EphemeralCount()}
	legacy := encodeMeta(*tr.applied.Load())[:25]
	if err := tr.db.Set(metaKey, legacy, pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	re, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	if got := [2]int64{re.DataSize(), re.EphemeralCount()}; got != want || want[1] != 1 {
		t.Fatalf("measured sizes %v, kept %v", got, want)
	}
}
