package engine

import (
	"errors"
	"testing"
)

// TestOpWithin: Within moves an op below a root and keeps the rest; the
// original is unchanged; a relative path and a create of the root itself
// are refused.
func TestOpWithin(t *testing.T) {
	e := standalone(t)
	s := newSession(t, e)
	ctx := testCtx(t)
	mustCreate(t, s, "/ns", "")
	op := CreateOp("/a", []byte("x"), WithMode(ModePersistentSequential))
	moved, err := op.Within("/ns")
	if err != nil || op.Path() != "/a" || moved.Path() != "/ns/a" {
		t.Fatalf("paths %q, %q, %v", op.Path(), moved.Path(), err)
	}
	set, _ := SetOp("/", []byte("y"), -1).Within("/ns")
	res, err := s.Multi(ctx, moved, set)
	if err != nil || res[0].Path != "/ns/a0000000000" {
		t.Fatalf("multi: %+v, %v", res, err)
	}
	rd, _ := GetDataOp("/a0000000000").Within("/ns")
	kids, _ := GetChildrenOp("/").Within("/ns")
	got, err := s.MultiRead(ctx, rd, kids)
	if err != nil || string(got[0].Data) != "x" || len(got[1].Children) != 1 || rd.Path() != "/ns/a0000000000" {
		t.Fatalf("multiRead: %+v, %v", got, err)
	}
	if same, err := CreateOp("/x", nil).Within("/"); err != nil || same.Path() != "/x" {
		t.Fatalf("within /: %q, %v", same.Path(), err)
	}
	for _, p := range []string{"", "x", "le"} {
		if _, err := DeleteOp(p, -1).Within("/app"); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("Within of %q: %v", p, err)
		}
		if _, err := GetDataOp(p).Within("/app"); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("read Within of %q: %v", p, err)
		}
	}
	if _, err := CreateOp("/", nil, WithMode(ModePersistentSequential)).Within("/app"); !errors.Is(err, ErrBadArguments) {
		t.Errorf("a sequential create of the root: %v", err)
	}
	if _, err := CreateOp("/a", nil).Within("app"); !errors.Is(err, ErrInvalidPath) {
		t.Errorf("a bad root: %v", err)
	}
}
