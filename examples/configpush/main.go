// Command configpush shows configuration pushed through recipes caches
// (Curator's NodeCache, PathChildrenCache and TreeCache, the seeds'
// §4.8–4.10): one writer updates the nodes under /config/app (db.url,
// pool.size, feature.x); several services each keep a cache of them, in
// one of the three shapes, and print every change as it reaches their
// listener, with its delay since the writer sent it. At the end every
// cache is checked against the history the writer made and the tree the
// ensemble holds.
//
//	go run ./examples/configpush                             # the embedded default: one standalone peer
//	go run ./examples/configpush -peers 3 -kill-leader       # 3 peers over TCP; the leader crashes mid-way
//	go run ./examples/configpush -quick                      # fewer, faster changes (what CI runs)
//
// With -kill-leader, once half of the changes are written, the peer that
// leads the ensemble crashes. One service's session lives on it: its cache
// goes on with a new session on another peer (recipes.WithReconnect); the
// others' caches resume on their own sessions once a new leader serves.
// Either way a cache resumes from the zxid it holds, so no change is missed
// and none is seen twice.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/embedzk/zk/examples/internal/demo"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the program's flags.
type options struct {
	watchers int
	changes  int
	every    time.Duration
	peers    int
	kill     bool
	tick     time.Duration
	timeout  time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var quick bool
	fs := flag.NewFlagSet("configpush", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.watchers, "watchers", 3, fmt.Sprintf("services watching the configuration (1 to %d)", len(serviceNames)))
	fs.IntVar(&o.changes, "changes", 12, "configuration changes the writer makes (1 to 1000)")
	fs.DurationVar(&o.every, "every", 400*time.Millisecond, "time between two changes")
	fs.IntVar(&o.peers, "peers", 1, "ensemble size: 1 (standalone) or 3 or 5 peers over TCP on 127.0.0.1")
	fs.BoolVar(&o.kill, "kill-leader", false, "crash the ensemble's leader half-way (needs -peers 3 or 5)")
	fs.DurationVar(&o.tick, "tick", 500*time.Millisecond, "the ensemble's TickTime")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long")
	fs.BoolVar(&quick, "quick", false, "fewer, faster changes (what CI runs)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		defaults := map[string]func(){
			"changes": func() { o.changes = 6 }, "every": func() { o.every = 10 * time.Millisecond },
			"tick": func() { o.tick = 200 * time.Millisecond },
		}
		for name, f := range defaults {
			if !set[name] {
				f()
			}
		}
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	case o.watchers < 1 || o.watchers > len(serviceNames):
		return o, fmt.Errorf("-watchers %d: want 1 to %d", o.watchers, len(serviceNames))
	case o.changes < 1 || o.changes > 1000:
		return o, fmt.Errorf("-changes %d: want 1 to 1000", o.changes)
	case o.peers != 1 && o.peers != 3 && o.peers != 5:
		return o, fmt.Errorf("-peers %d: want 1, 3 or 5", o.peers)
	case o.kill && o.peers == 1:
		return o, fmt.Errorf("-kill-leader needs an ensemble: -peers 3 or 5")
	case o.every < 0 || o.tick <= 0 || o.timeout <= 0:
		return o, fmt.Errorf("-every must not be negative, -tick and -timeout must be positive")
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	return demo.Main("configpush", args, stderr, parseFlags,
		func(o options) time.Duration { return o.timeout },
		func(ctx context.Context, o options) (bool, error) { return newPush(o, stdout).run(ctx) })
}
