package wire_test

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"

	gozk "github.com/go-zookeeper/zk"
)

// BenchmarkWireZKGets: getData of 1 KiB values from 64 go-zookeeper clients
// against a zk peer alone (for profiling: -cpuprofile).
func BenchmarkWireZKGets(b *testing.B) {
	inprocRate(b, "gets/s", func(c *gozk.Conn, i int) error {
		_, _, err := c.Get(fmt.Sprintf("/n%d", i%benchClients))
		return err
	})
}

// BenchmarkWireZKSets: setData of 1 KiB values from 64 go-zookeeper clients
// against a zk peer alone (for profiling: -cpuprofile, -memprofile).
func BenchmarkWireZKSets(b *testing.B) {
	value := make([]byte, 1024)
	inprocRate(b, "sets/s", func(c *gozk.Conn, i int) error {
		_, err := c.Set(fmt.Sprintf("/n%d", i%benchClients), value, -1)
		return err
	})
}

// BenchmarkWireZKCreates: creates of 1 KiB values from 64 go-zookeeper
// clients against a zk peer alone (for profiling: -cpuprofile,
// -memprofile; with -benchmem, allocs/op counts the clients' allocations
// and the server's, all in this process).
func BenchmarkWireZKCreates(b *testing.B) {
	value := make([]byte, 1024)
	inprocRate(b, "creates/s", func(c *gozk.Conn, i int) error {
		_, err := c.Create(fmt.Sprintf("/c%d", i), value, 0, open)
		return err
	})
}

// inprocRate runs b.N ops from 64 go-zookeeper clients against a zk peer
// in this process, after creating the nodes /n0 to /n63 (1 KiB each), and
// reports their rate as unit.
func inprocRate(b *testing.B, unit string, op func(c *gozk.Conn, i int) error) {
	cs := clients(b, benchClients, benchPeer(b))
	value := make([]byte, 1024)
	for i := 0; i < benchClients; i++ {
		_, err := cs[0].Create(fmt.Sprintf("/n%d", i), value, 0, open)
		must(b, err)
	}
	b.ResetTimer()
	b.ReportMetric(run(b, cs, b.N, op), unit)
}

// BenchmarkWirePipelined: one go-zookeeper connection shared by 64
// goroutines (go-zookeeper pipelines their requests on it), creates of
// 1 KiB values, against a zk peer and a ZooKeeper server in the same run
// (-wire.rounds rounds, interleaved; medians):
//
//	go test ./internal/wire -run x -bench WirePipelined -benchtime 5000x
func BenchmarkWirePipelined(b *testing.B) {
	if b.N == 1 {
		return // the framework's probe: run with -benchtime Nx
	}
	zooAddr := startRealZKs(b, 1)[0]
	ourAddr := startOurs(b, 1)[0]
	var ours, theirs []float64
	for r := 0; r < *benchRounds; r++ {
		for _, target := range []struct {
			addr  string
			rates *[]float64
		}{{ourAddr, &ours}, {zooAddr, &theirs}} {
			c, _ := dial(b, target.addr)
			prefix := fmt.Sprintf("/pipe%d", r)
			_, err := c.Create(prefix, nil, 0, open)
			must(b, err)
			shared := make([]*gozk.Conn, benchClients)
			for i := range shared {
				shared[i] = c
			}
			value := make([]byte, 1024)
			*target.rates = append(*target.rates, run(b, shared, b.N, func(c *gozk.Conn, i int) error {
				_, err := c.Create(fmt.Sprintf("%s/c%d", prefix, i), value, 0, open)
				return err
			}))
			c.Close()
		}
		b.Logf("round %d: zk %.0f, ZooKeeper %.0f creates/s on one connection", r, ours[r], theirs[r])
	}
	b.ReportMetric(median(ours), "zk-creates/s")
	b.ReportMetric(median(theirs), "zookeeper-creates/s")
	b.ReportMetric(median(ours)/median(theirs), "ratio-creates")
}

// BenchmarkWireZK: creates, setData and getData of 1 KiB values from 64
// go-zookeeper clients against zk server processes alone (no ZooKeeper),
// reporting their CPU time per operation; with -wire.serverprofile DIR each
// server N writes its CPU profile (zkN.cpu) there (and its allocations,
// zkN.mem, with -wire.serverallocs), and -wire.only create (set, get) runs that kind alone (its
// profiles then show only it); -wire.peers 3 runs it against an ensemble
// of three server processes:
//
//	go test ./internal/wire -run x -bench 'WireZK$' -benchtime 20000x -wire.serverprofile /tmp
func BenchmarkWireZK(b *testing.B) {
	if b.N == 1 {
		return // the framework's probe: run with -benchtime Nx
	}
	addrs := startOurs(b, *benchPeers)
	if *benchOnly != "" {
		rate, cpu := onlyRate(b, *benchOnly, b.N, addrs)
		b.ReportMetric(rate, *benchOnly+"s/s")
		b.ReportMetric(cpu, "cpu-µs/"+*benchOnly)
		return
	}
	rates(b, "/warmup", b.N, addrs...)
	rate, cpu, _ := rates(b, "/bench", b.N, addrs...)
	for i, name := range []string{"create", "set", "get"} {
		b.ReportMetric(rate[i], name+"s/s")
		b.ReportMetric(cpu[i], "cpu-µs/"+name)
	}
}

var benchPeers = flag.Int("wire.peers", 1, "BenchmarkWireZK: the number of zk peers (an ensemble when more than 1; the clients are spread over them)")

var benchOnly = flag.String("wire.only", "", "BenchmarkWireZK: run only this kind of operation (create, set, get)")

// onlyRate runs n operations of one kind (twice: a warm-up, then the
// measured run) and returns their rate and the server's CPU µs per op.
func onlyRate(b *testing.B, kind string, n int, addrs []string) (rate, cpu float64) {
	cs := clients(b, benchClients, addrs...)
	defer closeAll(cs)
	value := make([]byte, 1024)
	for i := 0; i < benchClients; i++ {
		_, err := cs[0].Create(fmt.Sprintf("/n%d", i), value, 0, open)
		must(b, err)
	}
	for _, c := range cs {
		_, err := c.Sync("/") // every peer has the nodes
		must(b, err)
	}
	var op func(c *gozk.Conn, i int) error
	switch kind {
	case "create":
		op = func(c *gozk.Conn, i int) error {
			_, err := c.Create(fmt.Sprintf("/c%d", i), value, 0, open)
			return err
		}
	case "set":
		op = func(c *gozk.Conn, i int) error {
			_, err := c.Set(fmt.Sprintf("/n%d", i%benchClients), value, -1)
			return err
		}
	case "get":
		op = func(c *gozk.Conn, i int) error {
			_, _, err := c.Get(fmt.Sprintf("/n%d", i%benchClients))
			return err
		}
	default:
		b.Fatalf("-wire.only %q: want create, set or get", kind)
	}
	run(b, cs, n, op)
	if kind == "create" {
		// The measured run creates other nodes.
		inner := op
		op = func(c *gozk.Conn, i int) error { return inner(c, i+n) }
	}
	before, groupsBefore := serverCPU(addrs), logGroups(b, addrs)
	rate = run(b, cs, n, op)
	if *serverMetric {
		g := logGroups(b, addrs)
		for i, a := range addrs {
			d := g[i].minus(groupsBefore[i])
			b.Logf("peer %s: %.0f group commits, %.1f txns each, %.3f ms to write and fsync one; %.0f writes, %.3f ms each as its sessions saw them",
				a, d.count, d.txns/d.count, d.ms/d.count, d.writes, d.writeMs/d.writes)
		}
	}
	return rate, float64((serverCPU(addrs) - before).Microseconds()) / float64(n)
}

// groupStats sums a peer's group commits and its writes so far, from its
// mntr.
type groupStats struct{ count, txns, ms, writes, writeMs float64 }

func (g groupStats) minus(o groupStats) groupStats {
	return groupStats{g.count - o.count, g.txns - o.txns, g.ms - o.ms, g.writes - o.writes, g.writeMs - o.writeMs}
}

// logGroups reads each peer's group commits from mntr (-wire.servermetrics;
// nil without it).
func logGroups(b *testing.B, addrs []string) []groupStats {
	if !*serverMetric {
		return nil
	}
	var out []groupStats
	for _, a := range addrs {
		var g groupStats
		for _, line := range strings.Split(fourLetter(b, a, "mntr"), "\n") {
			name, value, _ := strings.Cut(line, "\t")
			v, _ := strconv.ParseFloat(value, 64)
			switch name {
			case "zk_sync_processor_batch_size_count":
				g.count = v
			case "zk_sync_processor_batch_size_sum":
				g.txns = v
			case "zk_fsynctime_sum":
				g.ms = v
			case "zk_updatelatency_count":
				g.writes = v
			case "zk_updatelatency_sum":
				g.writeMs = v
			}
		}
		out = append(out, g)
	}
	return out
}
