package znode

import (
	"errors"
	"math"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/go-cmp/cmp"
)

func TestInitialTree(t *testing.T) {
	h := newHarness(t)
	zxid, digest := h.tree.Applied()
	if zxid != 0 || digest == 0 {
		t.Fatalf("Applied() = %d, %#x", zxid, digest)
	}
	if got := h.tree.NodeCount(); got != 4 {
		t.Fatalf("NodeCount = %d, want 4", got)
	}
	want := map[string]struct {
		stat Stat
		acl  []ACL
	}{
		// ZooKeeper 3.8 reports / at cversion -1 and /zookeeper at -2: their
		// children were never created by a txn (DataNode.copyStat).
		"/":                 {Stat{NumChildren: 1, Cversion: -1}, OpenACLUnsafe()},
		"/zookeeper":        {Stat{NumChildren: 2, Cversion: -2}, OpenACLUnsafe()},
		"/zookeeper/quota":  {Stat{}, OpenACLUnsafe()},
		"/zookeeper/config": {Stat{Aversion: -1}, ReadACLUnsafe()},
	}
	for path, w := range want {
		n := h.get(path)
		if diff := cmp.Diff(w.stat, n.Stat); diff != "" {
			t.Errorf("%s stat (-want +got):\n%s", path, diff)
		}
		if diff := cmp.Diff(w.acl, n.ACL); diff != "" {
			t.Errorf("%s acl (-want +got):\n%s", path, diff)
		}
		if n.Data == nil || len(n.Data) != 0 {
			t.Errorf("%s data = %v, want empty non-nil", path, n.Data)
		}
	}
	names, _, err := h.tree.Children("/zookeeper")
	if err != nil || !cmp.Equal(names, []string{"config", "quota"}) {
		t.Fatalf("Children(/zookeeper) = %v, %v", names, err)
	}
	if n, err := h.tree.AllChildrenNumber("/"); err != nil || n != 3 {
		t.Fatalf("AllChildrenNumber(/) = %d, %v; want 3 as ZooKeeper", n, err)
	}
}

func TestCreateStat(t *testing.T) {
	h := newHarness(t)
	rootBefore := h.get("/").Stat
	r, changes := h.apply(Txn{Type: TxnCreate, Path: "/a", Data: []byte("hello"), ACL: OpenACLUnsafe(), Time: 1234})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	z := h.zxid
	want := Stat{Czxid: z, Mzxid: z, Pzxid: z, Ctime: 1234, Mtime: 1234, DataLength: 5}
	if diff := cmp.Diff(want, r.Stat); diff != "" {
		t.Fatalf("Result.Stat (-want +got):\n%s", diff)
	}
	if r.Path != "/a" {
		t.Fatalf("Result.Path = %q", r.Path)
	}
	n := h.get("/a")
	if diff := cmp.Diff(want, n.Stat); diff != "" {
		t.Fatalf("stored stat (-want +got):\n%s", diff)
	}
	if string(n.Data) != "hello" {
		t.Fatalf("data = %q", n.Data)
	}
	// Parent: cversion+1, pzxid, numChildren+1; mzxid, mtime, version unchanged.
	wantRoot := rootBefore
	wantRoot.Cversion++
	wantRoot.Pzxid = z
	wantRoot.NumChildren++
	if diff := cmp.Diff(wantRoot, h.get("/").Stat); diff != "" {
		t.Fatalf("parent stat (-want +got):\n%s", diff)
	}
	wantChanges := []Change{{Type: ChangeCreated, Path: "/a", Zxid: z, ACL: OpenACLUnsafe(), ParentACL: OpenACLUnsafe()}}
	if diff := cmp.Diff(wantChanges, changes); diff != "" {
		t.Fatalf("changes (-want +got):\n%s", diff)
	}
}

func TestDeleteStat(t *testing.T) {
	h := newHarness(t)
	h.create("/p", "parent data")
	h.create("/p/c", "")
	before := h.get("/p").Stat
	acl := []ACL{{Perms: PermRead, Scheme: SchemeWorld, ID: IDAnyone}}
	h.ok(Txn{Type: TxnSetACL, Path: "/p/c", ACL: acl, Version: -1})
	_, changes := h.apply(Txn{Type: TxnDelete, Path: "/p/c", Version: 0})
	z := h.zxid
	want := before
	want.NumChildren--
	want.Pzxid = z
	want.Cversion++ // ZooKeeper reports deletes too: 2 x creates - children
	if diff := cmp.Diff(want, h.get("/p").Stat); diff != "" {
		t.Fatalf("parent stat (-want +got):\n%s", diff)
	}
	if _, err := h.tree.Get("/p/c"); !errors.Is(err, errNoNode) {
		t.Fatalf("deleted node: %v", err)
	}
	wantChanges := []Change{{Type: ChangeDeleted, Path: "/p/c", Zxid: z, ACL: acl, ParentACL: OpenACLUnsafe()}}
	if diff := cmp.Diff(wantChanges, changes); diff != "" {
		t.Fatalf("changes (-want +got):\n%s", diff)
	}
	// The next sequential child counts creates only, as ZooKeeper's suffix.
	r := h.ok(Txn{Type: TxnCreate, Path: "/p/s-0000000001", Mode: ModePersistentSequential, ACL: OpenACLUnsafe()})
	if r.Path != "/p/s-0000000001" {
		t.Fatalf("sequential path %q", r.Path)
	}
}

func TestSetDataStat(t *testing.T) {
	h := newHarness(t)
	created := h.create("/a", "x").Stat
	parentBefore := h.get("/").Stat
	r, changes := h.apply(Txn{Type: TxnSetData, Path: "/a", Data: []byte("longer"), Version: 0, Time: 99})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	want := created
	want.Version = 1
	want.Mzxid = h.zxid
	want.Mtime = 99
	want.DataLength = 6
	if diff := cmp.Diff(want, r.Stat); diff != "" {
		t.Fatalf("Result.Stat (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, h.get("/a").Stat); diff != "" {
		t.Fatalf("stored (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(parentBefore, h.get("/").Stat); diff != "" {
		t.Fatalf("parent changed (-want +got):\n%s", diff)
	}
	if len(changes) != 1 || changes[0].Type != ChangeDataChanged || changes[0].Path != "/a" || changes[0].Zxid != h.zxid {
		t.Fatalf("changes = %+v", changes)
	}
	// -1 matches any version.
	if r := h.ok(Txn{Type: TxnSetData, Path: "/a", Version: -1}); r.Stat.Version != 2 || r.Stat.DataLength != 0 {
		t.Fatalf("stat after set with -1: %+v", r.Stat)
	}
}

func TestSetACLStat(t *testing.T) {
	h := newHarness(t)
	created := h.create("/a", "x").Stat
	acl := []ACL{{Perms: PermRead | PermAdmin, Scheme: SchemeDigest, ID: DigestID("u", "p")}}
	r, changes := h.apply(Txn{Type: TxnSetACL, Path: "/a", ACL: acl, Version: 0})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	want := created
	want.Aversion = 1
	if diff := cmp.Diff(want, r.Stat); diff != "" {
		t.Fatalf("Result.Stat (-want +got):\n%s", diff)
	}
	if len(changes) != 0 {
		t.Fatalf("setACL produced changes %+v", changes)
	}
	n := h.get("/a")
	if diff := cmp.Diff(acl, n.ACL); diff != "" {
		t.Fatalf("acl (-want +got):\n%s", diff)
	}
	if r, _ := h.apply(Txn{Type: TxnSetACL, Path: "/a", ACL: acl, Version: 0}); !errors.Is(r.Err, errBadVersion) {
		t.Fatalf("stale aversion: %v", r.Err)
	}
}

func TestModesAndOwners(t *testing.T) {
	h := newHarness(t)
	h.session(0x55)
	cases := []struct {
		mode  CreateMode
		path  string
		ttl   int64
		owner int64
		want  string
	}{
		{ModePersistent, "/p", 0, 0, "/p"},
		{ModeEphemeral, "/e", 0, 0x55, "/e"},
		// Container and TTL nodes show 0, as ZooKeeper's
		// DataNode.getClientEphemeralOwner (its markers stay internal).
		{ModeContainer, "/c", 0, 0, "/c"},
		{ModePersistentWithTTL, "/t", 1000, 0, "/t"},
		{ModePersistentWithTTL, "/tmax", MaxTTL, 0, "/tmax"},
		{ModePersistentSequential, "/ps-", 0, 0, "/ps-0000000005"},
		{ModeEphemeralSequential, "/es-", 0, 0x55, "/es-0000000006"},
		{ModePersistentSequentialWithTTL, "/ts-", 5, 0, "/ts-0000000007"},
	}
	pending := h.tree.NewPending()
	for _, c := range cases {
		txn := Txn{Type: TxnCreate, Path: c.path, Mode: c.mode, TTL: c.ttl, Session: 0x55, ACL: OpenACLUnsafe(), Time: 1}
		pr, _ := pending.Prepare(h.zxid+1, &txn, nil)
		if pr.Err != nil {
			t.Fatalf("prepare %v: %v", c.mode, pr.Err)
		}
		if txn.Path != c.want {
			t.Fatalf("mode %d: resolved path %q, want %q", c.mode, txn.Path, c.want)
		}
		r := h.ok(txn)
		if r.Stat.EphemeralOwner != c.owner {
			t.Fatalf("mode %d: owner %#x, want %#x", c.mode, uint64(r.Stat.EphemeralOwner), uint64(c.owner))
		}
		pending.Applied(h.zxid)
	}
	if eph, _ := h.tree.Ephemerals(0x55, "/"); !cmp.Equal(eph, []string{"/e", "/es-0000000006"}) {
		t.Fatalf("Ephemerals = %v", eph)
	}
	if eph, _ := h.tree.Ephemerals(0x55, "/es"); !cmp.Equal(eph, []string{"/es-0000000006"}) {
		t.Fatalf("Ephemerals(/es) = %v", eph)
	}
}

func TestSequenceSuffixWrapsLikeZooKeeper(t *testing.T) {
	h := newHarness(t)
	h.create("/q", "")
	patchNode(t, h.tree, "/q", func(n *node) { n.cversion = math.MaxInt32 })
	p := h.tree.NewPending()
	txn := Txn{Type: TxnCreate, Path: "/q/n-", Mode: ModePersistentSequential, ACL: OpenACLUnsafe()}
	if r, _ := p.Prepare(h.zxid+1, &txn, nil); r.Err != nil || txn.Path != "/q/n-2147483647" {
		t.Fatalf("prepare: %v %q", r.Err, txn.Path)
	}
	h.ok(txn)
	p.Applied(h.zxid)
	txn = Txn{Type: TxnCreate, Path: "/q/n-", Mode: ModePersistentSequential, ACL: OpenACLUnsafe()}
	if r, _ := p.Prepare(h.zxid+1, &txn, nil); r.Err != nil || txn.Path != "/q/n--2147483648" {
		t.Fatalf("prepare after wrap: %v %q", r.Err, txn.Path)
	}
	h.ok(txn)
	p.Applied(h.zxid)
	// Creates: MinInt32+1 (the next suffix); reported: 2*(MinInt32+1) - 2
	// children, which wraps to 0 in Java's int arithmetic.
	if got := h.get("/q").Stat.Cversion; got != 0 {
		t.Fatalf("cversion = %d, want 0", got)
	}
	txn = Txn{Type: TxnCreate, Path: "/q/n-", Mode: ModePersistentSequential, ACL: OpenACLUnsafe()}
	if r, _ := p.Prepare(h.zxid+1, &txn, nil); r.Err != nil || txn.Path != "/q/n--2147483647" {
		t.Fatalf("prepare after two wrapped creates: %v %q", r.Err, txn.Path)
	}
	if got := sequenceSuffix(-1); got != "-000000001" {
		t.Fatalf("suffix(-1) = %q", got)
	}
}

// TestVersionWrap is item 8 of issue 9: a version at MaxInt32 wraps to
// MinInt32 as in ZooKeeper (checkAndIncVersion's int arithmetic), and that
// version is a valid expected version like any other int32. From -2 the
// next version is 0, not -1 (ZOOKEEPER-4743, on ZooKeeper's main line, not
// in 3.8 or 3.9): -1 as an expected version means "any", so a node at -1
// could not be updated conditionally. The same holds for aversion.
func TestVersionWrap(t *testing.T) {
	h := newHarness(t)
	h.create("/v", "")
	patchNode(t, h.tree, "/v", func(n *node) { n.version, n.aversion = math.MaxInt32, math.MaxInt32 })
	if r := h.ok(Txn{Type: TxnSetData, Path: "/v", Version: math.MaxInt32}); r.Stat.Version != math.MinInt32 {
		t.Fatalf("version after MaxInt32 = %d", r.Stat.Version)
	}
	if r := h.ok(Txn{Type: TxnSetData, Path: "/v", Version: math.MinInt32}); r.Stat.Version != math.MinInt32+1 {
		t.Fatalf("set with expected version MinInt32: version %d", r.Stat.Version)
	}
	if r, _ := h.apply(Txn{Type: TxnSetData, Path: "/v", Version: math.MinInt32}); !errors.Is(r.Err, errBadVersion) {
		t.Fatalf("stale MinInt32: %v", r.Err)
	}
	if r := h.ok(Txn{Type: TxnSetACL, Path: "/v", ACL: OpenACLUnsafe(), Version: math.MaxInt32}); r.Stat.Aversion != math.MinInt32 {
		t.Fatalf("aversion after MaxInt32 = %d", r.Stat.Aversion)
	}
	h.ok(Txn{Type: TxnMulti, Ops: []Txn{{Type: TxnCheck, Path: "/v", Version: math.MinInt32 + 1}}})
	patchNode(t, h.tree, "/v", func(n *node) { n.version, n.aversion = -2, -2 })
	if r := h.ok(Txn{Type: TxnSetData, Path: "/v", Version: -2}); r.Stat.Version != 0 {
		t.Fatalf("version after -2 = %d, want 0 (ZOOKEEPER-4743)", r.Stat.Version)
	}
	if r := h.ok(Txn{Type: TxnSetACL, Path: "/v", ACL: OpenACLUnsafe(), Version: -2}); r.Stat.Aversion != 0 {
		t.Fatalf("aversion after -2 = %d, want 0", r.Stat.Aversion)
	}
}

func TestApplyRefusesOldZxid(t *testing.T) {
	h := newHarness(t)
	h.create("/a", "")
	for _, z := range []int64{h.zxid, h.zxid - 1, 0} {
		if _, _, err := h.tree.Apply(z, &Txn{Type: TxnNoop}); !errors.Is(err, ErrZxidOrder) {
			t.Fatalf("Apply(%d) = %v", z, err)
		}
	}
	before, digest := h.tree.Applied()
	h.ok(Txn{Type: TxnNoop})
	after, digest2 := h.tree.Applied()
	if after != before+1 || digest2 != digest {
		t.Fatalf("noop: %d,%#x -> %d,%#x", before, digest, after, digest2)
	}
}

// patchNode rewrites a node in place (test-only), keeping the digest in the
// meta record consistent.
func patchNode(t *testing.T, tr *Tree, path string, f func(*node)) {
	t.Helper()
	b, ok, err := pebbleReader{tr.db}.get(nodeKey(path))
	if err != nil || !ok {
		t.Fatalf("patch %s: %v", path, err)
	}
	n, err := decodeNode(b)
	if err != nil {
		t.Fatal(err)
	}
	old := n
	f(&n)
	m := *tr.applied.Load()
	m.digest += nodeDigest(path, &n) - nodeDigest(path, &old)
	batch := tr.db.NewBatch()
	_ = batch.Set(nodeKey(path), encodeNode(&n), nil)
	_ = batch.Set(metaKey, encodeMeta(m), nil)
	if err := batch.Commit(pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	tr.cache.clear() // written behind the tree's back
	tr.applied.Store(&m)
}
