package znode

import (
	"bytes"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// ZooKeeper keeps a node's null data (created or set with data null:
// getData returns null, zkCli prints "null") apart from empty data (a
// zero-length array, an empty line in zkCli). Checked against ZooKeeper
// 3.8: kazoo's create("/n", None) reads back None, create("/e", b"")
// reads back b"", and set(None) / set(b"") do the same; the built-in nodes
// (/, /zookeeper, /zookeeper/quota, /zookeeper/config) read back b"";
// zkCli's setquota makes the directories under /zookeeper/quota with null
// data. The tests below hold the tree to it at every layer: the node
// value, the txn encoding, Apply and Prepare, snapshots, and trees and
// logs written before the difference was kept.

// isNull reports whether data is null (nil), as opposed to empty.
func dataKind(b []byte) string {
	switch {
	case b == nil:
		return "null"
	case len(b) == 0:
		return "empty"
	}
	return "data"
}

func TestNullDataNodeValue(t *testing.T) {
	for _, data := range [][]byte{nil, {}, []byte("x")} {
		n := node{acl: OpenACLUnsafe(), data: data}
		got, err := decodeNode(encodeNode(&n))
		if err != nil {
			t.Fatal(err)
		}
		if dataKind(got.data) != dataKind(data) {
			t.Errorf("node with %s data decodes with %s data", dataKind(data), dataKind(got.data))
		}
	}
	// A null node's value has no data after its ACL: bytes there are
	// corrupt.
	b := append(encodeNode(&node{acl: OpenACLUnsafe()}), 'x')
	if _, err := decodeNode(b); err == nil {
		t.Error("a null node with data bytes decoded")
	}
	// The digest tells them apart, so replicas that disagree are caught.
	null, empty := node{}, node{data: []byte{}}
	if nodeDigest("/a", &null) == nodeDigest("/a", &empty) {
		t.Error("null and empty data have one digest")
	}
}

// TestNullDataValueWrittenBefore: a value written before null was kept
// apart (version 1, no flag, data the rest of the value) reads back as
// empty data, which is what such a node served; its digest is unchanged.
func TestNullDataValueWrittenBefore(t *testing.T) {
	// The encoding of node{acl: OpenACLUnsafe()} by the code that kept no
	// difference.
	old := append([]byte{1, 0}, make([]byte, 72)...)
	old = append(old, 1, 31, 5, 'w', 'o', 'r', 'l', 'd', 6, 'a', 'n', 'y', 'o', 'n', 'e')
	n, err := decodeNode(old)
	if err != nil {
		t.Fatal(err)
	}
	if dataKind(n.data) != "empty" {
		t.Fatalf("an old value decodes with %s data, want empty", dataKind(n.data))
	}
	if !bytes.Equal(encodeNode(&n), old) {
		t.Fatalf("re-encoding an old empty node changed it:\n%x\n%x", encodeNode(&n), old)
	}
}

func TestNullDataTxn(t *testing.T) {
	for _, data := range [][]byte{nil, {}, []byte("x")} {
		for _, txn := range []Txn{
			{Type: TxnCreate, Path: "/a", Data: data, ACL: OpenACLUnsafe()},
			{Type: TxnSetData, Path: "/a", Data: data, Version: -1},
			{Type: TxnMulti, Ops: []Txn{{Type: TxnCreate, Path: "/a", Data: data, ACL: OpenACLUnsafe()}, {Type: TxnSetData, Path: "/a", Data: data, Version: -1}}},
		} {
			b, err := EncodeTxn(&txn)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeTxn(b)
			if err != nil {
				t.Fatal(err)
			}
			ops := []Txn{*got}
			if got.Type == TxnMulti {
				ops = got.Ops
			}
			for _, op := range ops {
				if dataKind(op.Data) != dataKind(data) {
					t.Errorf("%v with %s data decodes with %s data", op.Type, dataKind(data), dataKind(op.Data))
				}
			}
		}
	}
}

// TestNullDataTxnWrittenBefore: a create or setData logged before null was
// kept apart carries no data field for both; it replays as empty data,
// what the node served when it was written.
func TestNullDataTxnWrittenBefore(t *testing.T) {
	// {"t": 1, "p": "/a", "a": [{"p": 31, "s": "world", "i": "anyone"}]}
	// and {"t": 3, "p": "/a", "v": -1} as the earlier code logged them.
	for _, b := range [][]byte{
		{txnFormat, 0x83, 0xa1, 't', 0x01, 0xa1, 'p', 0xa2, '/', 'a', 0xa1, 'a', 0x91, 0x83,
			0xa1, 'p', 0x1f, 0xa1, 's', 0xa5, 'w', 'o', 'r', 'l', 'd', 0xa1, 'i', 0xa6, 'a', 'n', 'y', 'o', 'n', 'e'},
		{txnFormat, 0x83, 0xa1, 't', 0x03, 0xa1, 'p', 0xa2, '/', 'a', 0xa1, 'v', 0xff},
	} {
		txn, err := DecodeTxn(b)
		if err != nil {
			t.Fatal(err)
		}
		if dataKind(txn.Data) != "empty" {
			t.Errorf("an old %v decodes with %s data, want empty", txn.Type, dataKind(txn.Data))
		}
	}
}

func TestNullDataApply(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{RootPath, SystemPath, QuotaPath, ConfigPath} {
		if k := dataKind(h.get(p).Data); k != "empty" {
			t.Errorf("built-in %s has %s data, want empty (as ZooKeeper's)", p, k)
		}
	}
	h.ok(Txn{Type: TxnCreate, Path: "/n", ACL: OpenACLUnsafe()})
	h.ok(Txn{Type: TxnCreate, Path: "/e", Data: []byte{}, ACL: OpenACLUnsafe()})
	check := func(path, want string) {
		t.Helper()
		n := h.get(path)
		if k := dataKind(n.Data); k != want {
			t.Errorf("%s has %s data, want %s", path, k, want)
		}
		if n.Stat.DataLength != 0 {
			t.Errorf("%s: DataLength %d", path, n.Stat.DataLength)
		}
		p := h.tree.NewPending()
		if pn, err := p.Get(path); err != nil || dataKind(pn.Data) != want {
			t.Errorf("Pending.Get(%s): %s data, %v; want %s", path, dataKind(pn.Data), err, want)
		}
		res, err := h.tree.MultiRead([]ReadOp{{Type: ReadGetData, Path: path}})
		if err != nil || dataKind(res[0].Node.Data) != want {
			t.Errorf("MultiRead(%s): %s data, %v; want %s", path, dataKind(res[0].Node.Data), err, want)
		}
	}
	check("/n", "null")
	check("/e", "empty")
	h.ok(Txn{Type: TxnSetData, Path: "/n", Data: []byte{}, Version: -1})
	h.ok(Txn{Type: TxnSetData, Path: "/e", Version: -1})
	check("/n", "empty")
	check("/e", "null")
	h.ok(*SetQuotaTxn("/e", QuotaLimits{Count: 5, Bytes: -1, CountHard: -1, BytesHard: -1}))
	check(QuotaPath+"/e", "null") // zkCli's setquota creates it with null data
}

func TestNullDataSnapshot(t *testing.T) {
	h := newHarness(t)
	h.ok(Txn{Type: TxnCreate, Path: "/n", ACL: OpenACLUnsafe()})
	h.ok(Txn{Type: TxnCreate, Path: "/e", Data: []byte{}, ACL: OpenACLUnsafe()})
	snap := snapshotBytes(t, h.tree)
	dst, err := Open(testOptions(vfs.NewMem()))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := dst.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/n": "null", "/e": "empty"} {
		n, err := dst.Get(path)
		if err != nil || dataKind(n.Data) != want {
			t.Errorf("restored %s: %s data, %v; want %s", path, dataKind(n.Data), err, want)
		}
	}
	_, d1 := h.tree.Applied()
	if _, d2 := dst.Applied(); d1 != d2 {
		t.Errorf("digest %#x after restore, %#x before", d2, d1)
	}
}
