package znode

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	modelSeeds = flag.Int("znode.seeds", 3, "seeds for the model-based tests")
	modelSteps = flag.Int("znode.steps", 400, "steps per seed for the model-based tests")
)

const modelMaxData = 32

// gen generates random txns over a small universe of paths, so that they
// collide often.
type gen struct {
	rng *rand.Rand
	now int64
	m   *model
}

var genNames = []string{"a", "b", "a-", "ab"}

func (g *gen) path() string {
	if g.rng.IntN(8) == 0 {
		// Sometimes an existing path, to hit versions and children.
		paths := g.m.sortedPaths()
		return paths[g.rng.IntN(len(paths))]
	}
	p := ""
	for d := 0; d < 1+g.rng.IntN(3); d++ {
		p += "/" + genNames[g.rng.IntN(len(genNames))]
	}
	switch g.rng.IntN(40) {
	case 0:
		return "/zookeeper/" + genNames[g.rng.IntN(len(genNames))]
	case 1:
		return p + "/"
	case 2:
		return "/"
	}
	return p
}

func (g *gen) version(path string) int32 {
	switch g.rng.IntN(4) {
	case 0:
		return int32(g.rng.IntN(3))
	case 1:
		if n, ok := g.m.nodes[path]; ok {
			return n.n.version
		}
	}
	return -1
}

func (g *gen) data() []byte {
	if g.rng.IntN(8) == 0 {
		return nil // null data, apart from empty
	}
	n := g.rng.IntN(8)
	if g.rng.IntN(30) == 0 {
		n = modelMaxData + 1
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + g.rng.IntN(26))
	}
	return b
}

func (g *gen) acl() []ACL {
	switch g.rng.IntN(12) {
	case 0:
		return nil
	case 1:
		return []ACL{{PermRead, SchemeDigest, DigestID("u", "p")}, {PermAll, SchemeIP, "10.0.0.0/8"}}
	}
	return OpenACLUnsafe()
}

func (g *gen) op(inMulti bool) Txn {
	p := g.path()
	switch g.rng.IntN(10) {
	case 0, 1, 2, 3:
		mode := CreateMode(g.rng.IntN(8))
		ttl := int64(0)
		if mode == ModePersistentWithTTL || mode == ModePersistentSequentialWithTTL || g.rng.IntN(20) == 0 {
			ttl = int64(g.rng.IntN(200))
		}
		if mode == ModePersistentSequential || mode == ModeEphemeralSequential || mode == ModePersistentSequentialWithTTL {
			if g.rng.IntN(2) == 0 {
				p += "/"
			}
		}
		return Txn{Type: TxnCreate, Path: p, Mode: mode, TTL: ttl, Data: g.data(), ACL: g.acl()}
	case 4, 5:
		return Txn{Type: TxnDelete, Path: p, Version: g.version(p)}
	case 6, 7:
		return Txn{Type: TxnSetData, Path: p, Data: g.data(), Version: g.version(p)}
	case 8:
		if inMulti {
			return Txn{Type: TxnCheck, Path: p, Version: g.version(p)}
		}
		return Txn{Type: TxnSetACL, Path: p, ACL: g.acl(), Version: g.version(p)}
	}
	if inMulti {
		return Txn{Type: TxnCheck, Path: p, Version: g.version(p)}
	}
	return Txn{Type: TxnDeleteContainer, Path: p}
}

func (g *gen) txn() Txn {
	g.now += int64(g.rng.IntN(60))
	session := int64(1 + g.rng.IntN(3))
	var t Txn
	switch g.rng.IntN(20) {
	case 0:
		t = Txn{Type: TxnCreateSession, Timeout: 1000, Password: []byte{byte(session)}}
	case 1:
		t = Txn{Type: TxnCloseSession}
	case 2, 3, 4:
		t = Txn{Type: TxnMulti}
		for range g.rng.IntN(5) {
			t.Ops = append(t.Ops, g.op(true))
		}
	case 5:
		t = Txn{Type: TxnNoop}
	default:
		t = g.op(false)
	}
	t.Session, t.Time = session, g.now
	return t
}

// cloneTxn deep-copies the parts of a txn Prepare may change.
func cloneTxn(t Txn) Txn {
	t.Ops = append([]Txn(nil), t.Ops...)
	return t
}

func TestTreeAgainstModel(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*modelSeeds); seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runModel(t, seed, *modelSteps) })
	}
}

func runModel(t *testing.T, seed uint64, steps int) {
	opts := testOptions(vfs.NewMem())
	opts.MaxDataSize = modelMaxData
	tree, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	m := newModel(modelMaxData)
	g := &gen{rng: rand.New(rand.NewPCG(seed, 7)), now: 1000, m: m}
	p := tree.NewPending()
	zxid := int64(0)
	for step := 0; step < steps; step++ {
		zxid++
		txn := g.txn()
		orig := cloneTxn(txn)
		merr, mpaths := m.apply(zxid, &orig)
		pres, pdigest := p.Prepare(zxid, &txn, nil)
		if codeOf(pres.Err) != codeOf(merr) {
			t.Fatalf("seed %d step %d %+v: prepare %v, model %v", seed, step, orig, pres.Err, merr)
		}
		if merr == nil {
			checkResolved(t, seed, step, &txn, mpaths)
		}
		if pres.Err != nil && hasSequential(&orig) {
			// Apply sees only resolved txns; this one was never resolved.
			txn = Txn{Type: TxnNoop}
		}
		ares, _, err := tree.Apply(zxid, &txn)
		if err != nil {
			t.Fatalf("seed %d step %d: %v", seed, step, err)
		}
		if txn.Type != TxnNoop || orig.Type == TxnNoop {
			if diff := cmp.Diff(pres, ares, cmp.Comparer(sameCode)); diff != "" {
				t.Fatalf("seed %d step %d %+v: prepare vs apply (-prepare +apply):\n%s", seed, step, orig, diff)
			}
		}
		p.Applied(zxid)
		if _, d := tree.Applied(); d != pdigest {
			t.Fatalf("seed %d step %d: applied digest %#x, prepared %#x", seed, step, d, pdigest)
		}
		compareWithModel(t, seed, step, tree, m, g.now)
	}
	if p.Len() != 0 {
		t.Fatalf("pending holds %d entries after everything was applied", p.Len())
	}
}

func sameCode(a, b error) bool { return codeOf(a) == codeOf(b) }

func hasSequential(t *Txn) bool {
	seq := func(op *Txn) bool {
		_, s, _ := createKind(op.Mode)
		return op.Type == TxnCreate && s
	}
	if seq(t) {
		return true
	}
	for i := range t.Ops {
		if seq(&t.Ops[i]) {
			return true
		}
	}
	return false
}

func checkResolved(t *testing.T, seed uint64, step int, txn *Txn, want []string) {
	t.Helper()
	var got []string
	switch txn.Type {
	case TxnCreate:
		got = []string{txn.Path}
	case TxnMulti:
		for _, op := range txn.Ops {
			if op.Type == TxnCreate {
				got = append(got, op.Path)
			} else {
				got = append(got, "")
			}
		}
	default:
		return
	}
	if !cmp.Equal(got, want, cmpopts.EquateEmpty()) {
		t.Fatalf("seed %d step %d: resolved paths %q, model %q", seed, step, got, want)
	}
}

// compareWithModel compares every node (decoded from one scan of the node
// key space), the child lists, the indexes and the digest with the model;
// the read API (Get, Children) is checked on a sample of paths every step
// and on every path every 50 steps.
func compareWithModel(t *testing.T, seed uint64, step int, tree *Tree, m *model, now int64) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d step %d: %s", seed, step, fmt.Sprintf(format, args...))
	}
	if got := tree.NodeCount(); got != int64(len(m.nodes)) {
		fail("NodeCount %d, model %d", got, len(m.nodes))
	}
	var want treeSizes
	for path, mn := range m.nodes {
		want.add(path, &mn.n, 1)
	}
	if got := (treeSizes{tree.DataSize(), tree.EphemeralCount()}); got != want {
		fail("DataSize, EphemeralCount %v, model %v", got, want)
	}
	stored := scanNodes(t, tree)
	if len(stored) != len(m.nodes) {
		fail("%d nodes stored, model has %d", len(stored), len(m.nodes))
	}
	paths := m.sortedPaths()
	for _, path := range paths {
		n, ok := stored[path]
		if !ok {
			fail("%s missing", path)
		}
		compareNode(fail, m, path, n)
	}
	for i, path := range paths {
		if step%50 != 0 && (i+step)%len(paths) >= 4 {
			continue
		}
		n, err := tree.Get(path)
		if err != nil {
			fail("Get(%s): %v", path, err)
		}
		compareNode(fail, m, path, n)
		names, cn, err := tree.Children(path)
		var want []string
		for k := range m.nodes[path].children {
			want = append(want, k)
		}
		if err != nil || !slices.Equal(names, sortedStrings(want)) || cn.Stat != n.Stat {
			fail("Children(%s) = %q, %v; model %q", path, names, err, want)
		}
	}
	for s := int64(1); s <= 3; s++ {
		got, err := tree.Ephemerals(s, "/")
		if err != nil || !slices.Equal(got, m.ephemerals(s)) {
			fail("Ephemerals(%d) = %q, %v; model %q", s, got, err, m.ephemerals(s))
		}
	}
	compareEphemeralsBySession(fail, tree, m)
	if _, d := tree.Applied(); d != m.digest() {
		fail("digest %#x, recomputed from the model %#x", d, m.digest())
	}
	compareReapable(t, fail, tree, m, now)
}

// compareEphemeralsBySession: one scan gives every session that owns
// ephemerals, in order, with the model's paths.
func compareEphemeralsBySession(fail func(string, ...any), tree *Tree, m *model) {
	var got, want []int64
	err := tree.EphemeralsBySession(func(s int64, paths []string) {
		got = append(got, s)
		if !slices.Equal(paths, m.ephemerals(s)) {
			fail("EphemeralsBySession: session %d has %q, model %q", s, paths, m.ephemerals(s))
		}
	})
	for s := int64(1); s <= 3; s++ {
		if len(m.ephemerals(s)) > 0 {
			want = append(want, s)
		}
	}
	if err != nil || !slices.Equal(got, want) {
		fail("EphemeralsBySession: sessions %v, %v; model %v", got, err, want)
	}
}

func compareNode(fail func(string, ...any), m *model, path string, n Node) {
	mn := m.nodes[path]
	// Plain comparisons: this runs for every node after every step.
	if want := m.stat(path); want != n.Stat {
		fail("%s stat: model %+v, tree %+v", path, want, n.Stat)
	}
	if string(n.Data) != string(mn.n.data) || (n.Data == nil) != (mn.n.data == nil) || !slices.Equal(n.ACL, mn.n.acl) {
		fail("%s: data %q acl %v, model %q %v", path, n.Data, n.ACL, mn.n.data, mn.n.acl)
	}
}

// scanNodes decodes every node in the tree with one iterator.
func scanNodes(t *testing.T, tree *Tree) map[string]Node {
	t.Helper()
	out := map[string]Node{}
	var derr error
	err := pebbleReader{tree.db}.scan([]byte{spaceNode}, func(key, val []byte) bool {
		path, ok := pathFromNodeKey(key)
		if !ok {
			derr = fmt.Errorf("bad node key %q", key)
			return false
		}
		out[path], derr = nodeFromValue(path, append([]byte(nil), val...), true)
		return derr == nil
	})
	if err != nil || derr != nil {
		t.Fatal(err, derr)
	}
	return out
}

func compareReapable(t *testing.T, fail func(string, ...any), tree *Tree, m *model, now int64) {
	t.Helper()
	got, err := tree.Reapable(now, 0)
	if err != nil {
		fail("Reapable: %v", err)
	}
	var gotPaths, want []string
	for _, txn := range got {
		gotPaths = append(gotPaths, txn.Path)
	}
	for _, p := range m.sortedPaths() {
		if m.reapable(m.nodes[p], now) {
			want = append(want, p)
		}
	}
	if !slices.Equal(gotPaths, want) {
		fail("Reapable %q, model %q", gotPaths, want)
	}
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
