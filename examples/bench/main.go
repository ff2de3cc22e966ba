// Command bench measures zk side by side with Apache ZooKeeper 3.8 (Debian's
// package, started by the benchmark on 127.0.0.1 with its own zoo.cfg) on
// this machine, in one run: the same workloads against each, back to back,
// in interleaved rounds, with the disk's own fsync rate measured in the
// same rounds. It prints the median of the rounds and zk's figures as
// ratios of ZooKeeper's, so results from noisy, shared machines compare.
//
//	go run ./examples/bench                       # everything: 1 and 3 peers, 3 rounds
//	go run ./examples/bench -peers 3 -rounds 5 -duration 5s
//	go run ./examples/bench -targets zk -workloads create-64 -peers 1 -rounds 1 \
//	    -cpuprofile /tmp/cpu.prof -memprofile /tmp/mem.prof
//
// Targets:
//   - zookeeper: Debian's ZooKeeper 3.8 (/usr/share/java/zookeeper.jar, java
//     on the PATH's /usr/bin), standalone or 3 servers, go-zookeeper clients;
//   - zk: zk peers in this process, sessions in-process (zk.Session), the
//     lock workloads with recipes.Mutex;
//   - zk-wire: zk peers in this process serving ZooKeeper's client protocol
//     (Config.ClientPort), the same go-zookeeper clients as for ZooKeeper;
//   - zk-procs: zk peers as processes of examples/server (built with the go
//     command), one per peer from the same zoo.cfg as ZooKeeper's servers,
//     the same go-zookeeper clients: zk laid out as ZooKeeper runs (not
//     in the default targets).
//
// For zk and zk-wire a 3-peer ensemble runs its three peers in this
// process over TCP on 127.0.0.1; ZooKeeper (and zk-procs) runs three
// processes. Sessions are spread over the peers
// (session i on peer i mod n) for every target. The RSS workload loads the
// nodes over the client protocol into a fresh ensemble: for zk, a child
// process (this binary) holding all the peers; for ZooKeeper, the JVMs
// (their RSS summed).
//
// With -cpuprofile or -memprofile, every measured window of a zk target is
// profiled into its own file (the path plus ".<target>-<peers>-<workload>-r<round>";
// the heap profile twice, ".before" and ".after": compare them with
// go tool pprof -sample_index=alloc_space -base before after). Each peer's
// goroutines carry the pprof label peer=p<id> and the clients' client=1, so
// -tagfocus separates the leader from the followers (the run prints which
// peer leads).
//
// With -trace, the zk peers note each step of every request (the test-only
// hooks.Hooks.Trace) and after the create-1, lock-shared, lock-own,
// create-64 and set-64 windows the benchmark prints the median and p90 of
// each stage of a write and of a lock hand-off (PROFILE.md, "Where a
// hand-off's time goes" and "Concurrent writers on three peers in one
// process"); with
// -runtimetrace, a runtime trace of each zk window for go tool trace, in
// which -trace's marks appear as user logs.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"
)

var (
	rounds       = flag.Int("rounds", 3, "rounds; each measures every target once, in alternating order")
	duration     = flag.Duration("duration", 3*time.Second, "how long each throughput or latency measurement runs")
	warmup       = flag.Duration("warmup", 2*time.Second, "writes from 64 sessions on every fresh ensemble before it is measured (a JVM's JIT, Go's heap): at least this long")
	warmupOps    = flag.Int("warmup-ops", 40000, "and at least this many writes (ZooKeeper's three servers need tens of thousands to reach their pace; at most a minute)")
	peersFlag    = flag.String("peers", "1,3", "ensemble sizes to measure (comma-separated: 1, 3)")
	serverBin    = flag.String("zk-server", "", "examples/server's binary for the zk-procs target (default: built with go build, in the repository)")
	targetsF     = flag.String("targets", "zookeeper,zk,zk-wire", "what to measure (comma-separated: zookeeper, zk, zk-wire, zk-procs)")
	workloadsF   = flag.String("workloads", strings.Join(workloadNames(), ","), "workloads (comma-separated)")
	valueLen     = flag.Int("value", 1024, "bytes of data per node")
	rssNodes     = flag.Int("rss-nodes", 100000, "nodes the RSS workloads hold")
	dirFlag      = flag.String("dir", "", "where to store data (default: a temporary directory)")
	jvmFlags     = flag.String("zk-jvm", "", "extra JVM flags for ZooKeeper (default: none, the JVM's defaults, as Debian's zkServer.sh)")
	cpuProfile   = flag.String("cpuprofile", "", "write a CPU profile of each measured zk window to this path plus a suffix")
	memProfile   = flag.String("memprofile", "", "write heap profiles around each measured zk window to this path plus a suffix")
	treeCache    = flag.Int64("zk-tree-cache", 0, "zk's Config.TreeCacheSize (bytes; 0: the default)")
	treeMem      = flag.Int64("zk-memtable", 0, "zk's Config.TreeMemTableSize (bytes; 0: the default)")
	valueCache   = flag.Int64("zk-value-cache", 0, "zk's Config.TreeValueCacheSize (bytes; 0: the default, negative: none)")
	runtimeTrace = flag.String("runtimetrace", "", "write a runtime trace (go tool trace) of each measured zk window to this path plus a suffix")
	zkProcs      = flag.Int("zk-procs", 0, "GOMAXPROCS while several zk peers run in this process (0: unchanged); see PROFILE.md on what more Ps did")
	traceFlag    = flag.Bool("trace", false, "trace zk's writes and lock hand-offs stage by stage (create-1, lock-shared, lock-own, create-64, set-64) and print the medians")
	childPeers   = flag.Int("child", 0, "internal: run as the RSS child holding this many zk peers")
)

func main() {
	flag.Parse()
	var err error
	if *childPeers > 0 {
		err = runChild(*childPeers, *dirFlag)
	} else {
		err = run()
	}
	if err != nil {
		log.Fatal(err)
	}
}

// plan is what one run measures.
type plan struct {
	peers     []int
	targets   []string
	workloads []workload
	root      string
}

func run() error {
	p, err := parsePlan()
	if err != nil {
		return err
	}
	if *dirFlag == "" {
		d, err := os.MkdirTemp("", "zk-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		p.root = d
	} else {
		p.root = *dirFlag
	}
	res := newResults()
	for r := 1; r <= *rounds; r++ {
		if err := runRound(p, r, res); err != nil {
			return err
		}
	}
	res.print(os.Stdout, p)
	return nil
}

func parsePlan() (plan, error) {
	var p plan
	for _, s := range splitList(*peersFlag) {
		switch s {
		case "1":
			p.peers = append(p.peers, 1)
		case "3":
			p.peers = append(p.peers, 3)
		default:
			return p, fmt.Errorf("-peers: %q is not 1 or 3", s)
		}
	}
	for _, s := range splitList(*targetsF) {
		switch s {
		case targetZooKeeper, targetZK, targetWire, targetProcs:
			p.targets = append(p.targets, s)
		default:
			return p, fmt.Errorf("-targets: unknown target %q", s)
		}
	}
	for _, s := range splitList(*workloadsF) {
		w, ok := workloadByName(s)
		if !ok {
			return p, fmt.Errorf("-workloads: unknown workload %q (have %s)", s, strings.Join(workloadNames(), ", "))
		}
		p.workloads = append(p.workloads, w)
	}
	if len(p.peers) == 0 || len(p.targets) == 0 || len(p.workloads) == 0 {
		return p, fmt.Errorf("nothing to measure")
	}
	return p, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// runRound measures the disk, then every target at every size. Odd rounds
// run the targets in the order given, even rounds in reverse, so that no
// target always runs first (or last) on a machine whose load drifts.
func runRound(p plan, round int, res *results) error {
	dir, err := os.MkdirTemp(p.root, fmt.Sprintf("round%d-", round))
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rate, err := fsyncRate(dir, time.Second, 1)
	if err != nil {
		return err
	}
	rate3, err := fsyncRate(dir, time.Second, 3)
	if err != nil {
		return err
	}
	chain, err := quorumChainRate(dir, time.Second, 3, 2)
	if err != nil {
		return err
	}
	res.fsync, res.fsync3 = append(res.fsync, rate), append(res.fsync3, rate3)
	res.chain = append(res.chain, chain)
	progress("round %d: disk %.0f fsyncs/s, %.0f/s in all with 3 files at once, %.0f commits/s chained on 2 of 3 files",
		round, rate, rate3, chain)
	targets := append([]string(nil), p.targets...)
	if round%2 == 0 {
		for i, j := 0, len(targets)-1; i < j; i, j = i+1, j-1 {
			targets[i], targets[j] = targets[j], targets[i]
		}
	}
	for _, n := range p.peers {
		for _, t := range targets {
			if err := runTarget(dir, t, n, round, p.workloads, res); err != nil {
				return fmt.Errorf("%s, %d peers: %w", t, n, err)
			}
		}
	}
	return nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
