// Command tickets is the seeds' 12306 program on zk: booking agencies
// (携程, 飞猪, 去哪儿 ...) sell a fixed stock of train tickets, each agency a
// program with its own session whose windows (goroutines) share one
// recipes.Mutex, as the seed's threads share one Curator
// InterProcessMutex. Every sale is printed with the fencing token of the
// hold it was made under; at the end the program reads the records back
// from the ensemble and proves that every ticket was sold exactly once and
// none oversold.
//
//	go run ./examples/tickets                           # the embedded default: one standalone peer
//	go run ./examples/tickets -peers 3 -kill-leader     # 3 peers over TCP; the leader crashes mid-sale
//	go run ./examples/tickets -quick                    # fewer, faster sales (what CI runs)
//
// With -kill-leader, once a third of the tickets are sold, the peer that
// leads the ensemble crashes while a window whose session is attached to
// it holds the lock, mid-sale. That window's lease ends at once and it
// stops without writing; the ensemble elects a new leader; the other
// agencies keep their sessions; the lock passes on when the crashed
// agency's session expires; and the stale holder's late write is refused
// by the stock, which keeps the newest fencing token it has seen.
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
	tickets  int
	agencies int
	windows  int
	peers    int
	kill     bool
	quick    bool
	sale     time.Duration
	tick     time.Duration
	session  time.Duration
	timeout  time.Duration
}

var agencyNames = []string{"携程", "飞猪", "去哪儿", "同程", "美团"}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("tickets", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.tickets, "tickets", 30, "tickets in stock")
	fs.IntVar(&o.agencies, "agencies", 3, fmt.Sprintf("booking agencies (1 to %d), each with its own session", len(agencyNames)))
	fs.IntVar(&o.windows, "windows", 2, "windows (goroutines) per agency, sharing its lock")
	fs.IntVar(&o.peers, "peers", 1, "ensemble size: 1 (standalone) or 3 or 5 peers over TCP on 127.0.0.1")
	fs.BoolVar(&o.kill, "kill-leader", false, "crash the ensemble's leader mid-sale (needs -peers 3 or 5)")
	fs.BoolVar(&o.quick, "quick", false, "a short run: 12 tickets, short sales and timeouts")
	fs.DurationVar(&o.sale, "sale", 100*time.Millisecond, "how long a window takes to sell a ticket (the seed's sleep)")
	fs.DurationVar(&o.tick, "tick", 500*time.Millisecond, "the ensemble's TickTime")
	fs.DurationVar(&o.session, "session", 2*time.Second, "the agencies' session timeout")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		defaults := map[string]func(){
			"tickets": func() { o.tickets = 12 }, "sale": func() { o.sale = 10 * time.Millisecond },
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
	case o.tickets < 1 || o.tickets > 9999:
		return o, fmt.Errorf("-tickets %d: want 1 to 9999", o.tickets)
	case o.agencies < 1 || o.agencies > len(agencyNames):
		return o, fmt.Errorf("-agencies %d: want 1 to %d", o.agencies, len(agencyNames))
	case o.windows < 1 || o.windows > 10:
		return o, fmt.Errorf("-windows %d: want 1 to 10", o.windows)
	case o.peers != 1 && o.peers != 3 && o.peers != 5:
		return o, fmt.Errorf("-peers %d: want 1, 3 or 5", o.peers)
	case o.kill && o.peers == 1:
		return o, fmt.Errorf("-kill-leader needs an ensemble: add -peers 3")
	case o.kill && o.agencies < o.peers:
		return o, fmt.Errorf("-kill-leader with %d peers needs an agency on each: -agencies %d", o.peers, o.peers)
	case o.sale < 0 || o.tick <= 0 || o.session <= 0 || o.timeout <= 0:
		return o, fmt.Errorf("-sale, -tick, -session and -timeout must be positive")
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	return demo.Main("tickets", args, stderr, parseFlags,
		func(o options) time.Duration { return o.timeout },
		func(ctx context.Context, o options) (bool, error) { return newTickets(o, stdout).run(ctx) })
}
