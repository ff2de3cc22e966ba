package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/zkerr"
)

// TestPipelinedWritesKeepOrder: many writes started before any is waited
// for are proposed in their order (sequence numbers follow it), each
// Pending gives its own outcome (a failing one fails in its place with the
// error the matching Session method gives), and a read issued after them
// sees them all.
func TestPipelinedWritesKeepOrder(t *testing.T) {
	e := standalone(t)
	s := RemoteSession{Session: newSession(t, e)}
	ctx := testCtx(t)
	mustCreate(t, s.Session, "/p", "")
	var ps []*Pending
	for i := 0; i < 50; i++ {
		ps = append(ps, s.StartCreate(ctx, "/p/s-", []byte(fmt.Sprint(i)), ModePersistentSequential, OpenACLUnsafe(), 0))
		if i == 25 {
			ps = append(ps, s.StartDelete(ctx, "/p/none", -1))
			ps = append(ps, s.StartSet(ctx, "/p", []byte("x"), 7))
			ps = append(ps, s.StartMulti(ctx, CheckOp("/p", 0), SetOp("/p", []byte("y"), -1)))
		}
	}
	seq := 0
	for _, p := range ps {
		res, err := p.Wait(ctx)
		switch p.op {
		case "create":
			if err != nil || res.Path != fmt.Sprintf("/p/s-%010d", seq) || res.Zxid == 0 {
				t.Fatalf("create #%d: %q %v (zxid %#x)", seq, res.Path, err, res.Zxid)
			}
			seq++
		case "delete":
			if !errors.Is(err, zkerr.ErrNoNode) || err.Error() != "zk: delete /p/none: node does not exist" {
				t.Fatalf("delete of a missing node: %v", err)
			}
		case "set":
			if !errors.Is(err, zkerr.ErrBadVersion) {
				t.Fatalf("set with a wrong version: %v", err)
			}
		case "multi":
			if err != nil || len(res.Multi) != 2 || res.Multi[1].Stat.Version != 1 {
				t.Fatalf("multi: %+v %v", res.Multi, err)
			}
		}
	}
	names, _, err := s.Children(ctx, "/p")
	if err != nil || len(names) != 50 {
		t.Fatalf("children: %d, %v", len(names), err)
	}
}

// TestPipelinedWriteRefusedBeforeItLeaves: a bad write fails at once,
// holds no ticket (the session's next call does not wait for it), and a
// Pending abandoned by a cancelled context still releases its ticket.
func TestPipelinedWriteRefusedBeforeItLeaves(t *testing.T) {
	e := standalone(t)
	s := RemoteSession{Session: newSession(t, e)}
	ctx := testCtx(t)
	bad := s.StartCreate(ctx, "no-slash", nil, ModePersistent, OpenACLUnsafe(), 0)
	if _, err := bad.Wait(ctx); !errors.Is(err, zkerr.ErrInvalidPath) {
		t.Fatalf("a bad path: %v", err)
	}
	if _, err := s.StartMulti(ctx).Wait(ctx); !errors.Is(err, zkerr.ErrBadArguments) {
		t.Fatalf("an empty multi: %v", err)
	}
	for name, acl := range map[string][]ACL{"nil": nil, "empty": {}} {
		if _, err := s.StartCreate(ctx, "/a", nil, ModePersistent, acl, 0).Wait(ctx); !errors.Is(err, zkerr.ErrInvalidACL) {
			t.Fatalf("a create with a %s ACL: %v, want ErrInvalidACL", name, err)
		}
	}
	if _, err := s.StartCreate(ctx, "/a", nil, ModePersistent, OpenACLUnsafe(), time.Second).Wait(ctx); !errors.Is(err, zkerr.ErrBadArguments) {
		t.Fatalf("a TTL on a persistent create: %v, want ErrBadArguments", err)
	}
	if ok, _, err := s.Exists(ctx, "/a"); ok || err != nil {
		t.Fatalf("after the refused creates, /a exists: %v, %v", ok, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	p := s.StartCreate(cctx, "/c", nil, ModePersistent, OpenACLUnsafe(), 0)
	cancel()
	p.Wait(cctx) // the outcome may be unknown; the ticket is released either way
	if _, _, err := s.Exists(ctx, "/"); err != nil {
		t.Fatalf("a call after an abandoned write: %v", err)
	}
}

// TestNoWaitStartWouldBlock: a NoWait start that would wait (here for the
// session's submit lock) fails with ErrWouldBlock and issues nothing; the
// same write started again afterwards runs, in order with the writes
// around it.
func TestNoWaitStartWouldBlock(t *testing.T) {
	e := standalone(t)
	s := RemoteSession{Session: newSession(t, e)}
	ctx := testCtx(t)
	mustCreate(t, s.Session, "/n", "")
	s.submitMu.Lock()
	p := s.NoWait().StartSet(ctx, "/n", []byte("a"), 0)
	s.submitMu.Unlock()
	if !p.WouldBlock() {
		t.Fatal("a NoWait start under a held submit lock did not report WouldBlock")
	}
	if _, err := p.Wait(ctx); !errors.Is(err, ErrWouldBlock) {
		t.Fatalf("Wait of a start that would block: %v", err)
	}
	if p := s.NoWait().StartSet(ctx, "/n", []byte("b"), 0); p.WouldBlock() {
		t.Fatal("a NoWait start with room reported WouldBlock")
	} else if res, err := p.Wait(ctx); err != nil || res.Stat.Version != 1 {
		t.Fatalf("the write started again: %+v %v (want version 1: the blocked one issued nothing)", res.Stat, err)
	}
}

// wakeCounter is a Waker that counts its wakes.
type wakeCounter chan struct{}

func (w wakeCounter) Wake() { w <- struct{}{} }

// TestNotifyAndDone: a write whose reply is not in yet takes a Waker and
// is not Done; once the loop answers it the Waker is told, and Done says
// Wait returns at once, but only after the session's earlier write was
// collected (its order). An answered write refuses a Waker.
func TestNotifyAndDone(t *testing.T) {
	e := standalone(t)
	s := RemoteSession{Session: newSession(t, e)}
	ctx := testCtx(t)
	mustCreate(t, s.Session, "/n", "")
	e.applyMu.Lock() // the loop cannot apply, so answers nothing
	p1 := s.StartSet(ctx, "/n", []byte("a"), 0)
	p2 := s.StartSet(ctx, "/n", []byte("b"), 1)
	w1, w2 := make(wakeCounter, 2), make(wakeCounter, 2)
	k1, k2 := Waker(w1), Waker(w2)
	if !p1.Notify(&k1) || !p2.Notify(&k2) {
		e.applyMu.Unlock()
		t.Fatal("Notify of writes not answered yet reported nothing to wait for")
	}
	if p1.Done() || p2.Done() {
		e.applyMu.Unlock()
		t.Fatal("a write not answered yet is Done")
	}
	e.applyMu.Unlock()
	for _, w := range []wakeCounter{w1, w2} {
		select {
		case <-w:
		case <-time.After(20 * time.Second):
			t.Fatal("a Waker was not told of its write's reply")
		}
	}
	if !p1.Done() {
		t.Fatal("an answered and applied write is not Done")
	}
	if p2.Done() {
		t.Fatal("a write is Done before the session's earlier write was collected")
	}
	if _, err := p1.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if !p2.Done() {
		t.Fatal("a write is not Done once the earlier one was collected")
	}
	if res, err := p2.Wait(ctx); err != nil || res.Stat.Version != 2 {
		t.Fatalf("%+v %v", res.Stat, err)
	}
	if len(w1)+len(w2) != 0 {
		t.Fatal("a Waker was told twice")
	}
	p3 := s.StartSet(ctx, "/n", []byte("c"), 2)
	for deadline := time.Now().Add(20 * time.Second); !p3.Done(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a write was not answered within 20s")
		}
	}
	k3 := Waker(make(wakeCounter, 1))
	if p3.Notify(&k3) {
		t.Fatal("Notify of an answered write reported something to wait for")
	}
	p3.Wait(ctx)
}
