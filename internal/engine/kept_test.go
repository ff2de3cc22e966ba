package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
)

// TestLeaderAppliesKeptTxns: a leader applies every txn it proposed from
// the effects its pipeline kept (znode.Group.ApplyKept), without running
// it again, and never finds them staged on another state than the one
// the apply is at; followers run every txn. The writes cover every kind
// the pipeline stages (creates plain, sequential and ephemeral, failures
// ordered as no-ops, setData, delete, multis that succeed and fail,
// session births and ends that delete ephemerals), from the leader's own
// sessions and a follower's, across a change of leader; the trees must
// agree (every follower checks each txn's digest against the leader's).
func TestLeaderAppliesKeptTxns(t *testing.T) {
	c := newCluster(t, 3, 0, 21)
	c.waitFor("a serving ensemble", 400, c.allServing)
	round := func(tag string) {
		t.Helper()
		leader := c.leader()
		before := c.ens[leader].peer.keptApplies.Load()
		ls, fs := c.session(leader), c.session(c.others(leader)[0])
		err := c.do(func(ctx context.Context) error { return keptWorkload(ctx, tag, ls, fs) })
		if err != nil {
			t.Fatalf("%s: %v", tag, err)
		}
		for _, s := range []*Session{ls, fs} {
			if err := c.do(s.Close); err != nil {
				t.Fatalf("%s: closing a session: %v", tag, err)
			}
		}
		c.sameTrees()
		p := c.ens[leader].peer
		// 2 sessions born and ended, 13 writes of the workload.
		if got := p.keptApplies.Load() - before; got < 17 || p.keptMisses.Load() != 0 {
			t.Fatalf("%s: leader %d applied %d kept txns, %d had to run again", tag, leader, got, p.keptMisses.Load())
		}
		for _, id := range c.others(leader) {
			if n := c.ens[id].peer.keptApplies.Load(); n != 0 {
				t.Fatalf("%s: follower %d applied %d kept txns", tag, id, n)
			}
		}
	}
	round("first")
	old := c.leader()
	c.stop(old)
	c.waitFor("a new leader", 800, func() bool { l := c.leader(); return l != 0 && l != old })
	round("second")
}

// keptWorkload sends one of every kind of write through the leader's
// session ls and the follower's fs; the expected failures must happen.
func keptWorkload(ctx context.Context, tag string, ls, fs *Session) error {
	root := "/" + tag
	expect := func(err, want error) error {
		if !errors.Is(err, want) {
			return fmt.Errorf("got %v, want %v", err, want)
		}
		return nil
	}
	steps := []func() error{
		func() error { _, err := ls.Create(ctx, root, []byte("r")); return err },
		func() error {
			_, err := fs.Create(ctx, root+"/s-", nil, WithMode(ModePersistentSequential))
			return err
		},
		func() error { _, err := fs.Create(ctx, root+"/e", []byte("e"), WithMode(ModeEphemeral)); return err },
		func() error {
			_, err := ls.Create(ctx, root+"/le-", nil, WithMode(ModeEphemeralSequential))
			return err
		},
		func() error { _, err := ls.Create(ctx, root, nil); return expect(err, zkerr.ErrNodeExists) },
		func() error { _, err := fs.Set(ctx, root, []byte("r2"), 0); return err },
		func() error { _, err := ls.Set(ctx, root, []byte("r3"), 0); return expect(err, zkerr.ErrBadVersion) },
		func() error {
			_, err := ls.Multi(ctx, CreateOp(root+"/m1", []byte("1")), SetOp(root+"/m1", []byte("2"), 0), CreateOp(root+"/m2", nil))
			return err
		},
		func() error {
			_, err := fs.Multi(ctx, CreateOp(root+"/m3", nil), DeleteOp(root+"/missing", -1))
			return expect(err, zkerr.ErrNoNode)
		},
		func() error { return fs.Delete(ctx, root+"/m2", -1) },
		func() error { return expect(ls.Delete(ctx, root+"/m2", -1), zkerr.ErrNoNode) },
		func() error { _, err := ls.Create(ctx, root+"/p/q", nil, WithParents()); return err },
		func() error { return ls.Sync(ctx, root) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
	}
	return nil
}
