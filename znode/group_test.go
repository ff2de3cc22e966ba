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

// TestGroupsAgainstModel runs the model's random txns through a pipelined
// Pending (several txns prepared ahead of the apply; a txn that fails is
// replaced by a no-op, as a leader does) and applies them in Groups of
// random sizes on a tree whose value cache is tiny (so it rotates all the
// time), most of them as kept (ApplyKept) and some run again (Apply),
// beside a second tree with no cache that applies them one Apply at a
// time: every Result, Change and digest must agree with the prepare's and
// the plain tree's, nothing a group applied may be visible before its
// Commit, and whenever everything prepared is applied the tree must equal
// the model.
func TestGroupsAgainstModel(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*modelSeeds); seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runGroups(t, seed, *modelSteps) })
	}
}

// inFlight is a txn the Pending prepared, waiting for its apply.
type inFlight struct {
	zxid   int64
	txn    Txn
	res    Result
	digest uint64
	noop   bool  // failed in prepare: applied as a no-op
	kept   *Kept // what the Pending kept (the txn's, or the no-op's)
}

func runGroups(t *testing.T, seed uint64, steps int) {
	opts := testOptions(vfs.NewMem())
	opts.MaxDataSize = modelMaxData
	opts.ValueCacheSize = 2 << 10
	tree := openWith(t, opts)
	opts.FS, opts.ValueCacheSize = vfs.NewMem(), -1
	plain := openWith(t, opts)
	m := newModel(modelMaxData)
	g := &gen{rng: rand.New(rand.NewPCG(seed, 11)), now: 1000, m: m}
	p := tree.NewPending()
	var queue []inFlight
	zxid := int64(0)
	for step := 0; step < steps; {
		for range 1 + g.rng.IntN(6) {
			zxid++
			step++
			queue = append(queue, prepareAgainstModel(t, seed, step, p, m, g, zxid))
		}
		n := len(queue)
		if g.rng.IntN(3) == 0 {
			n = g.rng.IntN(n + 1) // leave some inFlight txns in flight
		}
		applyGroup(t, seed, step, tree, plain, queue[:n], g.rng)
		if n > 0 {
			p.Applied(queue[n-1].zxid)
		}
		queue = queue[n:]
		if len(queue) == 0 {
			compareWithModel(t, seed, step, tree, m, g.now)
		}
	}
}

func openWith(t *testing.T, opts Options) *Tree {
	t.Helper()
	tr, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// prepareAgainstModel prepares the next random txn and checks its outcome
// against the model (which applies it at once).
func prepareAgainstModel(t *testing.T, seed uint64, step int, p *Pending, m *model, g *gen, zxid int64) inFlight {
	t.Helper()
	txn := g.txn()
	orig := cloneTxn(txn)
	merr, mpaths := m.apply(zxid, &orig)
	res, digest := p.Stage(zxid, &txn, nil)
	if codeOf(res.Err) != codeOf(merr) {
		t.Fatalf("seed %d step %d %+v: prepare %v, model %v", seed, step, orig, res.Err, merr)
	}
	if merr == nil {
		checkResolved(t, seed, step, &txn, mpaths)
	}
	pr := inFlight{zxid: zxid, txn: txn, res: res, digest: digest}
	if res.Err != nil {
		pr.txn, pr.noop = Txn{Type: TxnNoop}, true
		_, pr.digest = p.Stage(zxid, &pr.txn, nil)
	}
	pr.kept = p.Keep()
	if pr.kept == nil || pr.kept.Zxid() != zxid {
		t.Fatalf("seed %d step %d: kept %+v for zxid %#x", seed, step, pr.kept, zxid)
	}
	return pr
}

// applyGroup applies txns in one group on tree (three in four as kept,
// the others run again) and one by one on plain.
func applyGroup(t *testing.T, seed uint64, step int, tree, plain *Tree, txns []inFlight, rng *rand.Rand) {
	t.Helper()
	before, beforeDigest := tree.Applied()
	grp := tree.Group()
	for _, pr := range txns {
		gtxn, ptxn := cloneTxn(pr.txn), cloneTxn(pr.txn)
		var gres Result
		var gch []Change
		var gdigest uint64
		var err error
		if rng.IntN(4) == 0 {
			gres, gch, gdigest, err = grp.Apply(pr.zxid, &gtxn)
		} else {
			gres, gch, gdigest, err = grp.ApplyKept(pr.zxid, pr.kept)
		}
		if err != nil {
			t.Fatalf("seed %d step %d: group apply: %v", seed, step, err)
		}
		pres, pch, err := plain.Apply(pr.zxid, &ptxn)
		if err != nil {
			t.Fatalf("seed %d step %d: plain apply: %v", seed, step, err)
		}
		if !pr.noop {
			if diff := cmp.Diff(pr.res, gres, cmp.Comparer(sameCode)); diff != "" {
				t.Fatalf("seed %d step %d zxid %#x: prepare vs group (-prepare +group):\n%s", seed, step, pr.zxid, diff)
			}
		}
		if diff := cmp.Diff(pres, gres, cmp.Comparer(sameCode)); diff != "" {
			t.Fatalf("seed %d step %d zxid %#x: plain vs group (-plain +group):\n%s", seed, step, pr.zxid, diff)
		}
		if diff := cmp.Diff(pch, gch); diff != "" {
			t.Fatalf("seed %d step %d zxid %#x: changes (-plain +group):\n%s", seed, step, pr.zxid, diff)
		}
		if _, d := plain.Applied(); d != gdigest || d != pr.digest {
			t.Fatalf("seed %d step %d zxid %#x: digests: plain %#x, group %#x, inFlight %#x", seed, step, pr.zxid, d, gdigest, pr.digest)
		}
		if z, d := tree.Applied(); z != before || d != beforeDigest {
			t.Fatalf("seed %d step %d: the tree shows zxid %#x before the group's commit", seed, step, z)
		}
	}
	if err := grp.Commit(); err != nil {
		t.Fatalf("seed %d step %d: commit: %v", seed, step, err)
	}
	if z, d := tree.Applied(); len(txns) > 0 && (z != txns[len(txns)-1].zxid || d != txns[len(txns)-1].digest) {
		t.Fatalf("seed %d step %d: applied %#x %#x after the commit, want %#x %#x", seed, step, z, d, txns[len(txns)-1].zxid, txns[len(txns)-1].digest)
	}
}

// TestGroupHidesUntilCommit: a group's effects are invisible to the tree's
// readers, and its zxids are refused, until it commits; a committed group
// reads like the txns applied one by one.
func TestGroupHidesUntilCommit(t *testing.T) {
	h := newHarness(t)
	h.create("/a", "1")
	g := h.tree.Group()
	z := h.zxid
	if r, _, _, err := g.Apply(z+1, &Txn{Type: TxnSetData, Path: "/a", Data: []byte("2"), Version: -1, Time: 5}); err != nil || r.Err != nil {
		t.Fatal(err, r.Err)
	}
	if r, _, _, err := g.Apply(z+2, &Txn{Type: TxnCreate, Path: "/a/b", ACL: OpenACLUnsafe(), Time: 6}); err != nil || r.Err != nil {
		t.Fatal(err, r.Err)
	}
	if n := h.get("/a"); string(n.Data) != "1" || n.Stat.NumChildren != 0 {
		t.Fatalf("before commit: %q, %d children", n.Data, n.Stat.NumChildren)
	}
	// The group's own view shows each txn's state before the commit (a
	// watch event's node is read there), null data included.
	if n, err := g.Get("/a"); err != nil || string(n.Data) != "2" || n.Stat.NumChildren != 1 || n.Stat.Version != 1 {
		t.Fatalf("group view of /a: %q, %+v, %v", n.Data, n.Stat, err)
	}
	if n, err := g.Get("/a/b"); err != nil || n.Data != nil || n.Stat.Czxid != z+2 {
		t.Fatalf("group view of /a/b: %q, %+v, %v", n.Data, n.Stat, err)
	}
	if _, err := g.Get("/a/c"); !errors.Is(err, zkerr.ErrNoNode) {
		t.Fatalf("group view of a missing node: %v", err)
	}
	if _, _, _, err := g.Apply(z+2, &Txn{Type: TxnNoop}); err == nil {
		t.Fatal("the group took a zxid it had applied")
	}
	if err := g.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := h.get("/a"); string(n.Data) != "2" || n.Stat.NumChildren != 1 || n.Stat.Version != 1 {
		t.Fatalf("after commit: %q, %+v", n.Data, n.Stat)
	}
	if got, _ := h.tree.Applied(); got != z+2 {
		t.Fatalf("applied %#x, want %#x", got, z+2)
	}
}

// TestApplyKeptRefusesAnotherState: a kept txn applies only on the state
// it was staged on (the zxid before it and the digest there, each checked
// alone: past a no-op the digest is the same); anywhere else ApplyKept
// answers ErrNotKept and the group is unchanged.
func TestApplyKeptRefusesAnotherState(t *testing.T) {
	tree, other := openModelTree(t), openModelTree(t)
	create := func(path string) *Txn {
		return &Txn{Type: TxnCreate, Path: path, ACL: OpenACLUnsafe(), Time: 7}
	}
	p := tree.NewPending()
	var kept []*Kept
	for i, path := range []string{"/a", "/b"} {
		if r, _ := p.Stage(int64(i+1), create(path), nil); r.Err != nil {
			t.Fatal(r.Err)
		}
		kept = append(kept, p.Keep())
	}
	if p.Keep() != nil {
		t.Fatal("Keep with nothing staged returned a kept txn")
	}
	g := tree.Group()
	refused := func(what string, zxid int64, k *Kept) {
		t.Helper()
		if _, _, _, err := g.ApplyKept(zxid, k); !errors.Is(err, ErrNotKept) {
			t.Fatalf("%s: %v, want ErrNotKept", what, err)
		}
	}
	refused("the second before the first", 2, kept[1])
	refused("nil", 1, nil)
	refused("at another zxid", 3, kept[0])
	if z, _ := g.Applied(); z != 0 {
		t.Fatalf("refusals moved the group to %#x", z)
	}
	if res, ch, _, err := g.ApplyKept(1, kept[0]); err != nil || res.Err != nil || len(ch) != 1 || ch[0].Path != "/a" {
		t.Fatalf("first: %+v %+v %v", res, ch, err)
	}
	// Another tree at zxid 1 with other content: same zxid, other digest.
	if _, _, err := other.Apply(1, create("/c")); err != nil {
		t.Fatal(err)
	}
	og := other.Group()
	if _, _, _, err := og.ApplyKept(2, kept[1]); !errors.Is(err, ErrNotKept) {
		t.Fatalf("on another state: %v, want ErrNotKept", err)
	}
	if _, _, _, err := g.ApplyKept(2, kept[1]); err != nil {
		t.Fatal(err)
	}
	// A no-op changes no digest: a txn kept after one, applied without it,
	// finds the digest it ran on, but not the zxid.
	if r, _ := p.Stage(3, &Txn{Type: TxnNoop}, nil); r.Err != nil {
		t.Fatal(r.Err)
	}
	noop := p.Keep()
	if r, _ := p.Stage(4, create("/c"), nil); r.Err != nil {
		t.Fatal(r.Err)
	}
	afterNoop := p.Keep()
	refused("past a no-op not applied", 4, afterNoop)
	for _, k := range []*Kept{noop, afterNoop} {
		if _, _, _, err := g.ApplyKept(k.Zxid(), k); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/a", "/b", "/c"} {
		if _, err := tree.Stat(path); err != nil {
			t.Fatalf("%s after the commit: %v", path, err)
		}
	}
	if _, err := other.Stat("/b"); !errors.Is(err, zkerr.ErrNoNode) {
		t.Fatalf("the refused txn reached the other tree: %v", err)
	}
}
