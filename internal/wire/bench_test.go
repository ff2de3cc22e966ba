package wire_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/engine"
)

// The client-protocol benchmarks: go-zookeeper clients over loopback, 1 KiB
// values, 64 clients, against a zk peer and, in the same run, against a
// real ZooKeeper 3.8 (Debian's, started here). Both fsync every write to
// the same disk. Figures are reported as rates and as ratios of the same
// run:
//
//	go test ./internal/wire -run x -bench WireVsZooKeeper -benchtime 20000x

const benchClients = 64

// benchPeer starts a standalone zk peer on the real disk, real clock.
func benchPeer(b *testing.B) string {
	cfg := engine.Config{
		DataDir: b.TempDir(), FS: vfs.Default, ClientPort: -1, ClientPortAddress: "127.0.0.1",
		TickTime: 500 * time.Millisecond,
	}
	return startPeer(b, cfg).ClientAddr()
}

// clients opens n go-zookeeper connections.
func clients(b *testing.B, addr string, n int) []*gozk.Conn {
	out := make([]*gozk.Conn, n)
	for i := range out {
		out[i], _ = dial(b, addr)
	}
	return out
}

// run spreads total ops over the clients and returns ops per second.
func run(b *testing.B, cs []*gozk.Conn, total int, op func(c *gozk.Conn, i int) error) float64 {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				if err := op(c, i); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
	return float64(total) / time.Since(start).Seconds()
}

// rates runs creates, setData and getData of 1 KiB values against addr.
func rates(b *testing.B, addr, prefix string, n int) [3]float64 {
	cs := clients(b, addr, benchClients)
	value := make([]byte, 1024)
	_, err := cs[0].Create(prefix, nil, 0, open)
	must(b, err)
	path := func(i int) string { return fmt.Sprintf("%s/n%d", prefix, i%benchClients) }
	var r [3]float64
	r[0] = run(b, cs, n, func(c *gozk.Conn, i int) error {
		_, err := c.Create(fmt.Sprintf("%s/c%d", prefix, i), value, 0, open)
		return err
	})
	for i := 0; i < benchClients; i++ {
		_, err := cs[0].Create(path(i), value, 0, open)
		must(b, err)
	}
	r[1] = run(b, cs, n, func(c *gozk.Conn, i int) error {
		_, err := c.Set(path(i), value, -1)
		return err
	})
	r[2] = run(b, cs, n, func(c *gozk.Conn, i int) error {
		_, _, err := c.Get(path(i))
		return err
	})
	return r
}

// BenchmarkWireVsZooKeeper: b.N operations of each kind against each
// server.
func BenchmarkWireVsZooKeeper(b *testing.B) {
	zooAddr := startRealZK(b)
	ours := rates(b, benchPeer(b), "/bench", b.N)
	theirs := rates(b, zooAddr, "/bench", b.N)
	for i, name := range []string{"creates", "sets", "gets"} {
		b.ReportMetric(ours[i], "zk-"+name+"/s")
		b.ReportMetric(theirs[i], "zookeeper-"+name+"/s")
		b.ReportMetric(ours[i]/theirs[i], "ratio-"+name)
	}
}
