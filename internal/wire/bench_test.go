package wire_test

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/wire"
)

// The client-protocol benchmarks: go-zookeeper clients over loopback, 1 KiB
// values, 64 clients, against a zk peer and, in the same run, against a
// real ZooKeeper 3.8 (Debian's, started here). Each server runs in its own
// process (zk: examples/server, built here, from a zoo.cfg), both fsync
// every write to the same disk, and the clients live in the test process
// for both. After -wire.warmups warm-up rounds (ZooKeeper's JIT needs
// about three), the runs alternate (zk, ZooKeeper, zk, ZooKeeper, ...) for
// -wire.rounds rounds; the medians of the rates are reported, and of the
// rounds' ratios:
//
//	go test ./internal/wire -run x -bench WireVsZooKeeper -benchtime 20000x -wire.rounds 5
//
// (WireVsZooKeeper: standalone; WireVsZooKeeper3: three peers and three
// ZooKeeper servers, all on this host.) -wire.inproc runs zk inside the test
// process instead (to profile it with -cpuprofile); -wire.serverprofile DIR
// has each zk server process N write its CPU profile (DIR/zkN.cpu) there,
// and with -wire.serverallocs its allocations profile (DIR/zkN.mem) too.

const benchClients = 64

// benchPeer starts a standalone zk peer on the real disk, real clock.
func benchPeer(b *testing.B) string {
	cfg := engine.Config{
		DataDir: b.TempDir(), FS: vfs.Default, ClientPort: -1, ClientPortAddress: "127.0.0.1",
		TickTime: 500 * time.Millisecond, ClientIO: wire.ClientIOForTests(),
	}
	return startPeer(b, cfg).ClientAddr()
}

// benchCluster starts three zk peers over TCP on loopback, on the real disk.
func benchCluster(b *testing.B) []string {
	var servers []engine.Server
	for i := 1; i <= 3; i++ {
		servers = append(servers, engine.Server{ID: int64(i), Host: "127.0.0.1", QuorumPort: freePort(b), ElectionPort: freePort(b)})
	}
	peers := make([]*engine.Ensemble, 3)
	for i := range peers {
		cfg := engine.Config{
			ID: int64(i + 1), Servers: servers, PeerSecret: []byte("bench-secret-0123456789"),
			DataDir: b.TempDir(), FS: vfs.Default, ClientPort: -1, ClientPortAddress: "127.0.0.1",
			TickTime: 500 * time.Millisecond, Logger: benchLogger(), ClientIO: wire.ClientIOForTests(),
		}
		e, err := wire.NewEnsemble(cfg)
		must(b, err)
		b.Cleanup(func() { e.Close() })
		peers[i] = e
	}
	addrs := make([]string, 3)
	for i, e := range peers {
		must(b, e.WaitServing(testCtx(b)))
		addrs[i] = e.ClientAddr()
	}
	return addrs
}

var benchLog = flag.Bool("wire.benchlog", false, "log the benchmark peers")

func benchLogger() *slog.Logger {
	if !*benchLog {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// clients opens n go-zookeeper connections, spread over addrs.
func clients(b *testing.B, n int, addrs ...string) []*gozk.Conn {
	out := make([]*gozk.Conn, n)
	for i := range out {
		out[i], _ = dial(b, addrs[i%len(addrs)])
	}
	return out
}

// closeAll closes the clients.
func closeAll(cs []*gozk.Conn) {
	for _, c := range cs {
		c.Close()
	}
}

// run spreads total ops over the clients and returns ops per second.
func run(b *testing.B, cs []*gozk.Conn, total int, op func(c *gozk.Conn, i int) error) float64 {
	b.Helper()
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
					failed.Store(fmt.Errorf("op %d on %s: %w", i, c.Server(), err))
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

// rates runs creates, setData and getData of 1 KiB values against addrs;
// it returns the rates, the server processes' CPU time per operation (in
// microseconds; 0 for servers inside this process) and this process's (the
// clients', unless the servers run inside it).
func rates(b *testing.B, prefix string, n int, addrs ...string) (rate, cpu, clientCPU [3]float64) {
	cs := clients(b, benchClients, addrs...)
	defer closeAll(cs)
	value := make([]byte, 1024)
	_, err := cs[0].Create(prefix, nil, 0, open)
	must(b, err)
	for _, c := range cs {
		_, err := c.Sync(prefix) // every peer has the prefix
		must(b, err)
	}
	path := func(i int) string { return fmt.Sprintf("%s/n%d", prefix, i%benchClients) }
	phase := func(i int, op func(c *gozk.Conn, i int) error) {
		before, self := serverCPU(addrs), selfCPU()
		rate[i] = run(b, cs, n, op)
		cpu[i] = float64((serverCPU(addrs) - before).Microseconds()) / float64(n)
		clientCPU[i] = float64((selfCPU() - self).Microseconds()) / float64(n)
	}
	phase(0, func(c *gozk.Conn, i int) error {
		_, err := c.Create(fmt.Sprintf("%s/c%d", prefix, i), value, 0, open)
		return err
	})
	for i := 0; i < benchClients; i++ {
		_, err := cs[0].Create(path(i), value, 0, open)
		must(b, err)
	}
	for _, c := range cs {
		_, err := c.Sync(prefix)
		must(b, err)
	}
	phase(1, func(c *gozk.Conn, i int) error {
		_, err := c.Set(path(i), value, -1)
		return err
	})
	phase(2, func(c *gozk.Conn, i int) error {
		_, _, err := c.Get(path(i))
		return err
	})
	return rate, cpu, clientCPU
}

// selfCPU returns the CPU time this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var benchWarmups = flag.Int("wire.warmups", 3, "warm-up rounds before the measured ones (ZooKeeper's JVM is still compiling its hot paths during the first)")

var benchRounds = flag.Int("wire.rounds", 3, "rounds of the zk-vs-ZooKeeper benchmarks (zk, ZooKeeper, zk, ZooKeeper, ...)")

// BenchmarkWireVsZooKeeper: b.N operations of each kind against a zk peer
// and a ZooKeeper server, interleaved for -wire.rounds rounds (compare).
func BenchmarkWireVsZooKeeper(b *testing.B) {
	if b.N == 1 {
		return // the framework's probe: run with -benchtime Nx
	}
	zooAddrs := startRealZKs(b, 1)
	ourAddrs := startOurs(b, 1)
	compare(b, side{"zk", ourAddrs}, side{"ZooKeeper", zooAddrs})
}

// BenchmarkWireVsZooKeeper3: the same against three zk peers and three
// ZooKeeper servers, the clients spread over the members.
func BenchmarkWireVsZooKeeper3(b *testing.B) {
	if b.N == 1 {
		return // the framework's probe: run with -benchtime Nx
	}
	zooAddrs := startRealZKs(b, 3)
	ourAddrs := startOurs(b, 3)
	b.Logf("zk peers %v, ZooKeeper servers %v", ourAddrs, zooAddrs)
	compare(b, side{"zk", ourAddrs}, side{"ZooKeeper", zooAddrs})
}

// side is one of the two servers compare measures: its name in the log and
// in the metrics, and its client addresses.
type side struct {
	name  string
	addrs []string
}

// compare runs -wire.warmups warm-up rounds (ZooKeeper's JVM compiles its
// hot paths during its first tens of thousands of requests), then the
// rounds, alternating a and b, and reports medians: rates, the servers' CPU
// time per operation (all their threads), and the ratios a ÷ b, each the
// median of the rounds' own ratios (a round's two runs are minutes apart
// at most, so the machine's drift between rounds cancels).
func compare(tb *testing.B, a, b side) { compareAll(tb, b, a) }

// compareAll is compare for any number of sides, each measured against
// ref: every round runs each side in turn, then ref. With one side the
// ratios are reported as ratio-creates, ratio-sets and ratio-gets; with
// more, as <side>-ratio-creates and so on.
func compareAll(tb *testing.B, ref side, sides ...side) {
	all := append(append([]side(nil), sides...), ref)
	for w := 0; w < *benchWarmups; w++ {
		prefix := fmt.Sprintf("/warmup%d", w)
		line := fmt.Sprintf("warm-up %d:", w)
		for _, sd := range all {
			r, _, _ := rates(tb, prefix, tb.N, sd.addrs...)
			line += fmt.Sprintf(" %s %.0f/%.0f/%.0f,", sd.name, r[0], r[1], r[2])
		}
		tb.Log(line + " creates/sets/gets per second")
	}
	rate := make([][3][]float64, len(all))
	ratio := make([][3][]float64, len(sides))
	cpu := make([][3][]float64, len(all))
	for r := 0; r < *benchRounds; r++ {
		prefix := fmt.Sprintf("/bench%d", r)
		var got [][3]float64
		line := ""
		for j, sd := range all {
			o, oc, occ := rates(tb, prefix, tb.N, sd.addrs...)
			got = append(got, o)
			for i := range o {
				rate[j][i], cpu[j][i] = append(rate[j][i], o[i]), append(cpu[j][i], oc[i])
			}
			line += fmt.Sprintf("; %s %.0f/%.0f/%.0f per second, server CPU %.0f/%.0f/%.0f µs per op, clients' %.0f/%.0f/%.0f",
				sd.name, o[0], o[1], o[2], oc[0], oc[1], oc[2], occ[0], occ[1], occ[2])
		}
		z := got[len(all)-1]
		for j, sd := range sides {
			o := got[j]
			for i := range o {
				ratio[j][i] = append(ratio[j][i], o[i]/z[i])
			}
			line += fmt.Sprintf("; %s ÷ %s %.2f %.2f %.2f", sd.name, ref.name, o[0]/z[0], o[1]/z[1], o[2]/z[2])
		}
		tb.Logf("round %d (creates/sets/gets)%s", r, line)
	}
	for j, sd := range all {
		name := strings.ToLower(sd.name)
		tb.ReportMetric(serverPeakRSS(sd.addrs), name+"-peak-rss-MiB")
		for i, op := range []string{"creates", "sets", "gets"} {
			m := median(rate[j][i])
			tb.ReportMetric(m, name+"-"+op+"/s")
			tb.ReportMetric(median(cpu[j][i]), name+"-cpu-µs/"+strings.TrimSuffix(op, "s"))
			if j == len(all)-1 {
				continue
			}
			metric := "ratio-" + op
			if len(sides) > 1 {
				metric = name + "-" + metric
			}
			tb.ReportMetric(median(ratio[j][i]), metric)
		}
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
