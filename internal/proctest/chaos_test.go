//go:build unix

package proctest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fault is one peer taken down by the chaos loop, until a planned time.
type fault struct {
	kind  string // "kill" or "stop"
	until time.Time
}

// chaos injects faults into a cluster on a seeded schedule: mostly one peer
// down at a time (the two others keep a quorum), sometimes two (no quorum:
// operations must fail or hang, never lie).
type chaos struct {
	c      *cluster
	rng    *rand.Rand
	start  time.Time
	faults map[int64]*fault
	events []string
	counts map[string]int
}

// TestChaos: 3 peer processes over TCP on 127.0.0.1 under load on all
// three; for -proctest.chaos, random peers are SIGKILLed (and restarted
// later) or SIGSTOPped (and SIGCONTed later, sometimes after more than a
// session timeout), now and then two at once. Then everything heals and
// converges, and the history, unknown outcomes resolved from the committed
// log, must be linearizable; the logs and trees identical; every
// acknowledged write committed; sequential nodes unique and increasing.
func TestChaos(t *testing.T) {
	seed := runSeed(t)
	work := baseWork()
	work.Bad = true // bad requests among the good ones
	c := newCluster(t, "chaos", seed, tickTime, work)
	ctx, cancel := context.WithTimeout(context.Background(), *flagChaos+150*time.Second)
	defer cancel()
	c.startAll(ctx)
	c.waitFor(ctx, "a leader", func(s map[int64]*statusReply) bool {
		_, ok := serving(s, peerIDs)
		return ok
	})
	c.load(ctx)

	ch := &chaos{c: c, rng: rand.New(rand.NewPCG(uint64(seed), 0x6368616f73)), start: time.Now(),
		faults: map[int64]*fault{}, counts: map[string]int{}}
	for end := time.Now().Add(*flagChaos); time.Now().Before(end); {
		if err := pause(ctx, ch.between(300, 1000)); err != nil {
			t.Fatalf("chaos loop: %v", err)
		}
		ch.step(ctx)
	}
	schedule := strings.Join(ch.events, "\n")
	os.WriteFile(filepath.Join(c.dir, "schedule.txt"), []byte(schedule+"\n"), 0o644)
	t.Logf("faults over %v: %v", *flagChaos, ch.counts)

	out := c.finish(ctx)
	if out.a.acked < 50 {
		t.Errorf("only %d writes were acknowledged: the run proves little", out.a.acked)
	}
	if t.Failed() {
		t.Logf("fault schedule:\n%s", schedule)
	}
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// between draws a duration in [lo, hi] milliseconds.
func (ch *chaos) between(lo, hi int) time.Duration {
	return time.Duration(lo+ch.rng.IntN(hi-lo+1)) * time.Millisecond
}

func (ch *chaos) logf(format string, args ...any) {
	ch.events = append(ch.events, fmt.Sprintf("%8v ", time.Since(ch.start).Round(time.Millisecond))+fmt.Sprintf(format, args...))
}

// step heals the faults that are due, then maybe injects one.
func (ch *chaos) step(ctx context.Context) {
	now := time.Now()
	for _, id := range peerIDs {
		if f := ch.faults[id]; f != nil && now.After(f.until) {
			ch.heal(ctx, id, f)
		}
	}
	switch len(ch.faults) {
	case 0:
		if ch.rng.IntN(100) < 80 {
			ch.inject(ctx, ch.target(ctx), false)
		}
	case 1:
		if ch.rng.IntN(100) < 15 {
			ch.inject(ctx, ch.target(ctx), true)
		}
	}
}

// target picks the peer to fault: the leader half of the time (when one is
// known), else a random peer that is up.
func (ch *chaos) target(ctx context.Context) int64 {
	up := ch.c.up()
	pick := up[ch.rng.IntN(len(up))]
	if ch.rng.IntN(2) == 0 {
		for _, st := range ch.c.statuses(ctx) {
			if st.Leader != 0 && ch.c.state[st.Leader] == peerUp {
				return st.Leader
			}
		}
	}
	return pick
}

// inject takes peer id down; a second fault (no quorum) is kept short.
func (ch *chaos) inject(ctx context.Context, id int64, second bool) {
	f := &fault{kind: "stop"}
	if ch.rng.IntN(2) == 0 {
		f.kind = "kill"
	}
	var d time.Duration
	switch {
	case second:
		d = ch.between(300, 1000)
		ch.counts["second peer down"]++
	case f.kind == "kill":
		d = ch.between(300, 1500)
	case ch.rng.IntN(4) == 0:
		d = ch.between(1800, 2800) // longer than the session timeout
		ch.counts["long stop"]++
	default:
		d = ch.between(200, 1000)
	}
	f.until = time.Now().Add(d)
	ch.faults[id] = f
	ch.counts[f.kind]++
	ch.logf("%s peer %d for %v", f.kind, id, d)
	if f.kind == "kill" {
		ch.c.kill(id)
	} else {
		ch.c.freeze(id)
	}
}

// heal brings peer id back: SIGCONT, or a restart.
func (ch *chaos) heal(ctx context.Context, id int64, f *fault) {
	delete(ch.faults, id)
	if f.kind == "stop" {
		ch.c.thaw(id)
		ch.logf("cont peer %d", id)
		return
	}
	if err := ch.c.start(ctx, id); err != nil {
		ch.c.t.Fatalf("restarting peer %d: %v", id, err)
	}
	ch.logf("restarted peer %d", id)
}
