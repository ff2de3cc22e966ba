package znode

import (
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/embedzk/zk/internal/zkerr"
)

// testOptions returns small options for tests on fs.
func testOptions(fs vfs.FS) Options {
	return Options{FS: fs, Dir: "/data/tree", CacheSize: 8 << 20, MemTableSize: 4 << 20}
}

func openTest(t testing.TB) *Tree {
	t.Helper()
	tr, err := Open(testOptions(vfs.NewMem()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// harness applies txns at increasing zxids.
type harness struct {
	t    testing.TB
	tree *Tree
	zxid int64
	now  int64
}

func newHarness(t testing.TB) *harness {
	return &harness{t: t, tree: openTest(t), zxid: 0x100000000, now: 1_700_000_000_000}
}

// apply applies txn (stamping Time if unset) and fails the test on a
// storage error.
func (h *harness) apply(txn Txn) (Result, []Change) {
	h.t.Helper()
	h.zxid++
	h.now += 7
	if txn.Time == 0 {
		txn.Time = h.now
	}
	r, ch, err := h.tree.Apply(h.zxid, &txn)
	if err != nil {
		h.t.Fatalf("apply %+v: %v", txn, err)
	}
	return r, ch
}

// ok applies txn and fails the test unless it succeeds.
func (h *harness) ok(txn Txn) Result {
	h.t.Helper()
	r, _ := h.apply(txn)
	if r.Err != nil {
		h.t.Fatalf("apply %v %q: %v", txn.Type, txn.Path, r.Err)
	}
	return r
}

func (h *harness) create(path string, data string) Result {
	h.t.Helper()
	return h.ok(Txn{Type: TxnCreate, Path: path, Data: []byte(data), ACL: OpenACLUnsafe()})
}

func (h *harness) get(path string) Node {
	h.t.Helper()
	n, err := h.tree.Get(path)
	if err != nil {
		h.t.Fatalf("get %s: %v", path, err)
	}
	return n
}

func (h *harness) session(id int64) {
	h.t.Helper()
	h.ok(Txn{Type: TxnCreateSession, Session: id, Timeout: 30000, Password: []byte("pw")})
}

func wantErr(t testing.TB, got, want error) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Fatalf("got error %v, want none", got)
		}
		return
	}
	if !errors.Is(got, want) {
		t.Fatalf("got error %v, want %v", got, want)
	}
}

// codeOf is the comparable form of a ZooKeeper error.
func codeOf(err error) zkerr.Code { return zkerr.CodeOf(err) }

// Short names for the sentinels the tables use most.
var (
	errNoNode     = zkerr.ErrNoNode
	errBadVersion = zkerr.ErrBadVersion
	errBadArgs    = zkerr.ErrBadArguments
)
