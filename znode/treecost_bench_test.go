package znode

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// BenchmarkTreeCost measures the tree's whole CPU cost of a write, as the
// peer loop pays it: creates of 1 KiB under one parent, or setData of 64
// nodes (examples/bench's create-64 and setdata-64) or spread over 20,000
// (more than the value cache holds: each set reads its node from Pebble),
// applied in commit groups of 64, including Pebble's background flushes and
// compactions. After the loop it flushes and waits for Pebble's
// compactions to finish, inside the metered time, so the work a run leaves
// behind is counted. cpu-ns/op is the process's CPU (getrusage: every
// thread) per txn; B/op counts allocations of every goroutine (Pebble's
// too); wamp is the bytes Pebble wrote to tables (flushes and compactions)
// per byte of the batches committed.
//
//	go test ./znode -run x -bench TreeCost -benchtime 100000x -benchmem
func BenchmarkTreeCost(b *testing.B) {
	for _, random := range []bool{false, true} {
		for _, op := range []struct {
			name  string
			nodes int // setData over this many nodes; 0: creates
		}{{"create", 0}, {"setdata", treeCostGroup}, {"setdata-spread", 20000}} {
			name := fmt.Sprintf("%s/zeros", op.name)
			if random {
				name = fmt.Sprintf("%s/random", op.name)
			}
			b.Run(name, func(b *testing.B) { benchTreeCost(b, op.nodes, random) })
		}
	}
}

const treeCostGroup = 64

// benchTreeCost runs b.N creates, or b.N setData over setNodes nodes (in
// a spread order) when setNodes > 0.
func benchTreeCost(b *testing.B, setNodes int, random bool) {
	set := setNodes > 0
	tr, err := Open(Options{FS: vfs.Default, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tr.Close() }()
	a := &benchApplier{b: b, tree: tr}
	acl := OpenACLUnsafe()
	a.apply(&Txn{Type: TxnCreate, Path: "/p", ACL: acl, Time: 1})
	rng := rand.New(rand.NewPCG(1, 2))
	// Values come from a pool of distinct buffers, so that what Pebble
	// compresses is as (in)compressible as one value.
	pool := make([][]byte, 64)
	for i := range pool {
		pool[i] = make([]byte, 1024)
		if random {
			for j := range pool[i] {
				pool[i][j] = byte(rng.Uint32())
			}
		}
	}
	n := b.N
	paths := make([]string, max(n, setNodes))
	for i := range paths {
		paths[i] = fmt.Sprintf("/p/n%09d", i)
	}
	if set {
		// setData rewrites nodes already in the tree: make them first.
		applyGroups(b, a, setNodes, func(i int) *Txn {
			return &Txn{Type: TxnCreate, Path: paths[i], Data: pool[i%len(pool)], ACL: acl, Time: 5}
		})
		settle(b, tr)
	}
	m0 := tr.db.Metrics()
	runtime.GC()
	b.SetBytes(1024)
	b.ResetTimer()
	cpu := startCPU(b)
	var batchBytes int
	batchBytes = applyGroups(b, a, n, func(i int) *Txn {
		if set {
			// 7919 is prime to 64 and 20,000: every node in turn, spread.
			return &Txn{Type: TxnSetData, Path: paths[i*7919%setNodes], Data: pool[(i+1)%len(pool)], Version: -1, Time: 9}
		}
		return &Txn{Type: TxnCreate, Path: paths[i], Data: pool[i%len(pool)], ACL: acl, Time: 5}
	})
	settle(b, tr)
	cpu()
	b.StopTimer()
	m := tr.db.Metrics()
	var written, written0 uint64
	for l := range m.Levels {
		written += m.Levels[l].TableBytesFlushed + m.Levels[l].TableBytesCompacted + m.Levels[l].BlobBytesFlushed + m.Levels[l].BlobBytesCompacted
		written0 += m0.Levels[l].TableBytesFlushed + m0.Levels[l].TableBytesCompacted + m0.Levels[l].BlobBytesFlushed + m0.Levels[l].BlobBytesCompacted
	}
	if batchBytes > 0 {
		b.ReportMetric(float64(written-written0)/float64(batchBytes), "wamp")
	}
	b.ReportMetric(float64(m.Compact.Count-m0.Compact.Count), "compactions")
	b.ReportMetric(float64(m.Flush.Count-m0.Flush.Count), "flushes")
}

// applyGroups applies txn(0..n-1) in groups of treeCostGroup and returns
// the bytes of the Pebble batches committed (approximately: the values).
func applyGroups(b *testing.B, a *benchApplier, n int, txn func(int) *Txn) int {
	bytes := 0
	for i := 0; i < n; {
		g := a.tree.Group()
		for j := 0; j < treeCostGroup && i < n; j, i = j+1, i+1 {
			a.zxid++
			t := txn(i)
			r, _, _, err := g.Apply(a.zxid, t)
			if err != nil || r.Err != nil {
				b.Fatalf("apply: %v %v", err, r.Err)
			}
			bytes += len(t.Path) + len(t.Data) + 60
		}
		if err := g.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	return bytes
}

// settle flushes the tree and waits for Pebble's compactions to finish:
// none running, and none started for 100 ms.
func settle(b *testing.B, tr *Tree) {
	if _, err := tr.Flush(); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	last, quiet := int64(-1), 0
	for time.Now().Before(deadline) {
		m := tr.db.Metrics()
		if m.Compact.NumInProgress == 0 && m.Compact.Count == last {
			if quiet++; quiet == 100 {
				return
			}
		} else {
			quiet = 0
		}
		last = m.Compact.Count
		time.Sleep(time.Millisecond)
	}
	b.Fatal("compactions did not settle")
}
