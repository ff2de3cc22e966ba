package znode

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/google/go-cmp/cmp"
)

type prepared struct {
	zxid   int64
	txn    Txn
	res    Result
	digest uint64
}

func openModelTree(t *testing.T) *Tree {
	t.Helper()
	opts := testOptions(vfs.NewMem())
	opts.MaxDataSize = modelMaxData
	tr, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// TestPendingAgreesWithApply prepares random txns on a Pending while the
// tree applies them in a random interleaving (and Applied is called late or
// early), and checks that Apply gives exactly what Prepare said, and that a
// second tree applying the same txns without a Pending reaches the same
// digests.
func TestPendingAgreesWithApply(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*modelSeeds); seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runAgreement(t, seed, *modelSteps) })
	}
}

func runAgreement(t *testing.T, seed uint64, steps int) {
	leader, follower := openModelTree(t), openModelTree(t)
	rng := rand.New(rand.NewPCG(seed, 99))
	// The generator's model only steers paths toward existing nodes.
	g := &gen{rng: rand.New(rand.NewPCG(seed, 7)), now: 1000, m: newModel(modelMaxData)}
	p := leader.NewPending()
	var queue []prepared // prepared, not yet applied
	zxid, applied, forgotten := int64(0), int64(0), int64(0)
	apply := func() {
		q := queue[0]
		queue = queue[1:]
		res, _, err := leader.Apply(q.zxid, &q.txn)
		if err != nil {
			t.Fatalf("seed %d: apply: %v", seed, err)
		}
		if diff := cmp.Diff(q.res, res, cmp.Comparer(sameCode)); diff != "" {
			t.Fatalf("seed %d zxid %d %+v: (-prepare +apply):\n%s", seed, q.zxid, q.txn, diff)
		}
		if _, d := leader.Applied(); d != q.digest {
			t.Fatalf("seed %d zxid %d: digest %#x, prepared %#x", seed, q.zxid, d, q.digest)
		}
		res2, _, err := follower.Apply(q.zxid, &q.txn)
		if err != nil || codeOf(res2.Err) != codeOf(res.Err) {
			t.Fatalf("seed %d zxid %d: follower %v %v", seed, q.zxid, res2.Err, err)
		}
		if _, d := follower.Applied(); d != q.digest {
			t.Fatalf("seed %d zxid %d: follower digest differs", seed, q.zxid)
		}
		applied = q.zxid
	}
	for done := 0; done < steps || len(queue) > 0; {
		switch r := rng.IntN(10); {
		case r < 5 && done < steps:
			done++
			txn := g.txn()
			g.m.apply(zxid+1, &txn) // keep the generator's view roughly current
			res, d := p.Prepare(zxid+1, &txn, nil)
			if res.Err == nil {
				zxid++
				queue = append(queue, prepared{zxid: zxid, txn: txn, res: res, digest: d})
			}
		case r < 8 && len(queue) > 0:
			apply()
		case forgotten < applied:
			// Applied may lag behind the tree by any amount.
			forgotten += 1 + rng.Int64N(applied-forgotten)
			p.Applied(forgotten)
		}
	}
	p.Applied(applied)
	if p.Len() != 0 {
		t.Fatalf("seed %d: %d overlay entries left", seed, p.Len())
	}
	if diff := cmp.Diff(rawDump(t, leader), rawDump(t, follower)); diff != "" {
		t.Fatalf("seed %d: replicas differ:\n%s", seed, diff)
	}
}

// TestPendingConcurrentApply runs Apply on its own goroutine while Prepare
// runs, as the leader's pipeline does (for the race detector and for
// agreement under real concurrency).
func TestPendingConcurrentApply(t *testing.T) {
	tree := openModelTree(t)
	g := &gen{rng: rand.New(rand.NewPCG(42, 7)), now: 1000, m: newModel(modelMaxData)}
	p := tree.NewPending()
	work := make(chan prepared, 16)
	done := make(chan int64, 16)
	errc := make(chan error, 1)
	go func() {
		defer close(done)
		for q := range work {
			res, _, err := tree.Apply(q.zxid, &q.txn)
			if err == nil && codeOf(res.Err) != codeOf(q.res.Err) {
				err = fmt.Errorf("zxid %d: apply %v, prepare %v", q.zxid, res.Err, q.res.Err)
			}
			if _, d := tree.Applied(); err == nil && d != q.digest {
				err = fmt.Errorf("zxid %d: digest differs", q.zxid)
			}
			if err != nil {
				errc <- err
				for range work {
				}
				return
			}
			done <- q.zxid
		}
	}()
	zxid := int64(0)
	for i := 0; i < 300; i++ {
		select {
		case z := <-done:
			p.Applied(z)
		default:
		}
		txn := g.txn()
		g.m.apply(zxid+1, &txn)
		res, d := p.Prepare(zxid+1, &txn, nil)
		if res.Err != nil {
			continue
		}
		zxid++
		work <- prepared{zxid: zxid, txn: txn, res: res, digest: d}
	}
	close(work)
	for z := range done {
		p.Applied(z)
	}
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	if p.Len() != 0 {
		t.Fatalf("%d overlay entries left", p.Len())
	}
}

func TestPendingAuthorize(t *testing.T) {
	h := newHarness(t)
	alice := Identity{SchemeDigest, DigestID("alice", "pw")}
	aliceOnly := []ACL{{PermAll, SchemeDigest, alice.ID}}
	h.ok(Txn{Type: TxnCreate, Path: "/a", ACL: aliceOnly})
	h.ok(Txn{Type: TxnCreate, Path: "/a/b", ACL: aliceOnly})
	p := h.tree.NewPending()
	var calls []Perm
	as := func(ids ...Identity) func([]ACL, Perm) error {
		return func(acl []ACL, perm Perm) error {
			calls = append(calls, perm)
			if !CheckACL(acl, perm, ids) {
				return zkerr.ErrNoAuth
			}
			return nil
		}
	}
	for _, c := range []struct {
		txn  Txn
		perm Perm
	}{
		{Txn{Type: TxnCreate, Path: "/a/c", ACL: OpenACLUnsafe()}, PermCreate},
		{Txn{Type: TxnDelete, Path: "/a/b", Version: -1}, PermDelete},
		{Txn{Type: TxnDelete, Path: "/a/missing", Version: -1}, PermDelete}, // NoAuth before NoNode
		{Txn{Type: TxnSetData, Path: "/a", Version: -1}, PermWrite},
		{Txn{Type: TxnSetACL, Path: "/a", ACL: OpenACLUnsafe(), Version: -1}, PermAdmin},
		{Txn{Type: TxnMulti, Ops: []Txn{{Type: TxnCheck, Path: "/a", Version: -1}}}, PermRead},
	} {
		calls = nil
		txn := c.txn
		r, _ := p.Prepare(h.zxid+1, &txn, as())
		if !errors.Is(r.Err, zkerr.ErrNoAuth) || !cmp.Equal(calls, []Perm{c.perm}) {
			t.Fatalf("%v %s as nobody: %v, perms checked %v", c.txn.Type, c.txn.Path, r.Err, calls)
		}
		if txn.Type == TxnMulti && !errors.Is(r.Multi[0].Err, zkerr.ErrNoAuth) {
			t.Fatalf("multi op result %v", r.Multi[0].Err)
		}
		txn = c.txn
		if r, _ := p.Prepare(h.zxid+1, &txn, as(alice)); r.Err != nil && !(txn.Path == "/a/missing" && errors.Is(r.Err, zkerr.ErrNoNode)) {
			t.Fatalf("%v %s as alice: %v", c.txn.Type, c.txn.Path, r.Err)
		}
		p.Reset()
	}
}

func TestPendingReadsThroughOverlay(t *testing.T) {
	h := newHarness(t)
	h.create("/a", "v0")
	p := h.tree.NewPending()
	set := Txn{Type: TxnSetData, Path: "/a", Data: []byte("v1"), Version: 0}
	if r, _ := p.Prepare(h.zxid+1, &set, nil); r.Err != nil {
		t.Fatal(r.Err)
	}
	del := Txn{Type: TxnCreate, Path: "/b", ACL: OpenACLUnsafe()}
	if r, _ := p.Prepare(h.zxid+2, &del, nil); r.Err != nil {
		t.Fatal(r.Err)
	}
	n, err := p.Get("/a")
	if err != nil || string(n.Data) != "v1" || n.Stat.Version != 1 {
		t.Fatalf("Pending.Get(/a) = %+v %q %v", n.Stat, n.Data, err)
	}
	if s, err := p.Stat("/b"); err != nil || s.Stat.Czxid != h.zxid+2 {
		t.Fatalf("Pending.Stat(/b) = %+v %v", s, err)
	}
	if n := h.get("/a"); string(n.Data) != "v0" {
		t.Fatal("Prepare wrote to the tree")
	}
	if _, err := h.tree.Get("/b"); !errors.Is(err, zkerr.ErrNoNode) {
		t.Fatal("Prepare wrote to the tree")
	}
	// A second setData with the old version must fail against the overlay.
	again := Txn{Type: TxnSetData, Path: "/a", Version: 0}
	if r, _ := p.Prepare(h.zxid+3, &again, nil); !errors.Is(r.Err, zkerr.ErrBadVersion) {
		t.Fatalf("stale version: %v", r.Err)
	}
	h.ok(set)
	p.Applied(h.zxid)
	if p.Len() == 0 {
		t.Fatal("Applied forgot entries of a txn not yet applied")
	}
	h.ok(del)
	p.Applied(h.zxid)
	if p.Len() != 0 {
		t.Fatalf("%d entries left", p.Len())
	}
	if s, err := p.Stat("/b"); err != nil || s.Stat.Czxid != h.zxid {
		t.Fatalf("Stat(/b) from the tree = %+v %v", s, err)
	}
}

// TestPendingDiscardLeavesOthers: a staged txn that is discarded (the log
// refused it) leaves the overlay of every txn kept before it untouched,
// and the next txn is staged at the same zxid against that overlay. Issue
// 9: a refusal used to reset the whole overlay, so the next txn was
// prepared against a stale tree.
func TestPendingDiscardLeavesOthers(t *testing.T) {
	h := newHarness(t)
	h.create("/x", "v0")
	p := h.tree.NewPending()
	a := Txn{Type: TxnCreate, Path: "/a", ACL: OpenACLUnsafe(), Time: h.now + 1}
	ra, da := p.Stage(h.zxid+1, &a, nil)
	if ra.Err != nil {
		t.Fatal(ra.Err)
	}
	p.Keep()
	lenA := p.Len()
	// Staged, then discarded: a create under /a, a set of /x.
	big := Txn{Type: TxnMulti, Ops: []Txn{
		{Type: TxnCreate, Path: "/a/big", ACL: OpenACLUnsafe()},
		{Type: TxnSetData, Path: "/x", Data: []byte("v1"), Version: 0},
	}}
	if r, d := p.Stage(h.zxid+2, &big, nil); r.Err != nil || d == da {
		t.Fatalf("stage: %v (digest unchanged: %v)", r.Err, d == da)
	}
	p.Discard()
	p.Keep() // nothing staged: a no-op
	if p.Len() != lenA {
		t.Fatalf("overlay has %d entries after a discard, %d before", p.Len(), lenA)
	}
	if _, err := p.Stat("/a/big"); !errors.Is(err, zkerr.ErrNoNode) {
		t.Fatalf("discarded create is visible: %v", err)
	}
	if n, err := p.Get("/x"); err != nil || string(n.Data) != "v0" || n.Stat.Version != 0 {
		t.Fatalf("discarded set is visible: %+v %q %v", n.Stat, n.Data, err)
	}
	// The next txn, at the same zxid, sees /a and chains on its digest.
	c := Txn{Type: TxnCreate, Path: "/a/b", ACL: OpenACLUnsafe(), Time: h.now + 2}
	rc, dc := p.Prepare(h.zxid+2, &c, nil)
	if rc.Err != nil {
		t.Fatalf("create /a/b after a discard: %v", rc.Err)
	}
	// A staged txn the next Stage replaces is forgotten too.
	d := Txn{Type: TxnCreate, Path: "/d", ACL: OpenACLUnsafe()}
	p.Stage(h.zxid+3, &d, nil)
	e := Txn{Type: TxnSetData, Path: "/x", Data: []byte("e"), Version: 0}
	if r, _ := p.Prepare(h.zxid+3, &e, nil); r.Err != nil {
		t.Fatal(r.Err)
	}
	if _, err := p.Stat("/d"); !errors.Is(err, zkerr.ErrNoNode) {
		t.Fatalf("a replaced stage is visible: %v", err)
	}
	// Applying what was kept gives the digests the Pending predicted.
	h.ok(a)
	if _, got := h.tree.Applied(); got != da {
		t.Fatalf("digest after /a: %#x, predicted %#x", got, da)
	}
	h.ok(c)
	if _, got := h.tree.Applied(); got != dc {
		t.Fatalf("digest after /a/b: %#x, predicted %#x", got, dc)
	}
}
