package engine

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/znode"
)

// settleExcept is settle that holds every frame from -> to (a slow link):
// it delivers the rest until nothing else moves.
func (c *cluster) settleExcept(from, to int64) {
	c.t.Helper()
	ctx := testCtx(c.t)
	for i := 0; i < 100000; i++ {
		n := 0
		for _, p := range c.net.Pending() {
			if p.From == from && p.To == to {
				continue
			}
			if err := c.net.Deliver(p); err != nil {
				c.t.Fatal(err)
			}
			n++
		}
		for _, id := range c.running() {
			if err := c.ens[id].Barrier(ctx); err != nil {
				c.t.Fatalf("barrier on %d: %v", id, err)
			}
		}
		if n == 0 {
			return
		}
	}
	c.t.Fatal("the cluster never settled")
}

// doExcept runs fn while driving the cluster with the link from -> to
// held, without ticks.
func (c *cluster) doExcept(from, to int64, fn func(ctx context.Context) error) error {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	for {
		select {
		case err := <-done:
			return err
		default:
		}
		c.settleExcept(from, to)
		runtime.Gosched()
	}
}

// holds reports whether a frame from -> to is waiting.
func (c *cluster) holds(from, to int64) bool {
	for _, p := range c.net.Pending() {
		if p.From == from && p.To == to {
			return true
		}
	}
	return false
}

// TestSessionMovedWriteRefused: a client's write sent through follower A
// is held on A's link to the leader; the client re-attaches its session on
// follower B and writes there. When A's write reaches the leader it fails
// with ErrSessionMoved and changes nothing, so the write the client sent
// first is never applied after the one it sent later (ZooKeeper's
// SESSIONMOVED). A write from the session on B, and the session's close
// from A, still work.
func TestSessionMovedWriteRefused(t *testing.T) {
	c := newCluster(t, 3, 0, 71)
	c.waitFor("a leader", 400, c.allServing)
	lead := c.leader()
	others := c.others(lead)
	a, b := others[0], others[1]
	s := c.session(a)
	if err := c.create(s, "/x"); err != nil {
		t.Fatal(err)
	}
	old := make(chan error, 1)
	go func() {
		_, err := s.Set(context.Background(), "/x", []byte("old"), -1)
		old <- err
	}()
	for !c.holds(a, lead) {
		c.settleExcept(a, lead)
		runtime.Gosched()
	}
	var moved *Session
	err := c.doExcept(a, lead, func(ctx context.Context) (err error) {
		if moved, err = c.ens[b].Reattach(ctx, s.ID(), s.Password()); err != nil {
			return err
		}
		_, err = moved.Set(ctx, "/x", []byte("new"), -1)
		return err
	})
	if err != nil {
		t.Fatalf("re-attach and write on %d: %v", b, err)
	}
	c.settle()
	select {
	case err := <-old:
		if !errors.Is(err, zkerr.ErrSessionMoved) {
			t.Fatalf("the write held on %d's link: %v, want ErrSessionMoved", a, err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the held write never returned")
	}
	for _, id := range c.running() {
		n, err := c.ens[id].tree.Get("/x")
		if err != nil || string(n.Data) != "new" {
			t.Fatalf("peer %d: /x = %q, %v; want new", id, n.Data, err)
		}
	}
	if err := c.do(func(ctx context.Context) error {
		_, err := moved.Set(ctx, "/x", []byte("again"), -1)
		return err
	}); err != nil {
		t.Fatalf("a write on %d after the refusal: %v", b, err)
	}
	c.sameTrees()
}

// TestStaleRequestRefused: a write handed to the loop in an earlier period
// of serving (the loop took it only after the peer had stopped and started
// serving again, as a stalled process does) fails with ErrNotServing and
// changes nothing; handed over in the current period, the same write
// commits.
func TestStaleRequestRefused(t *testing.T) {
	e := standalone(t)
	s := newSession(t, e)
	mustCreate(t, s, "/x", "a")
	ctx := testCtx(t)
	for _, c := range []struct {
		data   string
		period uint64 // Ensemble.period + 1 at the hand-over
		want   error
	}{
		{"stale", e.period.Load(), zkerr.ErrNotServing}, // the period before
		{"fresh", e.period.Load() + 1, nil},
	} {
		txn := &znode.Txn{Type: znode.TxnSetData, Session: s.ID(), Path: "/x", Data: []byte(c.data), Version: -1}
		r := newRequest(reqWrite, txn)
		r.inLoop = &e.inLoop
		e.inLoop.Add(1)
		r.period = c.period
		e.reqC <- r
		rep, err := r.wait(ctx)
		if err == nil {
			err = rep.err
		}
		if err == nil {
			err = rep.res.Err
		}
		if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Fatalf("%s write: %v, want %v", c.data, err, c.want)
		}
	}
	if data, _, err := s.Get(ctx, "/x"); err != nil || string(data) != "fresh" {
		t.Fatalf("/x = %q, %v", data, err)
	}
}

// TestForwardOfAnotherEpochRefused: the leader runs a forwarded write only
// if the follower sent it to the leader of the leader's own epoch; one
// sent under an earlier leader (delivered late, after an election) is
// answered ErrNotServing and changes nothing.
func TestForwardOfAnotherEpochRefused(t *testing.T) {
	c := newCluster(t, 3, 0, 73)
	c.waitFor("a leader", 400, c.allServing)
	lead := c.leader()
	f := c.others(lead)[0]
	s := c.session(f)
	if err := c.create(s, "/x"); err != nil {
		t.Fatal(err)
	}
	epoch := c.ens[lead].Status().Epoch
	for _, run := range []struct {
		data  string
		epoch int64
	}{{"new", epoch}, {"old", epoch - 1}} {
		txn := &znode.Txn{Type: znode.TxnSetData, Session: s.ID(), Path: "/x", Data: []byte(run.data), Version: -1}
		b, err := encodeForward(1<<40, run.epoch, false, nil, txn)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.ens[lead].inspect(testCtx(t), func(p *peer) {
			p.handleApp(zab.AppMessage{From: f, Data: b})
		}); err != nil {
			t.Fatal(err)
		}
		c.settle()
	}
	for _, id := range c.running() {
		n, err := c.ens[id].tree.Get("/x")
		if err != nil || string(n.Data) != "new" {
			t.Fatalf("peer %d: /x = %q, %v; want new (the forward of the old epoch refused)", id, n.Data, err)
		}
	}
}
