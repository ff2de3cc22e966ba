package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/zab/transport"
)

// roCluster is a 3-peer cluster with read-only mode on, serving, and the
// id of a follower. Sessions last 1000 ticks by default: a session of a
// cut-off peer lives through a test's partition.
func roCluster(t *testing.T, seed uint64) (*cluster, int64, int64) {
	c := newClusterWith(t, 3, 0, seed, transport.NetworkOptions{}, func(cfg *Config) {
		cfg.ReadOnlyMode, cfg.MaxSessionTimeout = true, 200*cfg.TickTime
	})
	c.waitFor("a serving ensemble", 400, c.allServing)
	leader := c.leader()
	return c, leader, c.others(leader)[0]
}

func (c *cluster) set(s *Session, path, data string) {
	c.t.Helper()
	err := c.do(func(ctx context.Context) error {
		_, err := s.Set(ctx, path, []byte(data), -1)
		return err
	})
	if err != nil {
		c.t.Fatalf("set %s: %v", path, err)
	}
}

func wantGet(t *testing.T, s *Session, path, want string) {
	t.Helper()
	got, _, err := s.Get(testCtx(t), path)
	if err != nil || string(got) != want {
		t.Fatalf("get %s on session %#x: %q, %v; want %q", path, s.ID(), got, err, want)
	}
}

// drainStates returns the states queued on s's channel.
func drainStates(s *Session) []SessionState {
	var out []SessionState
	for {
		select {
		case st, ok := <-s.States():
			if !ok {
				return out
			}
			out = append(out, st)
		default:
			return out
		}
	}
}

func wantStates(t *testing.T, s *Session, want ...SessionState) {
	t.Helper()
	got := drainStates(s)
	if len(got) != len(want) {
		t.Fatalf("session %#x went through %v, want %v", s.ID(), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("session %#x went through %v, want %v", s.ID(), got, want)
		}
	}
}

// TestReadOnlyFollower: a follower cut off from the quorum serves reads of
// the state it had to the sessions that allow it, refuses their writes
// with ErrNotReadOnly, opens local sessions; after healing it serves
// normally again and the local session has joined the ensemble.
func TestReadOnlyFollower(t *testing.T) {
	c, leader, f := roCluster(t, 41)
	ls := c.session(leader)
	if err := c.create(ls, "/a"); err != nil {
		t.Fatal(err)
	}
	ro := c.sessionWith(f, WithReadOnly())
	rw := c.sessionWith(f)
	wantGet(t, ro, "/a", "/a")

	c.net.Isolate(f)
	c.waitFor("the follower in read-only mode", 600, func() bool { return c.ens[f].Status().Mode == ModeReadOnly })
	before := c.ens[f].Status()
	c.set(ls, "/a", "newer") // the majority goes on
	wantStates(t, ro, StateDisconnected, StateConnectedReadOnly)
	wantStates(t, rw, StateDisconnected)

	// Reads: the state the follower has, not the majority's newer one.
	wantGet(t, ro, "/a", "/a")
	if _, _, err := rw.Get(testCtx(t), "/a"); !errors.Is(err, ErrNotServing) {
		t.Fatalf("a session without WithReadOnly read on a read-only peer: %v", err)
	}
	// Writes, Sync and Close of a global session: NOTREADONLY.
	ctx := testCtx(t)
	checks := map[string]error{}
	_, checks["create"] = ro.Create(ctx, "/b", nil)
	_, checks["set"] = ro.Set(ctx, "/a", nil, -1)
	checks["delete"] = ro.Delete(ctx, "/a", -1)
	_, checks["multi"] = ro.Multi(ctx, CreateOp("/c", nil))
	_, checks["empty multi"] = ro.Multi(ctx)
	checks["sync"] = ro.Sync(ctx, "/a")
	// The pipelined entry point of the client port too.
	_, checks["pipelined set"] = RemoteSession{Session: ro}.StartSet(ctx, "/a", nil, -1).Wait(ctx)
	_, checks["pipelined multi"] = RemoteSession{Session: ro}.StartMulti(ctx, CreateOp("/c", nil)).Wait(ctx)
	checks["close"] = ro.Close(ctx)
	for op, err := range checks {
		if !errors.Is(err, ErrNotReadOnly) || zkerr.CodeOf(err) != zkerr.CodeNotReadOnly {
			t.Errorf("%s on a read-only peer: %v, want ErrNotReadOnly", op, err)
		}
	}
	// A ctx that ended first: its own error, as everywhere (found by the
	// simulation's bad calls: Sync answered NOTREADONLY).
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := ro.Sync(done, "/a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Sync with an ended ctx on a read-only peer: %v", err)
	}
	if _, err := ro.Create(done, "/b", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Create with an ended ctx on a read-only peer: %v", err)
	}

	// A new session: local to this peer, nothing proposed.
	local := c.sessionWith(f, WithReadOnly())
	if st := local.State(); st != StateConnectedReadOnly {
		t.Fatalf("a session opened on a read-only peer is %v", st)
	}
	wantGet(t, local, "/a", "/a")
	if _, err := local.Create(ctx, "/e", nil, WithMode(ModeEphemeral)); !errors.Is(err, ErrNotReadOnly) {
		t.Fatalf("ephemeral on a read-only peer: %v", err)
	}
	noSessionOn(t, c.ens[leader], local.ID())
	shortCtx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err := c.ens[f].NewSession(shortCtx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a session without WithReadOnly opened on a read-only peer: %v", err)
	}
	after := c.ens[f].Status()
	if after.Applied != before.Applied || after.LastZxid != before.LastZxid {
		t.Fatalf("the read-only peer's state moved: %+v -> %+v", before, after)
	}

	c.net.Heal()
	c.waitFor("the follower serving again", 600, func() bool {
		return c.ens[f].Status().Serving && local.State() == StateConnected
	})
	if st := c.ens[f].Status(); st.Mode != ModeFollowing {
		t.Fatalf("healed follower is %v", st.Mode)
	}
	wantStates(t, ro, StateDisconnected, StateConnected)
	wantStates(t, rw, StateConnected)
	wantStates(t, local, StateDisconnected, StateConnected)
	wantGet(t, ro, "/a", "newer")
	// The local session is now a session of the ensemble, same id.
	if err := c.createEphemeral(local, "/e"); err != nil {
		t.Fatalf("ephemeral of the upgraded session: %v", err)
	}
	c.settle()
	hasSessionOn(t, c.ens[leader], local.ID())
	c.sameTrees()
}

func noSessionOn(t *testing.T, e *Ensemble, id int64) {
	t.Helper()
	if _, ok, err := e.tree.Session(id); ok || err != nil {
		t.Fatalf("session %#x is known to peer %d (%v)", id, e.cfg.ID, err)
	}
}

func hasSessionOn(t *testing.T, e *Ensemble, id int64) {
	t.Helper()
	if _, ok, err := e.tree.Session(id); !ok || err != nil {
		t.Fatalf("session %#x is not known to peer %d (%v)", id, e.cfg.ID, err)
	}
}

// TestReadOnlyEndsBeforeSync: once a cut-off peer finds a leader again, no
// read-only read is served while it syncs: here the leader purged the log
// the follower would need, the follower gets a SNAP (which replaces its
// tree), and a read tried at every persistence step of the sync fails.
func TestReadOnlyEndsBeforeSync(t *testing.T) {
	var ro atomic.Pointer[Session]
	var f atomic.Int64
	var installs, tried atomic.Int32
	var served []string
	var mu sync.Mutex
	probe := func(id int64, point string) error {
		s := ro.Load()
		if s == nil || id != f.Load() || (point != hooks.BeforeAppend && point != hooks.BeforeSnapInstall) {
			return nil
		}
		if point == hooks.BeforeSnapInstall {
			installs.Add(1)
		}
		tried.Add(1)
		// On the peer loop, between persistence steps: no apply lock held.
		if data, _, err := s.Get(context.Background(), "/a"); !errors.Is(err, ErrNotServing) {
			mu.Lock()
			served = append(served, fmt.Sprintf("%s: %q, %v", point, data, err))
			mu.Unlock()
		}
		return nil
	}
	c := newClusterWith(t, 3, 0, 43, transport.NetworkOptions{}, func(cfg *Config) {
		cfg.ReadOnlyMode, cfg.MaxSessionTimeout = true, 200*cfg.TickTime
		cfg.SnapCount, cfg.PurgeInterval = 10, time.Nanosecond
		cfg.TestHooks = &hooks.Hooks{SegmentSize: 4 << 10, Func: probe}
	})
	c.waitFor("a serving ensemble", 400, c.allServing)
	leader := c.leader()
	f.Store(c.others(leader)[0])
	ls := c.session(leader)
	if err := c.create(ls, "/a"); err != nil {
		t.Fatal(err)
	}
	s := c.sessionWith(f.Load(), WithReadOnly())
	c.net.Isolate(f.Load())
	c.waitFor("read-only mode", 600, func() bool { return c.ens[f.Load()].Status().Mode == ModeReadOnly })
	wantGet(t, s, "/a", "/a")
	last := 0
	for ; last < 150; last++ {
		c.set(ls, "/a", fmt.Sprint(last))
	}
	// The purge runs on a goroutine of its own, behind the snapshots: write
	// on until it took the txn after the follower's last from the leader's
	// log, so that the follower needs a SNAP.
	for need := c.ens[f.Load()].Status().LastZxid + 1; c.ens[leader].wal.FirstZxid() <= need; last++ {
		if last == 2000 {
			t.Fatalf("the leader's log still holds %#x", need)
		}
		c.set(ls, "/a", fmt.Sprint(last))
	}
	ro.Store(s)
	c.net.Heal()
	c.waitFor("the follower serving", 600, func() bool { return c.ens[f.Load()].Status().Serving })
	ro.Store(nil)
	if installs.Load() == 0 || tried.Load() == 0 {
		t.Fatalf("the follower synced without a snapshot (%d installs, %d probes)", installs.Load(), tried.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(served) > 0 {
		t.Fatalf("reads served during the sync: %v", served)
	}
	wantGet(t, s, "/a", fmt.Sprint(last-1))
}

// TestReadOnlyNeverOlderThanSeen: a session never reads a tree older than
// it has seen. A peer's tree goes back only when a leader's snapshot
// replaces it, so the test stands in for that by making the session
// remember a newer zxid than the read-only peer holds.
func TestReadOnlyNeverOlderThanSeen(t *testing.T) {
	c, _, f := roCluster(t, 44)
	s := c.sessionWith(f, WithReadOnly())
	c.net.Isolate(f)
	c.waitFor("read-only mode", 600, func() bool { return c.ens[f].Status().Mode == ModeReadOnly })
	wantGet(t, s, "/", "")
	applied, _ := c.ens[f].tree.Applied()
	RemoteSession{Session: s}.NoteSeen(applied + 1)
	if _, _, err := s.Get(testCtx(t), "/"); !errors.Is(err, ErrNotServing) {
		t.Fatalf("a read older than what the session saw: %v", err)
	}
}

// TestReadOnlyLeaderCut: a leader cut off from its followers steps down
// and serves read-only; the others elect a leader and go on; healed, the
// old leader follows and its read-only session reads the new state.
func TestReadOnlyLeaderCut(t *testing.T) {
	c, old, f := roCluster(t, 45)
	s := c.sessionWith(old, WithReadOnly())
	if err := c.create(s, "/a"); err != nil {
		t.Fatal(err)
	}
	c.net.Isolate(old)
	c.waitFor("a new leader and a read-only old one", 800, func() bool {
		return c.ens[old].Status().Mode == ModeReadOnly && c.leader() != 0 && c.leader() != old
	})
	if s.State() != StateConnectedReadOnly {
		t.Fatalf("the old leader's session is %v", s.State())
	}
	c.set(c.sessionWith(f), "/a", "new")
	wantGet(t, s, "/a", "/a")
	if _, err := s.Set(testCtx(t), "/a", []byte("x"), -1); !errors.Is(err, ErrNotReadOnly) {
		t.Fatalf("write on the cut-off old leader: %v", err)
	}
	c.net.Heal()
	c.waitFor("the old leader following", 800, func() bool {
		st := c.ens[old].Status()
		return st.Serving && st.Mode == ModeFollowing && s.State() == StateConnected
	})
	wantGet(t, s, "/a", "new")
	c.sameTrees()
}

// TestReadOnlyOff: without Config.ReadOnlyMode a cut-off peer serves
// nothing, as ZooKeeper without readonlymode.enabled.
func TestReadOnlyOff(t *testing.T) {
	c := newClusterWith(t, 3, 0, 46, transport.NetworkOptions{}, func(cfg *Config) { cfg.MaxSessionTimeout = 200 * cfg.TickTime })
	c.waitFor("a serving ensemble", 400, c.allServing)
	f := c.others(c.leader())[0]
	s := c.sessionWith(f, WithReadOnly())
	c.net.Isolate(f)
	for i := 0; i < 3*int(roGraceTicks(c.ens[f].cfg)); i++ {
		c.tick()
	}
	if st := c.ens[f].Status(); st.Mode != ModeLooking {
		t.Fatalf("cut-off peer without ReadOnlyMode is %v", st.Mode)
	}
	if _, _, err := s.Get(testCtx(t), "/"); !errors.Is(err, ErrNotServing) || s.State() != StateDisconnected {
		t.Fatalf("read on a cut-off peer without ReadOnlyMode: %v (%v)", err, s.State())
	}
}

// TestReadOnlyLocalClose: a local session closed in read-only mode ends
// there; healing commits nothing of it.
func TestReadOnlyLocalClose(t *testing.T) {
	c, leader, f := roCluster(t, 47)
	c.net.Isolate(f)
	c.waitFor("read-only mode", 600, func() bool { return c.ens[f].Status().Mode == ModeReadOnly })
	local := c.sessionWith(f, WithReadOnly())
	w, err := local.AddWatch(testCtx(t), "/", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := local.Close(testCtx(t)); err != nil {
		t.Fatalf("closing a local session: %v", err)
	}
	if st := local.State(); st != StateClosed {
		t.Fatalf("closed local session is %v", st)
	}
	if ev, err := w.Next(testCtx(t)); err != nil || ev.Type != EventNotWatching {
		t.Fatalf("the closed session's watch: %+v, %v", ev, err)
	}
	c.net.Heal()
	c.waitFor("the follower serving", 600, func() bool { return c.ens[f].Status().Serving })
	for i := 0; i < 20; i++ {
		c.tick()
	}
	noSessionOn(t, c.ens[leader], local.ID())
	noSessionOn(t, c.ens[f], local.ID())
}

// TestReadOnlyLocalCloseFreesSlot: closing a local session gives its
// client address's MaxClientCnxns slot back, as any Close.
func TestReadOnlyLocalCloseFreesSlot(t *testing.T) {
	c := newClusterWith(t, 3, 0, 48, transport.NetworkOptions{}, func(cfg *Config) {
		cfg.ReadOnlyMode, cfg.MaxSessionTimeout, cfg.MaxClientCnxns = true, 200*cfg.TickTime, 1
	})
	c.waitFor("a serving ensemble", 400, c.allServing)
	f := c.others(c.leader())[0]
	c.net.Isolate(f)
	c.waitFor("read-only mode", 600, func() bool { return c.ens[f].Status().Mode == ModeReadOnly })
	for i := 0; i < 3; i++ {
		local := c.sessionWith(f, WithReadOnly(), WithClientAddr("10.0.0.7:4000"))
		if err := local.Close(testCtx(t)); err != nil {
			t.Fatalf("closing local session %d: %v", i, err)
		}
	}
}

// TestReadOnlyZooCfg: readonlymode.enabled is read from zoo.cfg.
func TestReadOnlyZooCfg(t *testing.T) {
	cfg, ignored, err := ParseZooCfg(strings.NewReader("dataDir=/d\nreadonlymode.enabled=true\n"), nil)
	if err != nil || !cfg.ReadOnlyMode || len(ignored) != 0 {
		t.Fatalf("ParseZooCfg: %v, ReadOnlyMode %v, ignored %v", err, cfg.ReadOnlyMode, ignored)
	}
	if _, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\nreadonlymode.enabled=yes\n"), nil); err == nil {
		t.Fatal("readonlymode.enabled=yes was accepted")
	}
}
