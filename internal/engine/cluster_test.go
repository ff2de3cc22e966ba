package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/zab/transport"
)

// cluster runs several peers in one process over a manually driven
// in-memory network, with manual clocks: the test decides when frames are
// delivered and when time passes, so nothing depends on real time.
type cluster struct {
	t       *testing.T
	net     *transport.Network
	servers []Server
	fs      map[int64]vfs.FS
	ens     map[int64]*Ensemble // nil while a peer is stopped
	frozen  map[int64]bool      // paused processes: no ticks, no deliveries
	seed    uint64
	tweak   func(*Config) // if set, adjusts every peer's configuration
}

func newCluster(t *testing.T, voters, observers int, seed uint64) *cluster {
	return newClusterWith(t, voters, observers, seed, transport.NetworkOptions{}, nil)
}

// newClusterWith is newCluster on a network with opts (Peers, Manual and
// EventBuffer are set here), every peer's Config adjusted by tweak.
func newClusterWith(t *testing.T, voters, observers int, seed uint64, opts transport.NetworkOptions, tweak func(*Config)) *cluster {
	c := &cluster{t: t, fs: map[int64]vfs.FS{}, ens: map[int64]*Ensemble{}, frozen: map[int64]bool{}, seed: seed, tweak: tweak}
	var ids []int64
	for i := 1; i <= voters+observers; i++ {
		id := int64(i)
		ids = append(ids, id)
		c.servers = append(c.servers, Server{ID: id, Host: "inmem", QuorumPort: 2000 + i, ElectionPort: 3000 + i, Observer: i > voters})
		c.fs[id] = vfs.NewMem()
	}
	opts.Peers, opts.Manual, opts.EventBuffer = ids, true, 1<<16
	c.net = transport.NewNetwork(opts)
	t.Cleanup(c.close)
	for _, id := range ids {
		c.start(id)
	}
	return c
}

func (c *cluster) config(id int64) Config {
	cfg := testConfig(c.fs[id], c.seed*1000+uint64(id))
	cfg.ID = id
	cfg.Servers = c.servers
	if c.tweak != nil {
		c.tweak(&cfg)
	}
	return cfg
}

// start (re)starts peer id on its own disk.
func (c *cluster) start(id int64) {
	c.t.Helper()
	cfg := c.config(id)
	cfg.Transport = c.net.Restart(id)
	e, err := NewEnsemble(cfg)
	if err != nil {
		c.t.Fatalf("starting peer %d: %v", id, err)
	}
	c.ens[id] = e
}

// stop stops peer id cleanly (its disk keeps everything it wrote).
func (c *cluster) stop(id int64) {
	c.t.Helper()
	c.net.Crash(id)
	c.ens[id].Close()
	c.ens[id] = nil
}

func (c *cluster) close() {
	for id, e := range c.ens {
		if e != nil {
			e.Close()
			c.ens[id] = nil
		}
	}
	c.net.Close()
}

func (c *cluster) running() []int64 {
	var ids []int64
	for _, s := range c.servers {
		if c.ens[s.ID] != nil {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// settle delivers frames and lets every peer handle them until nothing moves.
func (c *cluster) settle() {
	c.t.Helper()
	ctx := testCtx(c.t)
	for i := 0; i < 100000; i++ {
		n := c.net.DeliverAll()
		for _, id := range c.running() {
			if err := c.ens[id].Barrier(ctx); err != nil {
				c.t.Fatalf("barrier on %d: %v", id, err)
			}
		}
		if n == 0 && len(c.net.Pending()) == 0 {
			return
		}
	}
	c.t.Fatal("the cluster never settled")
}

// tick advances every running peer's clock by one tick, then settles.
func (c *cluster) tick() {
	c.t.Helper()
	ctx := testCtx(c.t)
	for _, id := range c.running() {
		if c.frozen[id] {
			continue
		}
		if err := c.ens[id].Tick(ctx); err != nil {
			c.t.Fatalf("tick on %d: %v", id, err)
		}
	}
	c.settle()
}

// freeze stops time and the network for peer id, as SIGSTOP would; its
// loop still takes client calls (a process resumed just now).
func (c *cluster) freeze(id int64) {
	c.frozen[id] = true
	c.net.Pause(id)
}

func (c *cluster) thaw(id int64) {
	delete(c.frozen, id)
	c.net.Resume(id)
}

// waitFor ticks until cond holds, failing after maxTicks.
func (c *cluster) waitFor(what string, maxTicks int, cond func() bool) {
	c.t.Helper()
	c.settle()
	for i := 0; !cond(); i++ {
		if i == maxTicks {
			c.t.Fatalf("after %d ticks: still waiting for %s; status %s", maxTicks, what, c.describe())
		}
		c.tick()
	}
}

func (c *cluster) describe() string {
	s := ""
	for _, id := range c.running() {
		st := c.ens[id].Status()
		s += fmt.Sprintf(" [%d %v leader=%d epoch=%d serving=%v last=%#x applied=%#x]", id, st.Mode, st.Leader, st.Epoch, st.Serving, st.LastZxid, st.Applied)
	}
	return s
}

// leader returns the serving leader, or 0.
func (c *cluster) leader() int64 {
	for _, id := range c.running() {
		if st := c.ens[id].Status(); st.Mode == ModeLeading && st.Serving {
			return id
		}
	}
	return 0
}

func (c *cluster) allServing() bool {
	for _, id := range c.running() {
		if !c.ens[id].Status().Serving {
			return false
		}
	}
	return c.leader() != 0
}

// do runs fn (a blocking client call) while driving the cluster, and
// returns its error. Time advances only while fn waits on the cluster.
func (c *cluster) do(fn func(ctx context.Context) error) error {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	for i := 0; ; i++ {
		select {
		case err := <-done:
			return err
		default:
		}
		c.settle()
		if i%64 == 63 {
			c.tick()
		}
		runtime.Gosched()
	}
}

func (c *cluster) session(id int64) *Session {
	c.t.Helper()
	var s *Session
	err := c.do(func(ctx context.Context) (err error) {
		s, err = c.ens[id].NewSession(ctx)
		return err
	})
	if err != nil {
		c.t.Fatalf("session on %d: %v", id, err)
	}
	return s
}

func (c *cluster) create(s *Session, path string) error {
	return c.do(func(ctx context.Context) error {
		_, err := s.Create(ctx, path, []byte(path))
		return err
	})
}

// sameTrees checks every running peer holds the same tree.
func (c *cluster) sameTrees() {
	c.t.Helper()
	c.settle()
	var first string
	var firstID int64
	for _, id := range c.running() {
		d := dumpTree(c.t, c.ens[id])
		if first == "" {
			first, firstID = d, id
			continue
		}
		if d != first {
			c.t.Fatalf("peers %d and %d differ:\n%s\nvs\n%s", firstID, id, first, d)
		}
	}
}

func (c *cluster) syncLimitTicks() int { return DefaultSyncLimit * TicksPerTickTime }

// others returns the running peers other than id.
func (c *cluster) others(id int64) []int64 {
	return slices.DeleteFunc(c.running(), func(x int64) bool { return x == id })
}

// TestClusterWalkthrough3 is the walk-through ZooKeeper users know, on 3
// peers.
func TestClusterWalkthrough3(t *testing.T) {
	c := newCluster(t, 3, 0, 1)
	c.waitFor("a serving ensemble", 400, c.allServing)
	walkthrough(t, c, 3)
}

// TestClusterWalkthrough5Observer is the same on 5 voters and an observer.
func TestClusterWalkthrough5Observer(t *testing.T) {
	c := newCluster(t, 5, 1, 2)
	c.waitFor("a serving ensemble", 400, c.allServing)
	if st := c.ens[6].Status(); st.Mode != ModeObserving {
		t.Fatalf("peer 6 is %v, want observing", st.Mode)
	}
	walkthrough(t, c, 5)
}

func walkthrough(t *testing.T, c *cluster, voters int) {
	leader := c.leader()
	followers := slices.DeleteFunc(c.others(leader), func(id int64) bool { return c.servers[id-1].Observer })
	ls := c.session(leader)
	fs := c.session(followers[0])
	n := 0
	write := func(s *Session) error {
		n++
		return c.create(s, fmt.Sprintf("/w%03d", n))
	}
	if err := write(fs); err != nil {
		t.Fatalf("write through a follower: %v", err)
	}
	// Stop followers while a quorum remains: writes still commit.
	minority := voters - (voters/2 + 1)
	stopped := followers[len(followers)-minority:]
	for _, f := range stopped {
		c.stop(f)
		if err := write(ls); err != nil {
			t.Fatalf("write with %d stopped: %v", f, err)
		}
	}
	// One more: the leader loses its quorum and stops serving.
	lost := followers[len(followers)-minority-1]
	c.stop(lost)
	c.waitFor("the leader to stop serving", c.syncLimitTicks()+20, func() bool { return !c.ens[leader].Status().Serving })
	if err := write(ls); err == nil {
		t.Fatal("a write committed without a quorum")
	}
	// Start one again: service returns.
	c.start(lost)
	c.waitFor("service to return", 400, c.allServing)
	leader = c.leader()
	s := c.session(leader)
	if err := write(s); err != nil {
		t.Fatalf("write after service returned: %v", err)
	}
	// Start the rest, then stop the leader: the others elect a new one.
	for _, f := range stopped {
		c.start(f)
	}
	c.waitFor("all peers serving", 400, c.allServing)
	old := leader
	c.stop(old)
	c.waitFor("a new leader", 400, func() bool { return c.leader() != 0 && c.leader() != old })
	leader = c.leader()
	if err := write(c.session(c.others(leader)[0])); err != nil {
		t.Fatalf("write under the new leader: %v", err)
	}
	// The old leader comes back as a follower; the leader does not change.
	c.start(old)
	c.waitFor("the old leader to follow", 400, func() bool {
		st := c.ens[old].Status()
		return st.Serving && st.Mode == ModeFollowing
	})
	if c.leader() != leader {
		t.Fatalf("the leader changed from %d to %d when the old leader came back", leader, c.leader())
	}
	if err := write(c.session(old)); err != nil {
		t.Fatalf("write through the returned peer: %v", err)
	}
	c.sameTrees()
	for i := 1; i <= n; i++ {
		if i == 2+minority { // the write refused without a quorum
			continue
		}
		for _, id := range c.running() {
			if _, err := c.ens[id].tree.Stat(fmt.Sprintf("/w%03d", i)); err != nil {
				t.Fatalf("acknowledged write /w%03d missing on %d: %v", i, id, err)
			}
		}
	}
}

// TestSessionsSurviveLeaderChange: a session attached to a follower keeps
// its ephemeral across a leader change (the new leader restarts its
// timeout), and re-attaching it on a lagging peer never goes back in time.
func TestSessionsSurviveLeaderChange(t *testing.T) {
	c := newCluster(t, 3, 0, 3)
	c.waitFor("a serving ensemble", 400, c.allServing)
	leader := c.leader()
	f := c.others(leader)
	s := c.session(f[0])
	if err := c.do(func(ctx context.Context) error {
		_, err := s.Create(ctx, "/eph", nil, WithMode(ModeEphemeral))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	c.stop(leader)
	c.waitFor("a new leader", 400, func() bool { return c.leader() != 0 })
	// Several session timeouts pass: the follower keeps its session alive.
	for i := 0; i < 3*int(s.Timeout()/(100*time.Millisecond))*TicksPerTickTime/10; i++ {
		c.tick()
	}
	if s.State() != StateConnected {
		t.Fatalf("session state %v after the leader change", s.State())
	}
	// A lagging peer: with all three up, cut f[1] off, write, heal, and
	// re-attach there at once.
	c.start(leader)
	c.waitFor("all serving", 400, c.allServing)
	var lag int64
	for _, id := range c.others(c.leader()) {
		if id != f[0] {
			lag = id
		}
	}
	c.net.Isolate(lag)
	if err := c.do(func(ctx context.Context) error { _, err := s.Set(ctx, "/eph", []byte("new"), -1); return err }); err != nil {
		t.Fatal(err)
	}
	c.net.Heal()
	var moved *Session
	if err := c.do(func(ctx context.Context) (err error) {
		for {
			moved, err = c.ens[lag].Reattach(ctx, s.ID(), s.Password())
			if !errors.Is(err, ErrNotServing) || ctx.Err() != nil {
				return err
			}
			// The healed peer went back to its leader and may leave it
			// once more before it settles: c.do ticks faster than the
			// network delivers, so its initLimit can pass while the
			// leader's answer is on its way, and the leader may answer
			// the peer's earlier attempt (a LEADERINFO it takes for a
			// protocol violation). Its Sync then fails with
			// ErrNotServing, on which a client re-attaches, as here.
		}
	}); err != nil {
		t.Fatal(err)
	}
	var data []byte
	if err := c.do(func(ctx context.Context) (err error) {
		data, _, err = moved.Get(ctx, "/eph")
		return err
	}); err != nil || string(data) != "new" {
		t.Fatalf("after re-attaching on a lagging peer: %q %v", data, err)
	}
}

// TestStaleLeaderNeverAnswersFromStaleState: a leader frozen while the
// others elect a new leader and change the tree must not answer a failed
// write (here NodeExists) from its stale tree when it resumes: failures are
// ordered by a quorum like writes. (Found by the real-process chaos test.)
func TestStaleLeaderNeverAnswersFromStaleState(t *testing.T) {
	c := newCluster(t, 3, 0, 4)
	c.waitFor("a serving ensemble", 400, c.allServing)
	old := c.leader()
	stale := c.session(old)
	if err := c.create(stale, "/k"); err != nil {
		t.Fatal(err)
	}
	c.freeze(old)
	c.waitFor("a new leader", 400, func() bool { return c.leader() != 0 && c.leader() != old })
	fresh := c.session(c.leader())
	if err := c.do(func(ctx context.Context) error { return fresh.Delete(ctx, "/k", -1) }); err != nil {
		t.Fatal(err)
	}
	// The old leader still believes it leads; its tree still has /k.
	if st := c.ens[old].Status(); st.Mode != ModeLeading || !st.Serving {
		t.Fatalf("the frozen leader should not know yet: %+v", st)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := stale.Create(ctx, "/k", nil)
		done <- err
	}()
	// Only the stale leader's clock runs: it must give up, not answer.
	for i := 0; ; i++ {
		select {
		case err := <-done:
			if errors.Is(err, ErrNodeExists) || err == nil {
				t.Fatalf("the deposed leader answered from its stale state: %v", err)
			}
			if !errors.Is(err, ErrConnectionLoss) {
				t.Fatalf("want a connection-loss class error, got %v", err)
			}
			return
		default:
		}
		if i > 10000 {
			t.Fatal("the deposed leader never gave up")
		}
		if err := c.ens[old].Tick(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		runtime.Gosched()
	}
}
