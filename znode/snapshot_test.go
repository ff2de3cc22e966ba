package znode

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/go-cmp/cmp"
)

// populate applies random (prepared) txns to tr and returns them.
func populate(t testing.TB, tr *Tree, seed uint64, steps int) []prepared {
	t.Helper()
	g := &gen{rng: rand.New(rand.NewPCG(seed, 7)), now: 1000, m: newModel(modelMaxData)}
	p := tr.NewPending()
	zxid, _ := tr.Applied()
	var out []prepared
	for range steps {
		txn := g.txn()
		g.m.apply(zxid+1, &txn)
		res, d := p.Prepare(zxid+1, &txn, nil)
		if res.Err != nil {
			continue
		}
		zxid++
		if _, _, err := tr.Apply(zxid, &txn); err != nil {
			t.Fatal(err)
		}
		p.Applied(zxid)
		out = append(out, prepared{zxid: zxid, txn: txn, res: res, digest: d})
	}
	return out
}

func snapshotBytes(t testing.TB, tr *Tree) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := tr.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type treeState struct {
	zxid   int64
	digest uint64
	nodes  int64
	sizes  [2]int64 // DataSize, EphemeralCount
	dump   map[string]string
}

func stateOf(t testing.TB, tr *Tree) treeState {
	z, d := tr.Applied()
	return treeState{z, d, tr.NodeCount(), [2]int64{tr.DataSize(), tr.EphemeralCount()}, rawDump(t, tr)}
}

func TestSnapshotRoundTrip(t *testing.T) {
	src := openModelTree(t)
	populate(t, src, 11, 300)
	snap := snapshotBytes(t, src)
	want := stateOf(t, src)

	fs := vfs.NewMem()
	dst, err := Open(testOptions(fs))
	if err != nil {
		t.Fatal(err)
	}
	populate(t, dst, 12, 50) // something to replace
	z, err := dst.Restore(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	if z != want.zxid || dst.Durable() != z {
		t.Fatalf("Restore = %d, durable %d, want %d", z, dst.Durable(), want.zxid)
	}
	if diff := cmp.Diff(want, stateOf(t, dst), cmp.AllowUnexported(treeState{})); diff != "" {
		t.Fatalf("restored tree (-source +restored):\n%s", diff)
	}
	// The restored tree keeps working, and survives a restart.
	populate(t, dst, 13, 30)
	after := stateOf(t, dst)
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	names, _ := fs.List(testOptions(fs).Dir)
	if len(names) != 2 { // CURRENT and one Pebble directory
		t.Fatalf("directory holds %v", names)
	}
	re, err := Open(testOptions(fs))
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	if diff := cmp.Diff(after, stateOf(t, re), cmp.AllowUnexported(treeState{})); diff != "" {
		t.Fatalf("after reopen (-before +after):\n%s", diff)
	}
	// Writing the restored tree's snapshot again gives a valid stream.
	if _, err := readSnapshot(bytes.NewReader(snapshotBytes(t, re)), discardSink{}); err != nil {
		t.Fatal(err)
	}
}

// TestSnapshotWhileApplying writes a snapshot while the tree keeps
// applying; restoring it and replaying the txns after its zxid must give
// the final tree.
func TestSnapshotWhileApplying(t *testing.T) {
	src := openModelTree(t)
	txns := populate(t, src, 21, 150)
	pr, pw := io.Pipe()
	type out struct {
		zxid int64
		err  error
	}
	done := make(chan out, 1)
	go func() {
		z, err := src.WriteSnapshot(pw)
		_ = pw.CloseWithError(err)
		done <- out{z, err}
	}()
	txns = append(txns, populate(t, src, 22, 150)...)
	data, err := io.ReadAll(pr)
	if err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	dst := openModelTree(t)
	if _, err := dst.Restore(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	for _, q := range txns {
		if q.zxid <= res.zxid {
			continue
		}
		r, _, err := dst.Apply(q.zxid, &q.txn)
		if err != nil || codeOf(r.Err) != codeOf(q.res.Err) {
			t.Fatalf("replay %d: %v %v", q.zxid, r.Err, err)
		}
	}
	if diff := cmp.Diff(stateOf(t, src), stateOf(t, dst), cmp.AllowUnexported(treeState{})); diff != "" {
		t.Fatalf("snapshot + replay differs (-source +replayed):\n%s", diff)
	}
}

func TestRestoreRejectsDamage(t *testing.T) {
	src := openModelTree(t)
	populate(t, src, 31, 60)
	snap := snapshotBytes(t, src)
	dst := openModelTree(t)
	populate(t, dst, 32, 20)
	before := stateOf(t, dst)
	rng := rand.New(rand.NewPCG(33, 0))
	try := func(what string, b []byte) {
		t.Helper()
		if _, err := dst.Restore(bytes.NewReader(b)); !errors.Is(err, ErrBadSnapshot) {
			t.Fatalf("%s: Restore = %v, want ErrBadSnapshot", what, err)
		}
	}
	for i := 0; i < len(snap); i += 1 + rng.IntN(len(snap)/40+1) {
		try("truncated", snap[:i])
		b := append([]byte(nil), snap...)
		b[i] ^= byte(1 + rng.IntN(255))
		try("flipped", b)
	}
	if diff := cmp.Diff(before, stateOf(t, dst), cmp.AllowUnexported(treeState{})); diff != "" {
		t.Fatalf("a failed Restore changed the tree:\n%s", diff)
	}
	names, _ := dst.opts.FS.List(dst.opts.Dir)
	if len(names) != 2 {
		t.Fatalf("failed restores left %v", names)
	}
}

// TestRestoreChecksContent feeds streams with a valid checksum but content
// that does not hold together.
func TestRestoreChecksContent(t *testing.T) {
	root := node{numChildren: 1, acl: OpenACLUnsafe()}
	zk := node{numChildren: 2, acl: OpenACLUnsafe()}
	leaf := node{acl: OpenACLUnsafe()}
	cfg := node{aversion: -1, acl: ReadACLUnsafe()}
	good := []snapRec{{path: "/", n: root}, {path: "/zookeeper", n: zk}, {path: "/zookeeper/config", n: cfg}, {path: "/zookeeper/quota", n: leaf}}
	if _, err := readSnapshot(bytes.NewReader(buildSnap(good, nil, nil)), discardSink{}); err != nil {
		t.Fatalf("good stream: %v", err)
	}
	badDigest := uint64(1)
	withKid := append([]snapRec(nil), good...)
	withKid = append(withKid, snapRec{path: "/zookeeper/quota/x", n: leaf})
	eph := node{kind: kindEphemeral, owner: 5, acl: OpenACLUnsafe()}
	rootTwo := root
	rootTwo.numChildren = 2
	withEph := []snapRec{{path: "/", n: rootTwo}, {path: "/e", n: eph}}
	withEph = append(withEph, good[1:]...)
	cases := map[string][]byte{
		"wrong digest":        buildSnap(good, nil, &badDigest),
		"child count":         buildSnap(withKid, nil, nil),
		"out of order":        buildSnap([]snapRec{good[0], good[1], good[3], good[2]}, nil, nil),
		"duplicate":           buildSnap(append(append([]snapRec(nil), good...), good[3]), nil, nil),
		"root not first":      buildSnap(good[1:], nil, nil),
		"missing system node": buildSnap([]snapRec{{path: "/", n: node{acl: OpenACLUnsafe()}}}, nil, nil),
		"orphan ephemeral":    buildSnap(withEph, nil, nil),
		"bad session order":   buildSnap(good, []SessionInfo{{ID: 2}, {ID: 1}}, nil),
	}
	for name, b := range cases {
		if _, err := readSnapshot(bytes.NewReader(b), discardSink{}); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: %v, want ErrBadSnapshot", name, err)
		}
	}
	if _, err := readSnapshot(bytes.NewReader(buildSnap(withEph, []SessionInfo{{ID: 5}}, nil)), discardSink{}); err != nil {
		t.Errorf("ephemeral with its session: %v", err)
	}
}

func TestRestoreReadsExactlyTheStream(t *testing.T) {
	src := openModelTree(t)
	populate(t, src, 41, 40)
	snap := snapshotBytes(t, src)
	br := bufio.NewReader(bytes.NewReader(append(append([]byte(nil), snap...), "tail"...)))
	dst := openModelTree(t)
	if _, err := dst.Restore(br); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "tail" {
		t.Fatalf("Restore consumed past the stream: left %q", rest)
	}
}

type discardSink struct{}

func (discardSink) node(string, *node, []byte) error { return nil }
func (discardSink) session(int64, []byte) error      { return nil }

type snapRec struct {
	path string
	n    node
}

// buildSnap writes a stream from records, with a correct checksum, the
// digest and counts computed from the records unless digest is given.
func buildSnap(nodes []snapRec, sessions []SessionInfo, digest *uint64) []byte {
	var b []byte
	b = append(b, snapMagic...)
	b = append(b, 0, snapVersion)
	var d uint64
	for _, r := range nodes {
		n := r.n
		n.dataHash = dataHash(n.data)
		v := encodeNode(&n)
		b = append(b, recNode)
		b = binary.AppendUvarint(b, uint64(len(r.path)))
		b = append(b, r.path...)
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
		d += nodeDigest(r.path, &n)
	}
	for _, s := range sessions {
		v := encodeSession(s)
		b = append(b, recSession)
		b = binary.BigEndian.AppendUint64(b, uint64(s.ID))
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
		d += sessionDigest(s)
	}
	if digest != nil {
		d = *digest
	}
	b = append(b, recEnd)
	b = binary.BigEndian.AppendUint64(b, 7)
	b = binary.BigEndian.AppendUint64(b, d)
	b = binary.BigEndian.AppendUint64(b, uint64(len(nodes)))
	b = binary.BigEndian.AppendUint64(b, uint64(len(sessions)))
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// memSink collects what a stream holds.
type memSink struct {
	nodes    map[string]node
	sessions map[int64]SessionInfo
}

func (m *memSink) node(path string, n *node, _ []byte) error {
	c := *n
	c.data = bytes.Clone(n.data) // keeps null (nil) apart from empty
	m.nodes[path] = c
	return nil
}

func (m *memSink) session(id int64, v []byte) error {
	s, err := decodeSession(id, v)
	m.sessions[id] = s
	return err
}

func FuzzSnapshotReader(f *testing.F) {
	tr, err := Open(testOptions(vfs.NewMem()))
	if err != nil {
		f.Fatal(err)
	}
	populate(f, tr, 51, 40)
	f.Add(snapshotBytes(f, tr))
	_ = tr.Close()
	leaf := node{acl: OpenACLUnsafe()}
	f.Add(buildSnap([]snapRec{{path: "/", n: node{numChildren: 1, acl: OpenACLUnsafe()}},
		{path: "/zookeeper", n: node{numChildren: 2, acl: OpenACLUnsafe()}},
		{path: "/zookeeper/config", n: leaf}, {path: "/zookeeper/quota", n: leaf}}, []SessionInfo{{ID: 3}}, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkFuzzedSnapshot(t, b)
		// Also read the input with a correct checksum appended, so that
		// mutations reach the checks behind the checksum.
		if len(b) > 4 {
			body := b[:len(b)-4]
			fixed := binary.BigEndian.AppendUint32(append([]byte(nil), body...), crc32.Checksum(body, castagnoli))
			checkFuzzedSnapshot(t, fixed)
		}
	})
}

func checkFuzzedSnapshot(t *testing.T, b []byte) {
	sink := &memSink{nodes: map[string]node{}, sessions: map[int64]SessionInfo{}}
	m, err := readSnapshot(bytes.NewReader(b), sink)
	if err != nil {
		if !errors.Is(err, ErrBadSnapshot) {
			t.Fatalf("error %v does not wrap ErrBadSnapshot", err)
		}
		return
	}
	// What was accepted holds together: counts and digest match, every
	// node but the root has its parent, and each parent's child count
	// matches.
	var d uint64
	kids := map[string]int32{}
	for p, n := range sink.nodes {
		d += nodeDigest(p, &n)
		if p == "/" {
			continue
		}
		if _, ok := sink.nodes[Parent(p)]; !ok {
			t.Fatalf("node %q without parent accepted", p)
		}
		kids[Parent(p)]++
	}
	for p, n := range sink.nodes {
		if n.numChildren != kids[p] {
			t.Fatalf("node %q claims %d children, has %d", p, n.numChildren, kids[p])
		}
	}
	for _, s := range sink.sessions {
		d += sessionDigest(s)
	}
	if d != m.digest || int64(len(sink.nodes)) != m.nodes {
		t.Fatalf("accepted stream: digest %#x/%#x, nodes %d/%d", d, m.digest, len(sink.nodes), m.nodes)
	}
}

// TestSnapshotAllocationsDoNotGrowWithNodes: a snapshot streams its nodes
// without an allocation per node (a snapshot of a large tree runs beside
// the peer's writes, and every allocation is collected on their time).
// Each size counts its fewest allocations over several snapshots: built
// with -race, Pebble wraps some of its iterators at random (10% of the
// time each) in a checker that copies every key and value.
func TestSnapshotAllocationsDoNotGrowWithNodes(t *testing.T) {
	fewest := func(nodes int) float64 {
		h := newHarness(t)
		h.ok(Txn{Type: TxnCreate, Path: "/p", ACL: OpenACLUnsafe()})
		for i := range nodes {
			h.ok(Txn{Type: TxnCreate, Path: "/p/n" + strconv.Itoa(i), Data: []byte("value"), ACL: OpenACLUnsafe()})
		}
		least := math.Inf(1)
		for range 12 {
			least = min(least, testing.AllocsPerRun(1, func() {
				if _, err := h.tree.WriteSnapshot(io.Discard); err != nil {
					t.Fatal(err)
				}
			}))
		}
		return least
	}
	small, large := fewest(100), fewest(2000)
	if large-small > 100 {
		t.Fatalf("a snapshot of 2,000 nodes allocated %.0f times, of 100 nodes %.0f: about one per node", large, small)
	}
}
