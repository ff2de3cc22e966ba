package sim

import (
	"fmt"
	"os"
	"strings"
	"testing"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/zab/transport"
)

// scenario is a world without random faults, driven step by step by a
// test: the regression scenarios and the tests that show each check fails
// when it should.
type scenario struct {
	t *testing.T
	*World
}

func newScenario(t *testing.T, opts Options) *scenario {
	t.Helper()
	opts.NoFaults = true
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if path := os.Getenv("SIM_TRACE"); path != "" { // debugging a scenario
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		opts.Trace = f
	}
	w, err := newWorld(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &scenario{t: t, World: w}
	for i := 0; !w.ready; i++ {
		if i == 400 {
			t.Fatalf("the workload's roots were not created within 400 ticks:\n%s", w.trace.tail())
		}
		w.step(false)
	}
	return s
}

// run runs n ticks, with the random client workload if clients.
func (s *scenario) run(n int, clients bool) {
	for i := 0; i < n && !s.abort; i++ {
		s.step(clients)
	}
}

// until runs ticks (without the random workload) until cond holds.
func (s *scenario) until(what string, max int, cond func() bool) {
	s.t.Helper()
	for i := 0; !cond(); i++ {
		if i == max || s.abort {
			s.t.Fatalf("after %d ticks, still waiting for %s\n%s", i, what, s.trace.tail())
		}
		s.step(false)
	}
}

// leaderPeer waits for a serving leader.
func (s *scenario) leaderPeer() *simPeer {
	s.t.Helper()
	s.until("a leader", 600, func() bool { return s.leader() != nil })
	return s.leader()
}

// follower returns a running voter other than the leader.
func (s *scenario) follower(not ...*simPeer) *simPeer {
	s.t.Helper()
	ld := s.leaderPeer()
	for _, p := range s.live() {
		skip := p == ld || p.observer
		for _, q := range not {
			skip = skip || p == q
		}
		if !skip {
			return p
		}
	}
	s.t.Fatal("no follower")
	return nil
}

// call makes one call of client c and drives the world until it returns.
func (s *scenario) call(c *client, op *opRecord) *opRecord {
	s.t.Helper()
	if op.kind == opNewSession {
		op.c, op.timeout = c, 20*TickTime
		s.launch(op)
	} else {
		c.start(op)
	}
	s.until(fmt.Sprintf("%v to return", op), 600, func() bool { return c.op == nil })
	return op
}

// session opens a session of client c on p.
func (s *scenario) session(c *client, p *simPeer) {
	s.t.Helper()
	s.until(fmt.Sprintf("peer %d to serve", p.id), 600, func() bool {
		st := p.ens.Status()
		return st.Serving
	})
	if op := s.call(c, &opRecord{kind: opNewSession, peer: p}); op.err != nil {
		s.t.Fatalf("session on %d: %v", p.id, op.err)
	}
}

// write makes client c set key to a fresh value (creating it first).
func (s *scenario) write(c *client, key string) *opRecord {
	data := fmt.Sprintf("v%d", s.nextOp)
	if !s.ref.stateAt(key, s.ref.last).exists {
		return s.call(c, &opRecord{kind: opCreate, path: key, data: data, mode: zk.ModePersistent, version: -1})
	}
	return s.call(c, &opRecord{kind: opSet, path: key, data: data, version: -1})
}

// finish ends the scenario like a run: heal, liveness, quiet, end checks.
func (s *scenario) finish() *Result { return s.World.finish() }

// expectFailure runs a scenario once with the sabotage and once without:
// the checks must fail with want in the first case and pass in the second.
// want lists what the failure may say (any one of them).
func expectFailure(t *testing.T, want []string, opts Options, script func(*scenario)) {
	t.Helper()
	broken := opts
	s := newScenario(t, broken)
	script(s)
	res := s.finish()
	err := res.Err()
	found := ""
	for _, w := range want {
		if err != nil && strings.Contains(err.Error(), w) {
			found = firstMatching(err.Error(), w)
			break
		}
	}
	if found == "" {
		t.Errorf("with sabotage %v, broken %b the checks did not report any of %q; they reported: %v\n%s", opts.Sabotage, opts.Broken, want, err, res.Tail)
	} else {
		t.Logf("with sabotage %v, broken %b: %s", opts.Sabotage, opts.Broken, found)
	}
	real := opts
	real.Sabotage, real.Broken = SabotageNone, 0
	s = newScenario(t, real)
	script(s)
	if err := s.finish().Err(); err != nil {
		t.Errorf("the real code failed the same scenario: %v", err)
	}
}

func firstMatching(s, want string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, want) {
			return line
		}
	}
	return s
}

func transportLink(from, to int64) transport.Link { return transport.Link{From: from, To: to} }

// filterFails keeps the failures that contain want.
func filterFails(fails []string, want string) []string {
	var out []string
	for _, f := range fails {
		if strings.Contains(f, want) {
			out = append(out, f)
		}
	}
	return out
}
