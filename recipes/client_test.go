package recipes

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/embedzk/zk"
)

// TestLeaseLapses: while no write of the session is confirmed by the
// leader (here every write fails although the session still says
// connected, as on a peer that lost its leader and does not know yet), a
// hold ends two thirds of the session timeout after the last confirmed
// write: before the leader could expire the session.
func TestLeaseLapses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		s, cc, c := w.countedClient()
		defer c.Close(w.ctx)
		m := must[*Mutex](t)(NewMutex(c, "/lapse"))
		t0 := time.Now()
		l := must[*Lease](t)(m.Acquire(w.ctx))
		cc.set(func(name string) error {
			if name == "create" || name == "delete" || name == "multi" {
				return zk.ErrNotServing
			}
			return nil
		}, nil)
		valid := s.Timeout() * 2 / 3
		time.Sleep(valid - time.Since(t0) - time.Millisecond)
		if err := l.Err(); err != nil {
			t.Fatalf("lost before its time: %v", err)
		}
		time.Sleep(time.Millisecond)
		if err := l.Err(); !errors.Is(err, ErrLockLost) || !errors.Is(err, zk.ErrConnectionLoss) {
			t.Fatalf("after 2/3 of the timeout without a confirmed write: %v", err)
		}
		synctest.Wait()
		select {
		case <-l.Context().Done():
		default:
			t.Fatal("Err reported the loss but Done is open")
		}
	})
}

// TestKeepaliveRenews: a hold kept for several session timeouts with
// nothing else to do stays valid: the Client renews its proof with one
// write a third of a timeout, and only while it holds or waits.
func TestKeepaliveRenews(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		s, cc, c := w.countedClient()
		defer c.Close(w.ctx)
		m := must[*Mutex](t)(NewMutex(c, "/keep"))
		l := must[*Lease](t)(m.Acquire(w.ctx))
		before := cc.calls.Load()
		time.Sleep(5 * s.Timeout())
		if err := l.Err(); err != nil {
			t.Fatalf("lost while the session lived: %v", err)
		}
		if n := cc.calls.Load() - before; n < 10 || n > 20 {
			t.Fatalf("%d calls in 5 session timeouts (want about 15 keepalives)", n)
		}
		if err := l.Release(w.ctx); err != nil {
			t.Fatal(err)
		}
		before = cc.calls.Load()
		time.Sleep(5 * s.Timeout())
		if n := cc.calls.Load() - before; n != 0 {
			t.Fatalf("%d calls while holding nothing", n)
		}
	})
}

// TestLockWaitsWhileNotServing: while the session's peer is cut off, Lock
// waits on the session's state and makes (almost) no calls; it gets the
// lock once the peer is back. (The old Mutex retried at once: thousands
// of calls.)
func TestLockWaitsWhileNotServing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl := newCluster(t)
		f := cl.follower()
		s := must[*zk.Session](t)(cl.ens[f].NewSession(t.Context(), zk.WithSessionTimeout(20*tickTime)))
		cc := &counter{Conn: s}
		c := must[*Client](t)(NewClient(cc))
		defer c.Close(context.Background())
		m := must[*Mutex](t)(NewMutex(c, "/ns"))
		cl.net.Isolate(int64(f + 1))
		cl.waitFor("the session disconnected", func() bool { return s.State() == zk.StateDisconnected })
		// A Lock that spins never lets the bubble's clock advance: stop it
		// with a terminal error after many calls, so the test fails.
		cc.set(func(string) error {
			if cc.calls.Load() > 1000 {
				return zk.ErrSessionExpired
			}
			return nil
		}, nil)
		done := make(chan error, 1)
		go func() { done <- m.Lock(t.Context()) }()
		synctest.Wait()
		start := cc.calls.Load()
		const ticks = 100
		time.Sleep(ticks * tickTime / zk.TicksPerTickTime)
		if n := cc.calls.Load() - start; n > 2 {
			t.Fatalf("%d calls during %d ticks of not serving", n, ticks)
		}
		cl.net.Heal()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := m.Unlock(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestLeaseLostBeforeNextHolder: what the holder's peer sends to the
// leader is lost without the connection breaking (the peer keeps hearing
// the leader, so it serves and the session says connected until SyncLimit
// passes). With a session timeout shorter than SyncLimit the leader
// expires the session, and another contender takes the lock, while the
// session still says connected. The hold must have ended first: two
// thirds of the timeout after its last confirmed write.
func TestLeaseLostBeforeNextHolder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl := newCluster(t)
		f, leader := cl.follower(), cl.leader()
		sa := must[*zk.Session](t)(cl.ens[f].NewSession(t.Context(), zk.WithSessionTimeout(2*tickTime)))
		ca := must[*Client](t)(NewClient(sa))
		defer ca.Close(context.Background())
		sb := must[*zk.Session](t)(cl.ens[leader].NewSession(t.Context()))
		cb := must[*Client](t)(NewClient(sb))
		defer cb.Close(context.Background())
		la := must[*Lease](t)(must[*Mutex](t)(NewMutex(ca, "/x")).Acquire(t.Context()))
		mb := must[*Mutex](t)(NewMutex(cb, "/x"))
		var aLive atomic.Bool
		done := make(chan *Lease, 1)
		go func() {
			lb := must[*Lease](t)(mb.Acquire(t.Context()))
			aLive.Store(la.Err() == nil)
			done <- lb
		}()
		cl.hold(f, leader, true)
		lb := <-done
		if aLive.Load() {
			t.Fatal("b acquired while a's lease was live")
		}
		// The lapse ended the hold, not the session's state (still
		// "connected": without the lapse, b would hold beside a).
		if err := la.Err(); !strings.Contains(err.Error(), "no write of the session confirmed") {
			t.Fatalf("a's hold ended by %v, want the lapse", err)
		}
		if lb.Token() <= la.Token() {
			t.Fatalf("token %d after %d", lb.Token(), la.Token())
		}
		cl.hold(f, leader, false)
	})
}

// TestClientClose: Close ends waits and holds and deletes their nodes;
// closing twice does nothing; the Client refuses work afterwards.
func TestClientClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		holder := must[*Mutex](t)(NewMutex(w.client(), "/cl"))
		_, c := w.session()
		a := must[*Mutex](t)(NewMutex(c, "/cl"))
		b := must[*Mutex](t)(NewMutex(c, "/other"))
		lh := must[*Lease](t)(holder.Acquire(w.ctx))
		lb := must[*Lease](t)(b.Acquire(w.ctx))
		done := make(chan error, 1)
		go func() { _, err := a.Acquire(w.ctx); done <- err }()
		synctest.Wait()
		if err := c.Close(w.ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, ErrClientClosed) || !errors.Is(err, zk.ErrClosed) {
			t.Fatalf("wait ended by Close: %v", err)
		}
		if err := lb.Err(); !errors.Is(err, ErrLockLost) || !errors.Is(err, ErrClientClosed) {
			t.Fatalf("hold ended by Close: %v", err)
		}
		if kids := w.children("/cl"); len(kids) != 1 || "/cl/"+kids[0] != lh.Node() {
			t.Fatalf("nodes of /cl: %v", kids)
		}
		if kids := w.children("/other"); len(kids) != 0 {
			t.Fatalf("nodes of /other: %v", kids)
		}
		if err := c.Close(w.ctx); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := b.Acquire(w.ctx); !errors.Is(err, ErrClientClosed) {
			t.Fatalf("acquire after Close: %v", err)
		}
		if err := lb.Release(w.ctx); err != nil {
			t.Fatalf("release after Close: %v", err)
		}
	})
}

// TestNewClientEndedSession: a Client needs a live session.
func TestNewClientEndedSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		s := must[*zk.Session](t)(w.ens.NewSession(w.ctx))
		if err := s.Close(w.ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := NewClient(s); !errors.Is(err, zk.ErrClosed) {
			t.Fatalf("closed session: %v", err)
		}
		s2 := must[*zk.Session](t)(w.ens.NewSession(w.ctx))
		w.expire(s2)
		if _, err := NewClient(s2); !errors.Is(err, zk.ErrSessionExpired) {
			t.Fatalf("expired session: %v", err)
		}
		if _, err := NewClient(nil); !errors.Is(err, zk.ErrBadArguments) {
			t.Fatalf("nil session: %v", err)
		}
	})
}
