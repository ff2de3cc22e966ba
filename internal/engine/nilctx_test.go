package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/embedzk/zk/zab/transport"
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
	calls := ctxCalls(nil, e, s)
	checkCtxCallsCovered(t, calls, e, s)
	for name, call := range calls {
		err := callNoPanic(call)
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

// ctxCalls is every public method of s and e that takes a ctx, called with
// ctx on the node /a (which may exist or not) and harmless arguments.
func ctxCalls(ctx context.Context, e *Ensemble, s *Session) map[string]func() error {
	return map[string]func() error{
		"Create":  func() error { _, err := s.Create(ctx, "/b", nil); return err },
		"Set":     func() error { _, err := s.Set(ctx, "/a", nil, -1); return err },
		"Delete":  func() error { return s.Delete(ctx, "/a", -1) },
		"SetACL":  func() error { _, err := s.SetACL(ctx, "/a", OpenACLUnsafe(), -1); return err },
		"Multi":   func() error { _, err := s.Multi(ctx, CheckOp("/a", -1)); return err },
		"Multi()": func() error { _, err := s.Multi(ctx); return err },
		"Get":     func() error { _, _, err := s.Get(ctx, "/a"); return err },
		"Exists":  func() error { _, _, err := s.Exists(ctx, "/a"); return err },
		"Children": func() error {
			_, _, err := s.Children(ctx, "/a")
			return err
		},
		"GetACL":            func() error { _, _, err := s.GetACL(ctx, "/a"); return err },
		"Sync":              func() error { return s.Sync(ctx, "/a") },
		"AllChildrenNumber": func() error { _, err := s.AllChildrenNumber(ctx, "/a"); return err },
		"Ephemerals":        func() error { _, err := s.Ephemerals(ctx, "/"); return err },
		"MultiRead":         func() error { _, err := s.MultiRead(ctx, GetDataOp("/a")); return err },
		"DeleteAll":         func() error { return s.DeleteAll(ctx, "/a") },
		"GetW":              func() error { _, _, _, err := s.GetW(ctx, "/a"); return err },
		"ExistsW":           func() error { _, _, _, err := s.ExistsW(ctx, "/a"); return err },
		"ChildrenW":         func() error { _, _, _, err := s.ChildrenW(ctx, "/a"); return err },
		"AddWatch":          func() error { _, err := s.AddWatch(ctx, "/a", true); return err },
		"RemoveWatches":     func() error { return s.RemoveWatches(ctx, "/a", WatcherAny) },
		"AddAuth":           func() error { return s.AddAuth(ctx, "digest", []byte("u:p")) },
		"Close":             func() error { return s.Close(ctx) },
		"NewSession":        func() error { _, err := e.NewSession(ctx); return err },
		"Reattach":          func() error { _, err := e.Reattach(ctx, s.ID(), s.Password()); return err },
		"ExpireSession":     func() error { return e.ExpireSession(ctx, s.ID()) },
		"WaitServing":       func() error { return e.WaitServing(ctx) },
		"Tick":              func() error { return e.Tick(ctx) },
		"Barrier":           func() error { return e.Barrier(ctx) },
		"SetQuota":          func() error { return s.SetQuota(ctx, "/a", Quota{Count: 1}) },
		"ListQuota":         func() error { _, _, err := s.ListQuota(ctx, "/a"); return err },
		"DeleteQuota":       func() error { return s.DeleteQuota(ctx, "/a") },
		"Zxid":              func() error { _, err := s.Zxid(ctx); return err },
		"Reconfig":          func() error { _, err := e.Reconfig(ctx, ReconfigRequest{}); return err },
	}
}

// checkCtxCallsCovered fails t for a method of s or e that takes a ctx and
// is not in calls.
func checkCtxCallsCovered(t *testing.T, calls map[string]func() error, e *Ensemble, s *Session) {
	t.Helper()
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
}

// callNoPanic runs call, turning a panic into an error.
func callNoPanic(call func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return call()
}

// TestContextFirstWhenNotServing: on a peer that does not serve, a call
// whose ctx already ended fails with the ctx's error and a nil ctx with
// ErrBadArguments, as on a serving peer: the ctx is checked before
// anything else. Sync checked the peer first and answered ErrNotServing
// (the simulation's bad-input workload, TestSim -reconfig seed 9556).
func TestContextFirstWhenNotServing(t *testing.T) {
	c := newClusterWith(t, 3, 0, 48, transport.NetworkOptions{}, func(cfg *Config) { cfg.MaxSessionTimeout = 200 * cfg.TickTime })
	c.waitFor("a serving ensemble", 400, c.allServing)
	f := c.others(c.leader())[0]
	s := c.session(f)
	c.net.Isolate(f)
	c.waitFor("the cut-off follower not serving", 400, func() bool { return !c.ens[f].Status().Serving })
	if _, _, err := s.Get(testCtx(t), "/"); !errors.Is(err, ErrNotServing) {
		t.Fatalf("read on the cut-off peer: %v, want ErrNotServing", err)
	}
	done, cancel := context.WithCancel(testCtx(t))
	cancel()
	ended := ctxCalls(done, c.ens[f], s)
	checkCtxCallsCovered(t, ended, c.ens[f], s)
	for name, call := range ended {
		if err := callNoPanic(call); !errors.Is(err, context.Canceled) || errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("%s(an ended ctx) on a peer not serving = %v, want context.Canceled", name, err)
		}
	}
	for name, call := range ctxCalls(nil, c.ens[f], s) {
		if err := callNoPanic(call); !errors.Is(err, ErrBadArguments) {
			t.Errorf("%s(nil ctx) on a peer not serving = %v, want ErrBadArguments", name, err)
		}
	}
}
