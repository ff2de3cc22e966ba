// Command election shows leader election with recipes.LeaderSelector
// (Curator's LeaderSelector): workers compete to run a scheduler; the
// leader runs jobs until it is killed; the next in line takes over. Each
// term is printed with its fencing token (the zxid that created the
// leader's node: strictly increasing from term to term), when it started,
// how long it lasted and how it ended; at the end the jobs' records are
// read back from the ensemble to show that the terms never overlapped.
//
//	go run ./examples/election                  # the embedded default: one standalone peer
//	go run ./examples/election -peers 3         # 3 peers over TCP; one kill crashes a peer
//	go run ./examples/election -quick           # short terms (what CI runs)
//
// The leader is killed in turn by: kill -9 (its process stops; its
// session expires: the demo expires it at once, as Curator's KillSession
// does, standing for the session timeout that would pass first), quit (its
// process exits and closes its session: the hand-off is immediate) and,
// with -peers 3, the crash of the peer its session is attached to (the
// worker sees its leadership end at once; the next leader takes over when
// the unreachable session expires). A killed worker is restarted by its
// supervisor and joins the queue again.
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
	workers int
	terms   int
	jobs    int
	job     time.Duration
	peers   int
	tick    time.Duration
	session time.Duration
	timeout time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var quick bool
	fs := flag.NewFlagSet("election", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.workers, "workers", 3, "workers competing for leadership (2 to 26)")
	fs.IntVar(&o.terms, "terms", 4, "terms of leadership to show (each but the last ends by a kill)")
	fs.IntVar(&o.jobs, "jobs", 5, "jobs a leader runs before it is killed")
	fs.DurationVar(&o.job, "job", 200*time.Millisecond, "how long a job takes")
	fs.IntVar(&o.peers, "peers", 1, "ensemble size: 1 (standalone) or 3 or 5 peers over TCP on 127.0.0.1")
	fs.DurationVar(&o.tick, "tick", 500*time.Millisecond, "the ensemble's TickTime")
	fs.DurationVar(&o.session, "session", 2*time.Second, "the workers' session timeout")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long")
	fs.BoolVar(&quick, "quick", false, "short terms and timeouts (what CI runs)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		defaults := map[string]func(){
			"jobs": func() { o.jobs = 3 }, "job": func() { o.job = 20 * time.Millisecond },
			"tick": func() { o.tick = 300 * time.Millisecond }, "session": func() { o.session = 1500 * time.Millisecond },
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
	case o.workers < 2 || o.workers > 26:
		return o, fmt.Errorf("-workers %d: want 2 to 26", o.workers)
	case o.terms < 1 || o.terms > 100:
		return o, fmt.Errorf("-terms %d: want 1 to 100", o.terms)
	case o.jobs < 1:
		return o, fmt.Errorf("-jobs %d: want at least 1", o.jobs)
	case o.peers != 1 && o.peers != 3 && o.peers != 5:
		return o, fmt.Errorf("-peers %d: want 1, 3 or 5", o.peers)
	case o.job < 0 || o.tick <= 0 || o.session <= 0 || o.timeout <= 0:
		return o, fmt.Errorf("-job, -tick, -session and -timeout must be positive")
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	return demo.Main("election", args, stderr, parseFlags,
		func(o options) time.Duration { return o.timeout },
		func(ctx context.Context, o options) (bool, error) { return newElection(o, stdout).run(ctx) })
}
