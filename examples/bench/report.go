package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strings"
)

// runTarget starts target with n peers, runs the workloads on it, stops it,
// then runs the memory workload (which starts servers of its own).
func runTarget(dir, target string, n, round int, wls []workload, res *results) error {
	var shared, own []workload
	for _, w := range wls {
		if w.rss != nil {
			own = append(own, w)
		} else {
			shared = append(shared, w)
		}
	}
	if n > 1 && inProcess(target) && *zkProcs > 0 {
		// Several peers share this process's Ps: a peer blocked in its
		// log fsync holds a P until the runtime's monitor takes it back,
		// and the other peers' network readers wait for one
		// (examples/bench/PROFILE.md, "Where a hand-off's time goes").
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*zkProcs))
	}
	if len(shared) > 0 {
		sys, err := startSystem(dir, target, n)
		if err != nil {
			return err
		}
		defer sys.close()
		if n > 1 {
			progress("round %d: %s, %d peers: peer %d leads", round, target, n, sys.leader()+1)
		}
		if err := warm(sys); err != nil {
			return fmt.Errorf("warming up: %w", err)
		}
		for _, w := range shared {
			win := profiled(fmt.Sprintf("%s-%d-%s-r%d", target, n, w.name, round), inProcess(target))
			zs, traced := sys.(*zkSystem)
			traced = traced && zs.rec != nil
			if traced {
				zs.rec.take()
			}
			vals, err := w.run(context.Background(), sys, win)
			if err != nil {
				return fmt.Errorf("%s: %w", w.name, err)
			}
			if traced {
				zs.printTrace(os.Stdout, w.name, round)
			}
			res.add(round, n, target, w, vals)
		}
	}
	for _, w := range own {
		vals, err := w.rss(dir, target, n)
		if err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
		res.add(round, n, target, w, vals)
	}
	return nil
}

// profiled returns the window of one measurement: with -cpuprofile or
// -memprofile (and on a zk target), it writes the profiles named by name.
func profiled(name string, zk bool) window {
	return func(f func() (float64, error)) (float64, error) {
		if !zk || (*cpuProfile == "" && *memProfile == "" && *runtimeTrace == "") {
			return f()
		}
		if *runtimeTrace != "" {
			out, err := os.Create(*runtimeTrace + "." + name)
			if err != nil {
				return 0, err
			}
			defer out.Close()
			if err := trace.Start(out); err != nil {
				return 0, err
			}
			defer trace.Stop()
		}
		if *memProfile != "" {
			if err := writeHeap(*memProfile + "." + name + ".before"); err != nil {
				return 0, err
			}
		}
		if *cpuProfile != "" {
			out, err := os.Create(*cpuProfile + "." + name)
			if err != nil {
				return 0, err
			}
			defer out.Close()
			if err := pprof.StartCPUProfile(out); err != nil {
				return 0, err
			}
		}
		var v float64
		var err error
		pprof.Do(context.Background(), pprof.Labels("client", "1"), func(context.Context) { v, err = f() })
		if *cpuProfile != "" {
			pprof.StopCPUProfile()
		}
		if err == nil && *memProfile != "" {
			err = writeHeap(*memProfile + "." + name + ".after")
		}
		return v, err
	}
}

func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}

// results holds every round's figures.
type results struct {
	fsync  []float64
	fsync3 []float64            // the total rate of three files synced at once
	chain  []float64            // commits/s chained on two of three files (quorumChainRate)
	values map[string][]float64 // key: peers/target/row
	rows   []row                // in workload order
	seen   map[string]bool
}

func newResults() *results {
	return &results{values: map[string][]float64{}, seen: map[string]bool{}}
}

func key(peers int, target, row string) string { return fmt.Sprintf("%d/%s/%s", peers, target, row) }

func (r *results) add(round, peers int, target string, w workload, vals []float64) {
	for i, v := range vals {
		rw := w.rows[i]
		if !r.seen[rw.name] {
			r.seen[rw.name] = true
			r.rows = append(r.rows, rw)
		}
		k := key(peers, target, rw.name)
		r.values[k] = append(r.values[k], v)
		progress("round %d: %-9s %d peer(s)  %-12s %10.2f %s", round, target, peers, rw.name, v, rw.unit)
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// print writes one markdown table per ensemble size: medians, and zk's
// figures as ratios of ZooKeeper's.
func (r *results) print(w io.Writer, p plan) {
	fs := median(r.fsync)
	fmt.Fprintf(w, "\ndisk: %.0f fsyncs/s (median of %d rounds: %s; %d-byte write + fsync, the file zero-filled ahead as zk's log)\n",
		fs, len(r.fsync), list(r.fsync, "%.0f"), *valueLen)
	if fs3 := median(r.fsync3); fs3 > 0 {
		fmt.Fprintf(w, "disk, three files synced at once (as three peers in one process on one disk): %.0f fsyncs/s in all (median of %s), %.0f each\n",
			fs3, list(r.fsync3, "%.0f"), fs3/3)
	}
	if c := median(r.chain); c > 0 && fs > 0 {
		fmt.Fprintf(w, "disk, commits chained on two of three files (each record durable in two of the three before the next is written; nothing else in between): %.0f commits/s (median of %s), %.2fx the single-file rate\n",
			c, list(r.chain, "%.0f"), c/fs)
		fmt.Fprintf(w, "  with 3 peers on this disk, create-1 can reach at most %.2fx the fsync rate and 8 contending one lock at most %.0f cycles/s (a hand-off is a commit the next one waits for); a watched set waits at least %.2f ms\n",
			c/fs, c, 1000/c)
	}
	fmt.Fprintf(w, "values: %d bytes; RSS: %d nodes; median of %d rounds of %s per measurement; each ensemble warmed by at least %s and %d writes from 64 sessions\n",
		*valueLen, *rssNodes, *rounds, *duration, *warmup, *warmupOps)
	for _, n := range p.peers {
		fmt.Fprintf(w, "\n### %d peer(s)\n\n", n)
		head := "| workload |"
		sep := "|---|"
		for _, t := range p.targets {
			head += " " + t + " |"
			sep += "---|"
		}
		for _, t := range p.targets {
			if t != targetZooKeeper && has(p.targets, targetZooKeeper) {
				head += " " + t + " ÷ zookeeper |"
				sep += "---|"
			}
		}
		head += " goal (3 peers) |"
		sep += "---|"
		fmt.Fprintln(w, head)
		fmt.Fprintln(w, sep)
		for _, rw := range r.rows {
			fmt.Fprintln(w, r.line(n, rw, p.targets))
		}
		if v := r.values[key(n, targetZK, "create-1")]; len(v) > 0 && fs > 0 {
			fmt.Fprintf(w, "\nzk create, 1 session: %.2fx the fsync rate", median(v)/fs)
			if z := r.values[key(n, targetZooKeeper, "create-1")]; len(z) > 0 {
				fmt.Fprintf(w, " (ZooKeeper: %.2fx)", median(z)/fs)
			}
			fmt.Fprintln(w)
		}
		if n == 3 {
			r.printDiskBounds(w)
		}
	}
}

// printDiskBounds sets the three goals whose every write waits for the one
// before it against what the disk alone allows (quorumChainRate): no
// system of three peers on this disk does better than the chain, with no
// network, encoding or apply at all.
func (r *results) printDiskBounds(w io.Writer) {
	fs, c := median(r.fsync), median(r.chain)
	if fs <= 0 || c <= 0 {
		return
	}
	fmt.Fprintf(w, "\nGoals against the disk alone (%.0f commits/s chained on two of three files, %.0f fsyncs/s):\n", c, fs)
	fmt.Fprintf(w, "- create-1 ≥ 0.7x the fsync rate: the disk allows %.2fx (%s)\n", c/fs, reachable(c/fs >= 0.7))
	if z := median(r.values[key(3, targetZooKeeper, "lock-shared")]); z > 0 {
		goal := max(10*z, 3200)
		fmt.Fprintf(w, "- one lock ≥ 10x ZooKeeper and ≥ 3,200 cycles/s (%.0f/s): the disk allows %.0f hand-offs/s (%s)\n", goal, c, reachable(c >= goal))
	}
	if z := median(r.values[key(3, targetZooKeeper, "watch-p50")]); z > 0 {
		fmt.Fprintf(w, "- watch p50 ≤ 0.2x ZooKeeper (%.2f ms): a commit takes the disk %.2f ms (%s)\n", 0.2*z, 1000/c, reachable(1000/c <= 0.2*z))
	}
}

func reachable(ok bool) string {
	if ok {
		return "reachable only if nothing else took any time"
	}
	return "out of reach on this disk"
}

func (r *results) line(n int, rw row, targets []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s (%s) |", rw.label, rw.unit)
	for _, t := range targets {
		v := r.values[key(n, t, rw.name)]
		if len(v) == 0 {
			b.WriteString(" – |")
			continue
		}
		fmt.Fprintf(&b, " %s |", format(median(v)))
	}
	base := median(r.values[key(n, targetZooKeeper, rw.name)])
	for _, t := range targets {
		if t == targetZooKeeper || !has(targets, targetZooKeeper) {
			continue
		}
		v := r.values[key(n, t, rw.name)]
		if len(v) == 0 || base == 0 {
			b.WriteString(" – |")
			continue
		}
		fmt.Fprintf(&b, " %.2fx |", median(v)/base)
	}
	fmt.Fprintf(&b, " %s |", rw.goal)
	return b.String()
}

func format(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func list(v []float64, f string) string {
	var s []string
	for _, x := range v {
		s = append(s, fmt.Sprintf(f, x))
	}
	return strings.Join(s, ", ")
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
