package znode

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Benchmarks run on the real file system (a temporary directory), with the
// default options.

func benchTree(b *testing.B) *Tree {
	b.Helper()
	tr, err := Open(Options{FS: vfs.Default, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Close() })
	return tr
}

type benchApplier struct {
	b    *testing.B
	tree *Tree
	zxid int64
}

func (a *benchApplier) apply(txn *Txn) Result {
	a.zxid++
	r, _, err := a.tree.Apply(a.zxid, txn)
	if err != nil || r.Err != nil {
		a.b.Fatalf("apply: %v %v", err, r.Err)
	}
	return r
}

var kib = bytes.Repeat([]byte("x"), 1024)

// fill creates parents x perParent nodes of size bytes under /p<i>.
func (a *benchApplier) fill(parents, perParent int, data []byte) {
	acl := OpenACLUnsafe()
	for i := range parents {
		parent := fmt.Sprintf("/p%d", i)
		a.apply(&Txn{Type: TxnCreate, Path: parent, ACL: acl, Time: 1})
		for j := range perParent {
			a.apply(&Txn{Type: TxnCreate, Path: fmt.Sprintf("%s/n%07d", parent, j), Data: data, ACL: acl, Time: 1})
		}
	}
}

func BenchmarkApplyCreate1KiB(b *testing.B) {
	a := &benchApplier{b: b, tree: benchTree(b)}
	a.apply(&Txn{Type: TxnCreate, Path: "/p", ACL: OpenACLUnsafe()})
	paths := make([]string, 0, 1<<16)
	for i := range cap(paths) {
		paths = append(paths, fmt.Sprintf("/p/n%07d", i))
	}
	acl := OpenACLUnsafe()
	i := 0
	b.SetBytes(1024)
	cpu := startCPU(b)
	for b.Loop() {
		if i == len(paths) {
			b.StopTimer()
			// Start over under a new parent.
			p := fmt.Sprintf("/q%d", a.zxid)
			a.apply(&Txn{Type: TxnCreate, Path: p, ACL: acl})
			for j := range paths {
				paths[j] = fmt.Sprintf("%s/n%07d", p, j)
			}
			i = 0
			b.StartTimer()
		}
		a.apply(&Txn{Type: TxnCreate, Path: paths[i], Data: kib, ACL: acl, Time: 5})
		i++
	}
	cpu()
}

func BenchmarkApplySetData1KiB(b *testing.B) {
	a := &benchApplier{b: b, tree: benchTree(b)}
	a.fill(1, 1000, kib)
	paths := make([]string, 1000)
	for j := range paths {
		paths[j] = fmt.Sprintf("/p0/n%07d", j)
	}
	i := 0
	b.SetBytes(1024)
	cpu := startCPU(b)
	for b.Loop() {
		a.apply(&Txn{Type: TxnSetData, Path: paths[i%len(paths)], Data: kib, Version: -1, Time: 9})
		i++
	}
	cpu()
}

func BenchmarkGet1KiB(b *testing.B) {
	a := &benchApplier{b: b, tree: benchTree(b)}
	a.fill(1, 1000, kib)
	if _, err := a.tree.Flush(); err != nil {
		b.Fatal(err)
	}
	paths := make([]string, 1000)
	for j := range paths {
		paths[j] = fmt.Sprintf("/p0/n%07d", j)
	}
	i := 0
	cpu := startCPU(b)
	for b.Loop() {
		if _, err := a.tree.Get(paths[i%len(paths)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	cpu()
}

// BenchmarkGetRandom100k reads nodes at random from a tree of 100,000
// values of 1 KiB, many times the caches: most reads load a block.
func BenchmarkGetRandom100k(b *testing.B) {
	tr := big100k(b)
	rng := rand.New(rand.NewPCG(1, 2))
	paths := make([]string, 1<<16) // drawn before the clock starts
	for i := range paths {
		paths[i] = fmt.Sprintf("/p%d/n%07d", rng.IntN(100), rng.IntN(1000))
	}
	i := 0
	cpu := startCPU(b)
	for b.Loop() {
		p := paths[i%len(paths)]
		i++
		if _, err := tr.Get(p); err != nil {
			b.Fatal(err)
		}
	}
	cpu()
}

func benchChildren(b *testing.B, data []byte) {
	a := &benchApplier{b: b, tree: benchTree(b)}
	a.fill(1, 10000, data)
	if _, err := a.tree.Flush(); err != nil {
		b.Fatal(err)
	}
	cpu := startCPU(b)
	for b.Loop() {
		names, _, err := a.tree.Children("/p0")
		if err != nil || len(names) != 10000 {
			b.Fatal(len(names), err)
		}
	}
	cpu()
}

func BenchmarkChildren10kEmpty(b *testing.B) { benchChildren(b, nil) }
func BenchmarkChildren10k1KiB(b *testing.B)  { benchChildren(b, kib) }

// big100k builds a tree of 100 x 1000 nodes of 1 KiB.
func big100k(b *testing.B) *Tree {
	a := &benchApplier{b: b, tree: benchTree(b)}
	a.fill(100, 1000, kib)
	if _, err := a.tree.Flush(); err != nil {
		b.Fatal(err)
	}
	return a.tree
}

func BenchmarkWriteSnapshot100k(b *testing.B) {
	tr := big100k(b)
	var n int64
	cpu := startCPU(b)
	for b.Loop() {
		cw := &countWriter{}
		if _, err := tr.WriteSnapshot(cw); err != nil {
			b.Fatal(err)
		}
		n = cw.n
	}
	cpu()
	b.SetBytes(n)
}

// BenchmarkCheckpoint100k measures what a periodic snapshot costs since it
// is a checkpoint of the tree's store (compare BenchmarkWriteSnapshot100k,
// the stream it replaced); a fresh node each time makes every checkpoint
// flush, as the peer's are.
func BenchmarkCheckpoint100k(b *testing.B) {
	a := &benchApplier{b: b, tree: big100k(b)}
	a.zxid, _ = a.tree.Applied()
	dir := b.TempDir()
	i := 0
	cpu := startCPU(b)
	for b.Loop() {
		i++
		a.apply(&Txn{Type: TxnCreate, Path: fmt.Sprintf("/ckpt%d", i), ACL: OpenACLUnsafe(), Time: 1})
		if _, _, err := a.tree.Checkpoint(filepath.Join(dir, strconv.Itoa(i))); err != nil {
			b.Fatal(err)
		}
	}
	cpu()
}

func BenchmarkRestore100k(b *testing.B) {
	var buf bytes.Buffer
	if _, err := big100k(b).WriteSnapshot(&buf); err != nil {
		b.Fatal(err)
	}
	dst := benchTree(b)
	b.SetBytes(int64(buf.Len()))
	cpu := startCPU(b)
	for b.Loop() {
		if _, err := dst.Restore(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
	cpu()
}

func BenchmarkOpen100k(b *testing.B) {
	tr := big100k(b)
	opts := tr.opts
	if err := tr.Close(); err != nil {
		b.Fatal(err)
	}
	cpu := startCPU(b)
	for b.Loop() {
		re, err := Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		if re.NodeCount() != 100*1001+4 {
			b.Fatal(re.NodeCount())
		}
		_ = re.Close()
	}
	cpu()
}

func BenchmarkPrepareCreate1KiB(b *testing.B) {
	a := &benchApplier{b: b, tree: benchTree(b)}
	a.apply(&Txn{Type: TxnCreate, Path: "/p", ACL: OpenACLUnsafe()})
	p := a.tree.NewPending()
	acl := OpenACLUnsafe()
	z := a.zxid
	cpu := startCPU(b)
	for b.Loop() {
		z++
		txn := Txn{Type: TxnCreate, Path: "/p/n-", Mode: ModePersistentSequential, Data: kib, ACL: acl, Time: 5}
		if r, _ := p.Prepare(z, &txn, nil); r.Err != nil {
			b.Fatal(r.Err)
		}
		if _, _, err := a.tree.Apply(z, &txn); err != nil {
			b.Fatal(err)
		}
		p.Applied(z)
	}
	cpu()
}

// startCPU meters the process CPU time of the benchmark loop; the machine
// the benchmarks run on may be shared, so wall time alone misleads.
func startCPU(b *testing.B) func() {
	c0 := processCPU()
	return func() {
		if b.N > 0 && c0 > 0 {
			b.ReportMetric(float64(processCPU()-c0)/float64(b.N), "cpu-ns/op")
		}
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
