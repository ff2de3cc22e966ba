package znode

import (
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/google/go-cmp/cmp"
)

func TestReads(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/a", "/a/x", "/a/y", "/a/x/1", "/ab", "/ab/z", "/a-"} {
		h.create(p, "d"+p)
	}
	names, n, err := h.tree.Children("/a")
	if err != nil || !cmp.Equal(names, []string{"x", "y"}) || n.Stat.NumChildren != 2 || n.Data != nil {
		t.Fatalf("Children(/a) = %q %+v %v", names, n, err)
	}
	if names, _, _ := h.tree.Children("/a/y"); names == nil || len(names) != 0 {
		t.Fatalf("Children of a leaf = %#v, want empty non-nil", names)
	}
	for path, want := range map[string]int64{"/a": 3, "/ab": 1, "/a-": 0, "/a/x": 1, "/": 10} {
		if got, err := h.tree.AllChildrenNumber(path); err != nil || got != want {
			t.Errorf("AllChildrenNumber(%s) = %d, %v; want %d", path, got, err, want)
		}
	}
	s, err := h.tree.Stat("/a/x")
	if err != nil || s.Data != nil || s.Stat.DataLength != 5 || !cmp.Equal(s.ACL, OpenACLUnsafe()) {
		t.Fatalf("Stat = %+v %v", s, err)
	}
	for _, f := range []func(string) error{
		func(p string) error { _, err := h.tree.Get(p); return err },
		func(p string) error { _, err := h.tree.Stat(p); return err },
		func(p string) error { _, _, err := h.tree.Children(p); return err },
		func(p string) error { _, err := h.tree.AllChildrenNumber(p); return err },
	} {
		if err := f("/nope"); !errors.Is(err, zkerr.ErrNoNode) {
			t.Errorf("read of a missing node: %v", err)
		}
		if err := f("bad"); !errors.Is(err, zkerr.ErrInvalidPath) {
			t.Errorf("read of an invalid path: %v", err)
		}
	}
	// Returned slices belong to the caller.
	g := h.get("/a")
	g.Data[0] = 'X'
	g.ACL[0].ID = "mutated"
	if again := h.get("/a"); string(again.Data) != "d/a" || again.ACL[0].ID != IDAnyone {
		t.Fatal("a read returned memory the tree still uses")
	}
}

func TestMultiRead(t *testing.T) {
	h := newHarness(t)
	h.create("/a", "A")
	h.create("/a/b", "")
	res, err := h.tree.MultiRead([]ReadOp{
		{ReadGetData, "/a"},
		{ReadGetChildren, "/a"},
		{ReadGetData, "/missing"},
		{ReadGetChildren, "bad"},
		{9, "/a"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(res[0].Node.Data) != "A" || res[0].Err != nil {
		t.Fatalf("op 0: %+v", res[0])
	}
	if !cmp.Equal(res[1].Children, []string{"b"}) || res[1].Node.Data != nil || res[1].Node.Stat.NumChildren != 1 {
		t.Fatalf("op 1: %+v", res[1])
	}
	if !errors.Is(res[2].Err, zkerr.ErrNoNode) || !errors.Is(res[3].Err, zkerr.ErrInvalidPath) || !errors.Is(res[4].Err, zkerr.ErrBadArguments) {
		t.Fatalf("errors: %v %v %v", res[2].Err, res[3].Err, res[4].Err)
	}
}

func TestReopenKeepsState(t *testing.T) {
	fs := vfs.NewMem()
	tr, err := Open(testOptions(fs))
	if err != nil {
		t.Fatal(err)
	}
	populate(t, tr, 81, 100)
	want := stateOf(t, tr)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	re, err := Open(testOptions(fs))
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	if diff := cmp.Diff(want, stateOf(t, re), stateCmp); diff != "" {
		t.Fatalf("reopened (-before +after):\n%s", diff)
	}
	if re.Durable() != want.zxid {
		t.Fatalf("Durable = %d, want %d", re.Durable(), want.zxid)
	}
	// Apply continues above the reopened zxid only.
	if _, _, err := re.Apply(want.zxid, &Txn{Type: TxnNoop}); !errors.Is(err, ErrZxidOrder) {
		t.Fatalf("replay at the applied zxid: %v", err)
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, o := range []Options{{}, {FS: vfs.NewMem()}, {FS: vfs.NewMem(), Dir: "/x", MaxDataSize: -1}} {
		if _, err := Open(o); err == nil {
			t.Errorf("Open(%+v) succeeded", o)
		}
	}
}
