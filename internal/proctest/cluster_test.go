//go:build unix

package proctest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// peerIDs are the peers of every test: a 3-voter ensemble.
var peerIDs = []int64{1, 2, 3}

// peer states, as the parent sees them.
const (
	peerUp      = "up"
	peerStopped = "stopped" // SIGSTOPped
	peerDown    = "down"    // killed or exited
)

// cluster is three peer processes and what the parent knows of them. It is
// used by the test goroutine only.
type cluster struct {
	t      *testing.T
	name   string
	dir    string
	seed   int64
	bin    string
	tick   time.Duration
	work   workSpec
	secret string
	ports  map[int64]int

	procs   map[int64]*peerProc // the current incarnation; nil when down
	state   map[int64]string
	incs    map[int64]int
	all     []*peerProc // every process started, for the cleanup
	stderrs []*os.File
	loading bool
}

func newCluster(t *testing.T, name string, seed int64, tick time.Duration, work workSpec) *cluster {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "zk-proctest-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{
		t: t, name: name, dir: dir, seed: seed, bin: bin, tick: tick, work: work,
		secret: fmt.Sprintf("proctest-secret-%d", seed),
		procs:  map[int64]*peerProc{}, state: map[int64]string{}, incs: map[int64]int{},
	}
	t.Cleanup(c.cleanup)
	return c
}

// cleanup kills and reaps every process ever started, then removes the run
// directory unless the test failed (or -proctest.keep).
func (c *cluster) cleanup() {
	for _, p := range c.all {
		if !p.done() {
			p.kill()
		}
	}
	for _, p := range c.all {
		if err := p.waitTimeout(20 * time.Second); err != nil {
			c.t.Errorf("cleanup: %v", err)
		}
	}
	for _, f := range c.stderrs {
		f.Close()
	}
	if c.t.Failed() || *flagKeep {
		c.t.Logf("run directory kept: %s", c.dir)
		c.t.Logf("seed %d; replay the schedule with: go test -race -count=1 -run '^%s$' ./internal/proctest -proctest.seed=%d -proctest.chaos=%v",
			c.seed, c.t.Name(), c.seed, *flagChaos)
		return
	}
	os.RemoveAll(c.dir)
}

func (c *cluster) peerDir(id int64) string { return filepath.Join(c.dir, fmt.Sprintf("peer%d", id)) }

// freePorts finds len(peerIDs) free ports on 127.0.0.1 (listen on port 0,
// close, pass on: another process may take one meanwhile; start retries).
func freePorts() (map[int64]int, error) {
	ports := map[int64]int{}
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for _, id := range peerIDs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports[id] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// startAll starts the three peers, with fresh ports if one is taken.
func (c *cluster) startAll(ctx context.Context) {
	c.t.Helper()
	for attempt := 1; ; attempt++ {
		ports, err := freePorts()
		if err != nil {
			c.t.Fatal(err)
		}
		c.ports = ports
		var startErr error
		for _, id := range peerIDs {
			if startErr = c.start(ctx, id); startErr != nil {
				break
			}
		}
		if startErr == nil {
			return
		}
		for _, id := range peerIDs {
			c.kill(id)
		}
		if attempt == 3 || !strings.Contains(startErr.Error(), syscall.EADDRINUSE.Error()) {
			c.t.Fatalf("starting the ensemble: %v", startErr)
		}
		c.t.Logf("a port was taken (%v); retrying with new ports", startErr)
	}
}

// start starts a new incarnation of peer id (its data directory persists).
func (c *cluster) start(ctx context.Context, id int64) error {
	dir := c.peerDir(id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	stderr, err := os.OpenFile(stderrPath(dir), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	c.stderrs = append(c.stderrs, stderr)
	spec := peerSpec{
		ID: id, Ports: c.ports, Dir: dir, TickTime: c.tick, Secret: c.secret,
		Seed: c.seed, Incarnation: c.incs[id], Work: c.work,
	}
	c.incs[id]++
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	p, err := startProc(sctx, c.bin, spec, stderr)
	if err != nil {
		return err
	}
	c.all = append(c.all, p)
	c.procs[id], c.state[id] = p, peerUp
	if c.loading {
		if _, err := p.call(sctx, "load"); err != nil {
			return err
		}
	}
	return nil
}

// kill SIGKILLs peer id and reaps it.
func (c *cluster) kill(id int64) {
	c.t.Helper()
	p := c.procs[id]
	if p == nil {
		return
	}
	p.kill()
	if err := p.waitTimeout(20 * time.Second); err != nil {
		c.t.Fatal(err)
	}
	c.procs[id], c.state[id] = nil, peerDown
}

// freeze SIGSTOPs peer id; thaw SIGCONTs it.
func (c *cluster) freeze(id int64) {
	c.t.Helper()
	if err := c.procs[id].signal(syscall.SIGSTOP); err != nil {
		c.t.Fatalf("SIGSTOP peer %d: %v", id, err)
	}
	c.state[id] = peerStopped
}

func (c *cluster) thaw(id int64) {
	c.t.Helper()
	if err := c.procs[id].signal(syscall.SIGCONT); err != nil {
		c.t.Fatalf("SIGCONT peer %d: %v", id, err)
	}
	c.state[id] = peerUp
}

// up returns the ids of the peers running and not stopped.
func (c *cluster) up() []int64 {
	var ids []int64
	for _, id := range peerIDs {
		if c.state[id] == peerUp {
			ids = append(ids, id)
		}
	}
	return ids
}

// statuses asks every running peer for its status (a peer that does not
// answer within a second is left out).
func (c *cluster) statuses(ctx context.Context) map[int64]*statusReply {
	out := map[int64]*statusReply{}
	for _, id := range c.up() {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		r, err := c.procs[id].call(cctx, "status")
		cancel()
		if err == nil && r.Status != nil {
			out[id] = r.Status
		}
	}
	return out
}

// waitFor polls the statuses every 50ms until cond holds or ctx ends. It
// returns the statuses that satisfied cond.
func (c *cluster) waitFor(ctx context.Context, what string, cond func(map[int64]*statusReply) bool) map[int64]*statusReply {
	c.t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last map[int64]*statusReply
	for {
		last = c.statuses(ctx)
		if cond(last) {
			return last
		}
		select {
		case <-ctx.Done():
			c.t.Fatalf("waiting for %s: %v; last statuses: %s", what, ctx.Err(), describe(last))
		case <-tick.C:
		}
	}
}

func describe(sts map[int64]*statusReply) string {
	var parts []string
	for _, id := range peerIDs {
		if st := sts[id]; st != nil {
			parts = append(parts, fmt.Sprintf("%d:%s leader=%d serving=%v applied=%#x acked=%d err=%q",
				id, st.Mode, st.Leader, st.Serving, st.Applied, st.Acked, st.Err))
		} else {
			parts = append(parts, fmt.Sprintf("%d:-", id))
		}
	}
	return strings.Join(parts, "; ")
}

// serving is the condition "every peer listed in ids answers and serves,
// under one leader"; it returns the leader's id.
func serving(sts map[int64]*statusReply, ids []int64) (int64, bool) {
	var leader int64
	for _, id := range ids {
		st := sts[id]
		if st == nil || !st.Serving || st.Leader == 0 || (leader != 0 && st.Leader != leader) {
			return 0, false
		}
		leader = st.Leader
	}
	return leader, leader != 0
}

// load starts the workload on every running peer, and on every peer
// started from now on.
func (c *cluster) load(ctx context.Context) {
	c.t.Helper()
	c.loading = true
	for _, id := range c.up() {
		if _, err := c.procs[id].call(ctx, "load"); err != nil {
			c.t.Fatal(err)
		}
	}
}

// heal restarts the killed peers and thaws the stopped ones.
func (c *cluster) heal(ctx context.Context) {
	c.t.Helper()
	for _, id := range peerIDs {
		switch c.state[id] {
		case peerStopped:
			c.thaw(id)
		case peerDown:
			if err := c.start(ctx, id); err != nil {
				c.t.Fatal(err)
			}
		}
	}
}

// quiesce stops the workload everywhere (every client's last operation
// completes, bounded by OpTimeout).
func (c *cluster) quiesce(ctx context.Context) {
	c.t.Helper()
	c.loading = false
	for _, id := range c.up() {
		if _, err := c.procs[id].call(ctx, "quiesce"); err != nil {
			c.t.Fatal(err)
		}
	}
}

// stopAll stops every peer cleanly; each must exit with status 0.
func (c *cluster) stopAll(ctx context.Context) {
	c.t.Helper()
	for _, id := range peerIDs {
		p := c.procs[id]
		if _, err := p.call(ctx, "stop"); err != nil {
			c.t.Fatal(err)
		}
		if err := p.wait(ctx); err != nil {
			c.t.Fatal(err)
		}
		if p.waitErr != nil {
			c.t.Errorf("peer %d exited with %v", id, p.waitErr)
		}
		c.procs[id], c.state[id] = nil, peerDown
	}
}

// checkStderr fails the test on a data race, panic or fatal error reported
// by any peer process.
func (c *cluster) checkStderr() {
	c.t.Helper()
	for _, id := range peerIDs {
		b, err := os.ReadFile(stderrPath(c.peerDir(id)))
		if err != nil {
			c.t.Error(err)
			continue
		}
		for _, bad := range []string{"WARNING: DATA RACE", "panic:", "fatal error:"} {
			if i := strings.Index(string(b), bad); i >= 0 {
				c.t.Errorf("peer %d reported %q on stderr:\n%s", id, bad, excerpt(b[i:], 3000))
			}
		}
	}
}

func excerpt(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// opLogs returns the op log of every peer.
func (c *cluster) opLogs() []string {
	var out []string
	for _, id := range peerIDs {
		out = append(out, opLogPath(c.peerDir(id)))
	}
	sort.Strings(out)
	return out
}
