package engine

import (
	"errors"
	"math"
	"testing"
	"time"
)

// TestCversionAsZooKeeperReportsIt states DataNode.copyStat: Cversion counts
// every create and every delete of a child (2 x creates - children now), the
// fresh tree reports / at -1 and /zookeeper at -2, and the sequence suffix
// counts creates only. ZooKeeper 3.8 gave these numbers for the same steps.
func TestCversionAsZooKeeperReportsIt(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	for p, want := range map[string]int32{"/": -1, "/zookeeper": -2, "/zookeeper/quota": 0, "/zookeeper/config": 0} {
		if _, st, err := s.Exists(ctx, p); err != nil || st.Cversion != want {
			t.Errorf("fresh %s: cversion %d, %v; want %d", p, st.Cversion, err, want)
		}
	}
	mustCreate(t, s, "/cv", "")
	for _, c := range []string{"/cv/c0", "/cv/c1", "/cv/c2"} {
		mustCreate(t, s, c, "")
	}
	if err := s.Delete(ctx, "/cv/c0", -1); err != nil {
		t.Fatal(err)
	}
	if _, st, _ := s.Exists(ctx, "/cv"); st.Cversion != 4 || st.NumChildren != 2 {
		t.Fatalf("3 creates, 1 delete: cversion %d children %d, want 4 and 2", st.Cversion, st.NumChildren)
	}
	if p := mustCreate(t, s, "/cv/x", "", WithMode(ModePersistentSequential)); p != "/cv/x0000000003" {
		t.Fatalf("sequential suffix %q, want the count of creates (3)", p)
	}
	// Every reply that carries a Stat reports it the same way.
	var st Stat
	mustCreate(t, s, "/cv/y", "", WithStat(&st))
	if set, err := s.Set(ctx, "/cv", []byte("d"), -1); err != nil || set.Cversion != 6 {
		t.Fatalf("Set reply: cversion %d, %v; want 6", set.Cversion, err)
	}
	if _, cst, _ := s.Children(ctx, "/cv"); cst.Cversion != 6 {
		t.Fatalf("Children reply: cversion %d, want 6", cst.Cversion)
	}
	res, err := s.Multi(ctx, DeleteOp("/cv/y", -1), CreateOp("/cv/z", nil), SetOp("/cv", nil, -1))
	if err != nil || res[2].Stat.Cversion != 8 {
		t.Fatalf("multi set reply: %+v, %v; want cversion 8", res, err)
	}
	if err := s.DeleteAll(ctx, "/cv"); err != nil {
		t.Fatal(err)
	}
	if _, st, _ := s.Exists(ctx, "/"); st.Cversion != 1 {
		t.Fatalf("/ after one create and one delete: cversion %d, want 1", st.Cversion)
	}
}

// TestEphemeralOwnerOfContainerAndTTLIsZero states
// DataNode.getClientEphemeralOwner: only an ephemeral node shows its owner;
// container and TTL nodes show 0 (ZooKeeper 3.8 answered 0 for both), in
// every reply that carries a Stat.
func TestEphemeralOwnerOfContainerAndTTLIsZero(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	var st Stat
	for _, c := range []struct {
		path string
		opts []CreateOption
	}{
		{"/cont", []CreateOption{WithMode(ModeContainer)}},
		{"/ttl", []CreateOption{WithMode(ModePersistentWithTTL), WithTTL(time.Hour)}},
		{"/ttls-", []CreateOption{WithMode(ModePersistentSequentialWithTTL), WithTTL(time.Minute)}},
	} {
		p := mustCreate(t, s, c.path, "", append(c.opts, WithStat(&st))...)
		if st.EphemeralOwner != 0 {
			t.Errorf("create %s: owner %#x, want 0", p, uint64(st.EphemeralOwner))
		}
		if _, got, err := s.Exists(ctx, p); err != nil || got.EphemeralOwner != 0 {
			t.Errorf("exists %s: owner %#x, %v; want 0", p, uint64(got.EphemeralOwner), err)
		}
		if got, err := s.Set(ctx, p, []byte("x"), -1); err != nil || got.EphemeralOwner != 0 {
			t.Errorf("set %s: owner %#x, %v; want 0", p, uint64(got.EphemeralOwner), err)
		}
	}
	mustCreate(t, s, "/eph", "", WithMode(ModeEphemeral), WithStat(&st))
	if st.EphemeralOwner != s.ID() {
		t.Fatalf("ephemeral owner %#x, want the session %#x", uint64(st.EphemeralOwner), uint64(s.ID()))
	}
}

// TestAnyInt32IsAnExpectedVersion states PrepRequestProcessor's
// checkAndIncVersion: -1 matches any version and every other int32
// (negative ones, MinInt32 and MaxInt32 too) is compared, so the answer is
// ErrNoNode or ErrBadVersion, never a refusal of the argument; in a multi
// too, with ZooKeeper's per-op results (nil before the failing op, its
// error, ErrRuntimeInconsistency after). ZooKeeper 3.8 answered exactly
// these for each version below.
func TestAnyInt32IsAnExpectedVersion(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	mustCreate(t, s, "/v", "")
	for _, v := range []int32{-2, -5, math.MinInt32, math.MaxInt32, 1} {
		if _, err := s.Set(ctx, "/v", nil, v); !errors.Is(err, ErrBadVersion) {
			t.Errorf("set(%d): %v, want ErrBadVersion", v, err)
		}
		if _, err := s.SetACL(ctx, "/v", OpenACLUnsafe(), v); !errors.Is(err, ErrBadVersion) {
			t.Errorf("setACL(%d): %v, want ErrBadVersion", v, err)
		}
		if err := s.Delete(ctx, "/v", v); !errors.Is(err, ErrBadVersion) {
			t.Errorf("delete(%d): %v, want ErrBadVersion", v, err)
		}
		if err := s.Delete(ctx, "/missing", v); !errors.Is(err, ErrNoNode) {
			t.Errorf("delete(%d) of a missing node: %v, want ErrNoNode", v, err)
		}
		if _, err := s.Set(ctx, "/missing", nil, v); !errors.Is(err, ErrNoNode) {
			t.Errorf("set(%d) of a missing node: %v, want ErrNoNode", v, err)
		}
		if _, err := s.Multi(ctx, CheckOp("/v", v)); !errors.Is(err, ErrBadVersion) {
			t.Errorf("check(%d): %v, want ErrBadVersion", v, err)
		}
		if _, err := s.Multi(ctx, CheckOp("/missing", v)); !errors.Is(err, ErrNoNode) {
			t.Errorf("check(%d) of a missing node: %v, want ErrNoNode", v, err)
		}
	}
	res, err := s.Multi(ctx, CheckOp("/v", 0), SetOp("/v", nil, -7), CheckOp("/v", 0))
	if !errors.Is(err, ErrBadVersion) || len(res) != 3 || res[0].Err != nil ||
		!errors.Is(res[1].Err, ErrBadVersion) || !errors.Is(res[2].Err, ErrRuntimeInconsistency) {
		t.Fatalf("multi: %+v, %v", res, err)
	}
}

// TestMultiValidatesACLsInOrder states that a multi checks its ops in
// order, a create's ACL when that op is reached (PrepRequestProcessor runs
// fixupACL inside pRequest2TxnCreate): the first failing op and the per-op
// results are ZooKeeper's. ZooKeeper 3.8 answered both multis below so.
func TestMultiValidatesACLsInOrder(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	bad := WithACL(ACL{Perms: PermAll, Scheme: "digest", ID: "nocolon"})
	res, err := s.Multi(ctx, CheckOp("/missing", 0), CreateOp("/m1", nil, bad))
	if !errors.Is(err, ErrNoNode) || len(res) != 2 || !errors.Is(res[0].Err, ErrNoNode) ||
		!errors.Is(res[1].Err, ErrRuntimeInconsistency) {
		t.Fatalf("check of a missing node, then a bad ACL: %+v, %v; want ErrNoNode at op 0", res, err)
	}
	res, err = s.Multi(ctx, CreateOp("/m1", nil), CreateOp("/m2", nil, bad), DeleteOp("/nothere", -1))
	if !errors.Is(err, ErrInvalidACL) || len(res) != 3 || res[0].Err != nil ||
		!errors.Is(res[1].Err, ErrInvalidACL) || !errors.Is(res[2].Err, ErrRuntimeInconsistency) {
		t.Fatalf("good create, bad ACL, missing delete: %+v, %v; want ErrInvalidACL at op 1", res, err)
	}
	// "auth" without a digest identity fails at its op too.
	res, err = s.Multi(ctx, DeleteOp("/nothere", -1), CreateOp("/m3", nil, WithACL(CreatorAllACL()...)))
	if !errors.Is(err, ErrNoNode) || !errors.Is(res[1].Err, ErrRuntimeInconsistency) {
		t.Fatalf("missing delete, then auth ACL without identity: %+v, %v; want ErrNoNode at op 0", res, err)
	}
	if ok, _, _ := s.Exists(ctx, "/m1"); ok {
		t.Fatal("a failed multi left /m1")
	}
}
