package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// TestNilContext: every public method that takes a ctx refuses a nil one
// with ErrBadArguments, and the session still works afterwards. Issue 9
// item 9: a nil ctx panicked while the session's submission lock was held,
// and the session hung for good.
func TestNilContext(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	mustCreate(t, s, "/a", "x")
	var nilCtx context.Context
	calls := map[string]func() error{
		"Create":  func() error { _, err := s.Create(nilCtx, "/b", nil); return err },
		"Set":     func() error { _, err := s.Set(nilCtx, "/a", nil, -1); return err },
		"Delete":  func() error { return s.Delete(nilCtx, "/a", -1) },
		"SetACL":  func() error { _, err := s.SetACL(nilCtx, "/a", OpenACLUnsafe(), -1); return err },
		"Multi":   func() error { _, err := s.Multi(nilCtx, CheckOp("/a", -1)); return err },
		"Multi()": func() error { _, err := s.Multi(nilCtx); return err },
		"Get":     func() error { _, _, err := s.Get(nilCtx, "/a"); return err },
		"Exists":  func() error { _, _, err := s.Exists(nilCtx, "/a"); return err },
		"Children": func() error {
			_, _, err := s.Children(nilCtx, "/a")
			return err
		},
		"GetACL":            func() error { _, _, err := s.GetACL(nilCtx, "/a"); return err },
		"Sync":              func() error { return s.Sync(nilCtx, "/a") },
		"AllChildrenNumber": func() error { _, err := s.AllChildrenNumber(nilCtx, "/a"); return err },
		"Ephemerals":        func() error { _, err := s.Ephemerals(nilCtx, "/"); return err },
		"MultiRead":         func() error { _, err := s.MultiRead(nilCtx, GetDataOp("/a")); return err },
		"DeleteAll":         func() error { return s.DeleteAll(nilCtx, "/a") },
		"GetW":              func() error { _, _, _, err := s.GetW(nilCtx, "/a"); return err },
		"ExistsW":           func() error { _, _, _, err := s.ExistsW(nilCtx, "/a"); return err },
		"ChildrenW":         func() error { _, _, _, err := s.ChildrenW(nilCtx, "/a"); return err },
		"AddWatch":          func() error { _, err := s.AddWatch(nilCtx, "/a", true); return err },
		"RemoveWatches":     func() error { return s.RemoveWatches(nilCtx, "/a", WatcherAny) },
		"AddAuth":           func() error { return s.AddAuth(nilCtx, "digest", []byte("u:p")) },
		"Close":             func() error { return s.Close(nilCtx) },
		"NewSession":        func() error { _, err := e.NewSession(nilCtx); return err },
		"Reattach":          func() error { _, err := e.Reattach(nilCtx, s.ID(), s.Password()); return err },
		"ExpireSession":     func() error { return e.ExpireSession(nilCtx, s.ID()) },
		"WaitServing":       func() error { return e.WaitServing(nilCtx) },
		"Tick":              func() error { return e.Tick(nilCtx) },
		"Barrier":           func() error { return e.Barrier(nilCtx) },
		"SetQuota":          func() error { return s.SetQuota(nilCtx, "/a", Quota{Count: 1}) },
		"ListQuota":         func() error { _, _, err := s.ListQuota(nilCtx, "/a"); return err },
		"DeleteQuota":       func() error { return s.DeleteQuota(nilCtx, "/a") },
		"Zxid":              func() error { _, err := s.Zxid(nilCtx); return err },
		"Reconfig":          func() error { _, err := e.Reconfig(nilCtx, ReconfigRequest{}); return err },
	}
	for _, typ := range []reflect.Type{reflect.TypeOf(s), reflect.TypeOf(e)} {
		for i := 0; i < typ.NumMethod(); i++ {
			m := typ.Method(i)
			if m.Type.NumIn() > 1 && m.Type.In(1) == reflect.TypeOf((*context.Context)(nil)).Elem() {
				if _, ok := calls[m.Name]; !ok {
					t.Errorf("%v.%s takes a ctx and is not covered here", typ, m.Name)
				}
			}
		}
	}
	for name, call := range calls {
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = errors.New("panic")
				}
			}()
			return call()
		}()
		if !errors.Is(err, ErrBadArguments) {
			t.Errorf("%s(nil ctx) = %v, want ErrBadArguments", name, err)
		}
	}
	// The session is not wedged: it still reads and writes.
	done := async(ctx, func(ctx context.Context) error {
		if _, err := s.Set(ctx, "/a", []byte("y"), -1); err != nil {
			return err
		}
		if d, _, err := s.Get(ctx, "/a"); err != nil || string(d) != "y" {
			return fmt.Errorf("get: %q %v", d, err)
		}
		return nil
	})
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after the nil ctx calls: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the session hangs after the nil ctx calls")
	}
}

// TestCancelledContext: a call whose ctx ended before it was made sends
// nothing: it fails with the ctx's error (not "outcome unknown") and no
// write commits. Before, a write could still be handed to the peer loop (a
// select between a ready queue and a done ctx picks either) and commit.
func TestCancelledContext(t *testing.T) {
	e := standalone(t)
	s := newSession(t, e)
	done, cancel := context.WithCancel(testCtx(t))
	cancel()
	z0, _ := e.tree.Applied()
	for i := 0; i < 200; i++ {
		_, err := s.Create(done, fmt.Sprintf("/c%d", i), nil)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrOutcomeUnknown) {
			t.Fatalf("create with a cancelled ctx: %v, want context.Canceled", err)
		}
	}
	if _, _, err := s.Get(done, "/"); !errors.Is(err, context.Canceled) {
		t.Fatalf("get with a cancelled ctx: %v", err)
	}
	if err := s.Sync(testCtx(t), "/"); err != nil {
		t.Fatal(err)
	}
	if z, _ := e.tree.Applied(); z != z0 {
		t.Fatalf("writes with a cancelled ctx committed: applied %#x, was %#x", z, z0)
	}
}
