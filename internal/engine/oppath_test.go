package engine

import "testing"

// TestOpWithPath: WithPath moves an op to another path and keeps the rest;
// the original is unchanged.
func TestOpWithPath(t *testing.T) {
	e := standalone(t)
	s := newSession(t, e)
	ctx := testCtx(t)
	mustCreate(t, s, "/ns", "")
	op := CreateOp("/a", []byte("x"), WithMode(ModePersistentSequential))
	moved := op.WithPath("/ns/a")
	if op.Path() != "/a" || moved.Path() != "/ns/a" {
		t.Fatalf("paths %q, %q", op.Path(), moved.Path())
	}
	res, err := s.Multi(ctx, moved, SetOp("/ns", []byte("y"), -1).WithPath("/ns"))
	if err != nil || res[0].Path != "/ns/a0000000000" {
		t.Fatalf("multi: %+v, %v", res, err)
	}
	rd := GetDataOp("/x").WithPath("/ns/a0000000000")
	got, err := s.MultiRead(ctx, rd, GetChildrenOp("/").WithPath("/ns"))
	if err != nil || string(got[0].Data) != "x" || len(got[1].Children) != 1 || rd.Path() != "/ns/a0000000000" {
		t.Fatalf("multiRead: %+v, %v", got, err)
	}
}
