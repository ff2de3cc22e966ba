package engine

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/embedzk/zk/internal/hooks"

	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/znode"
)

// stepUntil delivers the network's frames one at a time, each followed by
// a barrier on every peer, and ticks when none waits, until cond holds.
func (c *cluster) stepUntil(what string, cond func() bool) {
	c.t.Helper()
	ctx := testCtx(c.t)
	for i := 0; !cond(); i++ {
		if i == 100000 {
			c.t.Fatalf("still waiting for %s; status %s", what, c.describe())
		}
		pending := c.net.Pending()
		if len(pending) == 0 {
			c.tick()
			continue
		}
		if err := c.net.Deliver(pending[0]); err != nil {
			c.t.Fatal(err)
		}
		for _, id := range c.running() {
			if err := c.ens[id].Barrier(ctx); err != nil {
				c.t.Fatalf("barrier on %d: %v", id, err)
			}
		}
	}
}

// expireHeld runs ExpireSession of id on the leader while every frame
// from f to the leader is held.
func (c *cluster) expireHeld(f, leader, id int64) {
	c.t.Helper()
	if err := c.doExcept(f, leader, func(ctx context.Context) error {
		return c.ens[leader].ExpireSession(ctx, id)
	}); err != nil {
		c.t.Fatalf("expiring session %#x: %v", id, err)
	}
}

// expiredWithNothingLeft settles the cluster and checks that s has
// expired and that no peer holds it or its ephemeral /e.
func (c *cluster) expiredWithNothingLeft(s *Session) {
	c.t.Helper()
	c.settle()
	if st := s.State(); st != StateExpired {
		c.t.Fatalf("session %#x is %v after its CloseSession", s.ID(), st)
	}
	c.noLeftovers(s.ID())
}

// detachedSession opens a session on peer id through its client port
// entry and detaches it, as when its client's connection went away.
func (c *cluster) detachedSession(id int64) RemoteSession {
	c.t.Helper()
	var s RemoteSession
	if err := c.do(func(ctx context.Context) (err error) {
		s, err = RemoteOf(c.ens[id]).NewSession(ctx)
		return err
	}); err != nil {
		c.t.Fatal(err)
	}
	s.Detach()
	return s
}

// TestReadOnlySessionExpiredBeforeItJoins: a session opened on a peer in
// read-only mode (without Config.LocalSessions) is expired by
// ExpireSession once its peer serves again, while the CreateSession that
// makes it join the ensemble is on its way to the leader. The leader
// refuses that CreateSession: the ensemble never brings back a session
// whose handle has expired.
func TestReadOnlySessionExpiredBeforeItJoins(t *testing.T) {
	c, leader, f := roCluster(t, 81)
	c.net.Isolate(f)
	c.waitFor("the follower in read-only mode", 600, func() bool { return c.ens[f].Status().Mode == ModeReadOnly })
	s := c.sessionWith(f, WithReadOnly())
	c.net.Heal()
	c.stepUntil("the follower serving", func() bool { return c.ens[f].Status().Serving })
	for i := 0; !c.holds(f, leader); i++ {
		if i == 10000 {
			t.Fatal("the CreateSession never left its peer")
		}
		c.settleExcept(f, leader)
		runtime.Gosched()
	}
	c.expireHeld(f, leader, s.ID())
	c.expiredWithNothingLeft(s)
}

// TestLocalSessionUpgradeAcrossLeaderChange: ExpireSession commits the
// CloseSession of a local session while the CreateSession that upgrades
// it is held on its way to the leader; the leader is then lost, and the
// held forward reaches the next leader, which never heard of that close.
// The forward carries the old leader's epoch, so the new leader refuses
// it (owner.go), and the session's peer, which stopped serving meanwhile,
// has expired the session: nothing of it comes back.
func TestLocalSessionUpgradeAcrossLeaderChange(t *testing.T) {
	c, leader, f := localCluster(t, 82, true)
	s := c.session(f)
	done := c.holdUpgrade(testCtx(t), s, f, leader)
	epoch := c.ens[leader].Status().Epoch
	c.expireHeld(f, leader, s.ID())
	c.stop(leader)
	c.waitFor("a new leader", 2000, func() bool { return c.leader() != 0 && c.ens[f].Status().Serving })
	if err := c.do(func(context.Context) error { return <-done }); err == nil {
		t.Fatal("the ephemeral create of an expired session succeeded")
	}
	// The held forward, delivered late to the new leader: the upgrade and
	// the ephemeral create behind it, stamped with the old epoch.
	c.lateUpgrade(c.leader(), f, epoch, s)
	c.expiredWithNothingLeft(s)
}

// lateUpgrade hands the leader the forward of s's upgrade from f, stamped
// with epoch, as if it arrived only now: its CreateSession and the
// ephemeral create of /e behind it.
func (c *cluster) lateUpgrade(leader, f, epoch int64, s *Session) {
	c.t.Helper()
	for i, txn := range []*znode.Txn{
		{Type: znode.TxnCreateSession, Session: s.ID(), Timeout: int32(s.Timeout().Milliseconds()), Password: s.Password()},
		{Type: znode.TxnCreate, Session: s.ID(), Path: "/e", Mode: znode.ModeEphemeral, ACL: znode.OpenACLUnsafe()},
	} {
		b, err := encodeForward(1<<40+uint64(i), epoch, false, nil, txn)
		if err != nil {
			c.t.Fatal(err)
		}
		if err := c.ens[leader].inspect(testCtx(c.t), func(p *peer) {
			p.handleApp(zab.AppMessage{From: f, Data: b})
		}); err != nil {
			c.t.Fatal(err)
		}
	}
}

// TestLocalSessionUpgradeUnsureAfterRejoin (found by the simulation, seed
// 70320 with -local=2 -readonly=1): the upgrade of a local session leaves
// its peer, which then loses its leader (the ephemeral create's outcome
// is unknown) and syncs again with the same leader, in the same epoch,
// while the forward (the CreateSession and the create behind it) is still
// in that leader's pipeline; it is proposed once the peer serves. The
// peer, whose tree does not hold the session, must not expire the handle
// while that forward may still commit: it closes the session through the
// leader, and the handle expires when that close commits, whichever of
// the two the leader takes first. Nothing of the session stays.
func TestLocalSessionUpgradeUnsureAfterRejoin(t *testing.T) {
	for _, tc := range []struct {
		name        string
		createFirst bool
	}{{"the create before the close", true}, {"the close before the create", false}} {
		t.Run(tc.name, func(t *testing.T) {
			c, leader, f := localCluster(t, 85, true)
			s := c.session(f)
			done := c.holdUpgrade(testCtx(t), s, f, leader)
			epoch := c.ens[leader].Status().Epoch
			c.net.Isolate(f) // the held forward is lost with the connection
			c.waitFor("the follower not serving", 600, func() bool { return !c.ens[f].Status().Serving })
			if err := c.do(func(context.Context) error { return <-done }); err == nil {
				t.Fatal("the ephemeral create succeeded while its peer lost its leader")
			}
			c.net.Heal()
			c.stepUntil("the follower serving", func() bool { return c.ens[f].Status().Serving })
			if st := c.ens[leader].Status(); st.Mode != ModeLeading || st.Epoch != epoch {
				t.Fatalf("the leader changed: %s", c.describe())
			}
			if st := s.State(); st == StateExpired {
				t.Fatal("the handle expired while its upgrade may still commit")
			}
			if _, _, err := s.Exists(testCtx(t), "/"); !errors.Is(err, ErrNotServing) {
				t.Fatalf("a read of the session being closed: %v, want ErrNotServing", err)
			}
			if tc.createFirst {
				// Held: the follower's close reaches the leader after the forward.
				c.lateUpgrade(leader, f, epoch, s)
				c.settleExcept(f, leader)
				if _, err := c.ens[leader].tree.Get("/e"); err != nil {
					t.Fatalf("the late create did not commit ahead of the close: %v", err)
				}
			} else {
				c.settle()
				if st := s.State(); st != StateExpired {
					t.Fatalf("the handle is %v once its close committed", st)
				}
				c.lateUpgrade(leader, f, epoch, s)
			}
			c.expiredWithNothingLeft(s)
		})
	}
}

// TestLocalSessionExpiredWhileDetached: ExpireSession of a local session
// whose client is away (detached, its time not up yet) ends it on its
// peer: a Reattach there afterwards finds it expired, as it finds one the
// ensemble closed while attached.
func TestLocalSessionExpiredWhileDetached(t *testing.T) {
	c, leader, f := localCluster(t, 83, false)
	s := c.detachedSession(f)
	if err := c.do(func(ctx context.Context) error { return c.ens[leader].ExpireSession(ctx, s.ID()) }); err != nil {
		t.Fatalf("expiring the detached local session: %v", err)
	}
	if st := s.State(); st != StateExpired {
		t.Errorf("the detached session's handle is %v after its CloseSession", st)
	}
	if n := RemoteOf(c.ens[f]).LocalSessions(); n != 0 {
		t.Errorf("peer %d still holds %d local sessions", f, n)
	}
	err := c.do(func(ctx context.Context) error {
		_, err := c.ens[f].Reattach(ctx, s.ID(), s.Password())
		return err
	})
	if !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("reattaching the expired local session: %v, want ErrSessionExpired", err)
	}
}

// TestReattachLocalLostBeforeAttach: a Reattach finds a detached local
// session live in its peer's table, and the peer stops serving (its table,
// with the session, gone) before the handle is attached. The Reattach
// fails with ErrSessionExpired, as NewSession settles such a session,
// rather than returning a handle that has expired.
func TestReattachLocalLostBeforeAttach(t *testing.T) {
	reached, release := make(chan struct{}), make(chan struct{})
	var armed atomic.Bool
	c, _, f := localCluster(t, 84, false, func(cfg *Config) {
		cfg.TestHooks = &hooks.Hooks{Func: func(_ int64, point string) error {
			if point == hooks.BeforeAttach && armed.CompareAndSwap(true, false) {
				close(reached)
				<-release
			}
			return nil
		}}
	})
	s := c.detachedSession(f)
	armed.Store(true)
	done := make(chan error, 1)
	go func() {
		_, err := c.ens[f].Reattach(testCtx(t), s.ID(), s.Password())
		done <- err
	}()
	select {
	case <-reached:
	case err := <-done:
		t.Fatalf("the Reattach returned (%v) before it attached the handle", err)
	case <-testCtx(t).Done():
		t.Fatal("the Reattach never reached the attach")
	}
	c.net.Isolate(f)
	c.waitFor("the follower not serving", 600, func() bool { return !c.ens[f].Status().Serving })
	close(release)
	if err := <-done; !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("reattaching a local session its peer lost meanwhile: %v, want ErrSessionExpired", err)
	}
	if got := c.ens[f].localSession(s.ID()); got != nil {
		t.Fatalf("peer %d keeps the lost session attached (%v)", f, got.State())
	}
}
