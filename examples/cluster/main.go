// Command cluster is the seeds' cluster walk-through (§5.5–5.6, and the
// observer of the 4-server setup) on zk, in one process: three servers
// over TCP on 127.0.0.1, each with its own data directory, started and
// stopped one at a time as zkServer.sh start and stop would, with every
// server's status printed as zkServer.sh status tells it.
//
//	go run ./examples/cluster               # 3 servers
//	go run ./examples/cluster -observer     # 4 servers, server.4 an observer
//	go run ./examples/cluster -quick        # a short TickTime (what CI runs)
//
// The story is the seeds': server.1 alone cannot elect; server.2 joins and
// wins the first election (same zxid, higher id); server.3 finds a leader
// and follows. A write goes through server.1 and is read from server.3.
// Stopping server.3 (a follower) changes nothing; stopping server.1 too
// leaves server.2 without a quorum, and it stops serving: writes and reads
// fail. Starting server.1 again brings the quorum back, server.2 still
// leading. Then server.2, the leader, is stopped: server.1 and server.3
// elect server.3 (same zxid, higher id); server.2, restarted, follows it.
// At the end every acknowledged write is read back from every server.
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
	observer bool
	tick     time.Duration
	timeout  time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var quick bool
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.observer, "observer", false, "add server.4, an observer, as the seeds' 4-server setup")
	fs.DurationVar(&o.tick, "tick", 500*time.Millisecond, "the servers' TickTime")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long")
	fs.BoolVar(&quick, "quick", false, "a short TickTime (what CI runs)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if quick {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "tick" })
		if !set {
			o.tick = 200 * time.Millisecond
		}
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	case o.tick < 10*time.Millisecond || o.tick > 10*time.Second:
		return o, fmt.Errorf("-tick %v: want 10ms to 10s", o.tick)
	case o.timeout <= 0:
		return o, fmt.Errorf("-timeout must be positive")
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	return demo.Main("cluster", args, stderr, parseFlags,
		func(o options) time.Duration { return o.timeout },
		func(ctx context.Context, o options) (bool, error) { return newWalk(o, stdout).run(ctx) })
}
