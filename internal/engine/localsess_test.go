package engine

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/zab/transport"
	"github.com/embedzk/zk/znode"
)

// localCluster is a 3-peer cluster with Config.LocalSessions (and
// LocalSessionsUpgrading if upgrading), serving, with its leader and a
// follower. Sessions may last from 2 to 40 TickTimes. more, if given,
// adjusts every peer's configuration further.
func localCluster(t *testing.T, seed uint64, upgrading bool, more ...func(*Config)) (*cluster, int64, int64) {
	c := newClusterWith(t, 3, 0, seed, transport.NetworkOptions{}, func(cfg *Config) {
		cfg.LocalSessions, cfg.LocalSessionsUpgrading = true, upgrading
		cfg.MinSessionTimeout, cfg.MaxSessionTimeout = 2*cfg.TickTime, 40*cfg.TickTime
		for _, f := range more {
			f(cfg)
		}
	})
	c.waitFor("a serving ensemble", 400, c.allServing)
	leader := c.leader()
	return c, leader, c.others(leader)[0]
}

// lastZxids returns every running peer's last logged zxid.
func (c *cluster) lastZxids() map[int64]int64 {
	c.settle()
	out := map[int64]int64{}
	for _, id := range c.running() {
		out[id] = c.ens[id].Status().LastZxid
	}
	return out
}

// createEphemeral creates an ephemeral node of s at path.
func (c *cluster) createEphemeral(s *Session, path string) error {
	return c.do(func(ctx context.Context) error {
		_, err := s.Create(ctx, path, nil, WithMode(ModeEphemeral))
		return err
	})
}

func (c *cluster) wantNothingLogged(what string, before map[int64]int64) {
	c.t.Helper()
	for id, z := range c.lastZxids() {
		if z != before[id] {
			c.t.Fatalf("%s logged something on peer %d: %#x -> %#x", what, id, before[id], z)
		}
	}
}

// TestLocalSessionUpgrades: a local session is opened, read, watched,
// written and closed without a transaction of its own; an ephemeral create
// makes it a session of the ensemble (same id), which then moves to
// another peer; a local session moved to another peer has expired.
func TestLocalSessionUpgrades(t *testing.T) {
	c, leader, f := localCluster(t, 61, true)
	before := c.lastZxids()
	s := c.session(f)
	moved := c.session(f)
	c.wantNothingLogged("opening local sessions", before)
	for _, id := range c.running() {
		noSessionOn(t, c.ens[id], s.ID())
	}
	if n := RemoteOf(c.ens[f]).LocalSessions(); n != 2 {
		t.Fatalf("peer %d counts %d local sessions, want 2", f, n)
	}

	// Reads, watches and writes other than ephemeral creates.
	if err := c.create(s, "/a"); err != nil {
		t.Fatalf("create of a local session: %v", err)
	}
	_, _, ev, err := s.GetW(testCtx(t), "/a")
	if err != nil {
		t.Fatal(err)
	}
	c.set(s, "/a", "x")
	if e := <-ev; e.Path != "/a" {
		t.Fatalf("watch of a local session: %+v", e)
	}
	wantGet(t, s, "/a", "x")
	if s.lc.on.Load() != true {
		t.Fatal("a persistent create upgraded the session")
	}

	// A local session moved to another peer has expired there.
	if err := c.do(func(ctx context.Context) error {
		_, err := c.ens[leader].Reattach(ctx, moved.ID(), moved.Password())
		return err
	}); !errors.Is(err, zkerr.ErrSessionExpired) {
		t.Fatalf("a local session reattached on another peer: %v, want ErrSessionExpired", err)
	}

	// An ephemeral create upgrades it: the ensemble knows it from then on.
	if err := c.createEphemeral(s, "/e"); err != nil {
		t.Fatalf("ephemeral create of a local session: %v", err)
	}
	c.settle()
	for _, id := range c.running() {
		hasSessionOn(t, c.ens[id], s.ID())
	}
	if s.lc.on.Load() {
		t.Fatal("the session is still local after its upgrade")
	}
	if _, st, err := s.Get(testCtx(t), "/e"); err != nil || st.EphemeralOwner != s.ID() {
		t.Fatalf("/e: owner %#x, %v; want %#x", st.EphemeralOwner, err, s.ID())
	}
	// Upgraded, it moves to another peer as any session.
	var there *Session
	if err := c.do(func(ctx context.Context) (err error) {
		there, err = c.ens[leader].Reattach(ctx, s.ID(), s.Password())
		return err
	}); err != nil {
		t.Fatalf("the upgraded session reattached on the leader: %v", err)
	}
	// Closing it is a transaction; closing a local one is not.
	before = c.lastZxids()
	if err := c.do(moved.Close); err != nil || moved.State() != StateClosed {
		t.Fatalf("close of a local session: %v, %v", err, moved.State())
	}
	c.wantNothingLogged("closing a local session", before)
	if n := RemoteOf(c.ens[f]).LocalSessions(); n != 0 {
		t.Fatalf("peer %d counts %d local sessions, want 0", f, n)
	}
	if err := c.do(there.Close); err != nil {
		t.Fatal(err)
	}
	c.settle()
	noSessionOn(t, c.ens[leader], s.ID())
	c.sameTrees()
}

// TestLocalSessionNoUpgrade: without upgrading, an ephemeral create of a
// local session fails with EPHEMERALONLOCALSESSION, proposing nothing; a
// multi with one fails at that op, with EPHEMERALONLOCALSESSION on the
// leader and SESSIONEXPIRED (the leader's answer) on a follower, as in
// ZooKeeper; a container create is no ephemeral create.
func TestLocalSessionNoUpgrade(t *testing.T) {
	c, leader, f := localCluster(t, 62, false)
	for _, id := range []int64{f, leader} {
		s := c.session(id)
		before := c.lastZxids()
		_, err := s.Create(testCtx(t), "/e", nil, WithMode(ModeEphemeralSequential))
		if !errors.Is(err, ErrEphemeralOnLocalSession) || zkerr.CodeOf(err) != -120 {
			t.Fatalf("ephemeral create of a local session on %d: %v", id, err)
		}
		c.wantNothingLogged("a refused ephemeral create", before)
		var res []OpResult
		err = c.do(func(ctx context.Context) (err error) {
			res, err = s.Multi(ctx, CreateOp("/p", nil), CreateOp("/q", nil, WithMode(ModeEphemeral)), CreateOp("/r", nil))
			return err
		})
		want := zkerr.ErrSessionExpired
		if id == leader {
			want = ErrEphemeralOnLocalSession
		}
		if !errors.Is(err, want) || len(res) != 3 || res[0].Err != nil ||
			!errors.Is(res[1].Err, want) || !errors.Is(res[2].Err, zkerr.ErrRuntimeInconsistency) {
			t.Fatalf("multi with an ephemeral create of a local session on %d: %+v, %v; want %v", id, res, err, want)
		}
		if st := s.State(); st != StateConnected {
			t.Fatalf("the session on %d is %v after its refused multi", id, st)
		}
		if err := c.do(func(ctx context.Context) error {
			_, err := s.Create(ctx, "/c", nil, WithMode(ModeContainer))
			if err == nil {
				err = s.Delete(ctx, "/c", -1)
			}
			return err
		}); err != nil {
			t.Fatalf("container create of a local session on %d: %v", id, err)
		}
		if !s.lc.on.Load() {
			t.Fatalf("session on %d upgraded without upgrading", id)
		}
		noSessionOn(t, c.ens[leader], s.ID())
	}
	c.sameTrees()
}

// TestLocalSessionExpires: a local session whose client is not heard for
// its timeout expires on its peer, with nothing proposed; one that is
// reattached on its own peer meanwhile lives on.
func TestLocalSessionExpires(t *testing.T) {
	c, _, f := localCluster(t, 63, true)
	r := RemoteOf(c.ens[f])
	var gone, kept RemoteSession
	if err := c.do(func(ctx context.Context) (err error) {
		if gone, err = r.NewSession(ctx, WithSessionTimeout(4*c.ens[f].cfg.TickTime)); err == nil {
			kept, err = r.NewSession(ctx, WithSessionTimeout(4*c.ens[f].cfg.TickTime))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	gone.Detach()
	kept.Detach()
	before := c.lastZxids()
	for i := 0; i < 3*TicksPerTickTime; i++ {
		c.tick()
	}
	// Its own peer revalidates it (a client reconnecting to its server).
	var back RemoteSession
	if err := c.do(func(ctx context.Context) (err error) {
		back, err = r.Reattach(ctx, kept.ID(), kept.Password())
		return err
	}); err != nil || back.Session != kept.Session {
		t.Fatalf("a local session reattached on its own peer: %v", err)
	}
	if _, err := r.Reattach(testCtx(t), kept.ID(), []byte("wrong password")); !errors.Is(err, zkerr.ErrSessionExpired) {
		t.Fatalf("reattached with a wrong password: %v", err)
	}
	c.waitFor("the detached local session expired", 10*TicksPerTickTime, func() bool { return gone.State() == StateExpired })
	for i := 0; i < 4*TicksPerTickTime; i++ {
		back.Heard()
		c.tick()
	}
	if st := back.State(); st != StateConnected {
		t.Fatalf("a local session heard at every tick is %v", st)
	}
	c.wantNothingLogged("expiring a local session", before)
	if err := c.do(func(ctx context.Context) error {
		_, err := r.Reattach(ctx, gone.ID(), gone.Password())
		return err
	}); !errors.Is(err, zkerr.ErrSessionExpired) {
		t.Fatalf("an expired local session reattached: %v", err)
	}
	// ExpireSession ends a local session too, and its peer forgets it.
	x := c.session(f)
	n := r.LocalSessions()
	if err := c.do(func(ctx context.Context) error { return c.ens[f].ExpireSession(ctx, x.ID()) }); err != nil {
		t.Fatal(err)
	}
	c.settle()
	if x.State() != StateExpired || r.LocalSessions() != n-1 {
		t.Fatalf("after ExpireSession: %v, %d local sessions (%d before)", x.State(), r.LocalSessions(), n)
	}
}

// TestLocalSessionLeaderLost: when its peer stops serving (its leader
// lost), a local session is disconnected, and expired once the peer serves
// again, as ZooKeeper's server starts again with no local session; a
// session of the ensemble comes back.
func TestLocalSessionLeaderLost(t *testing.T) {
	c, leader, f := localCluster(t, 64, true)
	local := c.session(f)
	global := c.session(f)
	if err := c.createEphemeral(global, "/g"); err != nil {
		t.Fatal(err)
	}
	drainStates(local)
	drainStates(global)
	c.net.Isolate(f)
	c.waitFor("the follower not serving", 600, func() bool { return !c.ens[f].Status().Serving })
	if st := local.State(); st != StateDisconnected {
		t.Fatalf("a local session of a peer without leader is %v", st)
	}
	if n := RemoteOf(c.ens[f]).LocalSessions(); n != 0 {
		t.Fatalf("peer %d keeps %d local sessions without a leader", f, n)
	}
	c.net.Heal()
	c.waitFor("the follower serving again", 600, func() bool { return c.ens[f].Status().Serving })
	wantStates(t, local, StateDisconnected, StateExpired)
	wantStates(t, global, StateDisconnected, StateConnected)
	hasSessionOn(t, c.ens[leader], global.ID())
}

// TestZooCfgLocalSessions: localSessionsEnabled and
// localSessionsUpgradingEnabled set LocalSessions and
// LocalSessionsUpgrading, both off when absent (ZooKeeper's
// QuorumPeerConfig defaults), parsed as ZooKeeper parses its booleans:
// true or false in any case, anything else an error naming the key.
func TestZooCfgLocalSessions(t *testing.T) {
	for _, tc := range []struct {
		text             string
		local, upgrading bool
		bad              bool
	}{
		{text: "tickTime=2000\n"},
		{text: "localSessionsEnabled=true\n", local: true},
		{text: "localSessionsEnabled=TRUE\nlocalSessionsUpgradingEnabled=True\n", local: true, upgrading: true},
		{text: "localSessionsEnabled=true\nlocalSessionsUpgradingEnabled=false\n", local: true},
		{text: "localSessionsUpgradingEnabled=true\n", upgrading: true},
		{text: "localSessionsEnabled=yes\n", bad: true},
		{text: "localSessionsUpgradingEnabled=1\n", bad: true},
	} {
		cfg, ignored, err := ParseZooCfg(strings.NewReader(tc.text), nil)
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), "localSessions") {
				t.Errorf("%q: %v, want an error naming the key", tc.text, err)
			}
			continue
		}
		if err != nil || len(ignored) != 0 || cfg.LocalSessions != tc.local || cfg.LocalSessionsUpgrading != tc.upgrading {
			t.Errorf("%q: LocalSessions %v, LocalSessionsUpgrading %v, ignored %v, %v; want %v, %v",
				tc.text, cfg.LocalSessions, cfg.LocalSessionsUpgrading, ignored, err, tc.local, tc.upgrading)
		}
	}
}

// TestLocalSessionsStandalone: a standalone peer ignores LocalSessions, as
// ZooKeeper's standalone server: its sessions are committed.
func TestLocalSessionsStandalone(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 65)
	cfg.LocalSessions = true
	e := openTest(t, cfg)
	s := newSession(t, e)
	hasSessionOn(t, e, s.ID())
	mustCreate(t, s, "/e", "", WithMode(ModeEphemeral))
}

// TestLocalSessionUpgradeUnwaited: a local session whose ephemeral create
// is not waited for (its caller gave up) is still one of the ensemble once
// its CreateSession committed: touched through the leader, it lives on with
// its ephemeral node.
func TestLocalSessionUpgradeUnwaited(t *testing.T) {
	c, leader, f := localCluster(t, 65, true)
	s := c.session(f)
	ctx, cancel := context.WithCancel(context.Background())
	p := RemoteSession{Session: s}.StartCreate(ctx, "/e", nil, ModeEphemeral, OpenACLUnsafe(), 0)
	cancel()
	if _, err := p.Wait(ctx); err == nil {
		t.Fatal("a pipelined create waited for with a done context succeeded")
	}
	c.settle()
	hasSessionOn(t, c.ens[leader], s.ID())
	if n := RemoteOf(c.ens[f]).LocalSessions(); n != 0 {
		t.Fatalf("peer %d keeps %d local sessions after the upgrade", f, n)
	}
	for i := 0; i < 50*TicksPerTickTime; i++ {
		c.tick()
	}
	if st := s.State(); st != StateConnected {
		t.Fatalf("an upgraded session kept alive is %v", st)
	}
	if _, _, err := s.Get(testCtx(t), "/e"); err != nil {
		t.Fatalf("the upgraded session's ephemeral node: %v", err)
	}
}

// TestLocalSessionCloseAfterUpgrade: a session closed behind its pipelined
// ephemeral create, which upgrades it, closes as a session of the
// ensemble: its ephemeral node goes with it.
func TestLocalSessionCloseAfterUpgrade(t *testing.T) {
	c, leader, f := localCluster(t, 66, true)
	s := c.session(f)
	ctx := testCtx(t)
	p := RemoteSession{Session: s}.StartCreate(ctx, "/e", nil, ModeEphemeral, OpenACLUnsafe(), 0)
	issued := s.seq.Issued()
	closed := make(chan error, 1)
	go func() { closed <- s.Close(ctx) }()
	for s.seq.Issued() == issued { // Close waits its turn, behind the create
		runtime.Gosched()
	}
	if err := c.do(func(ctx context.Context) error {
		_, err := p.Wait(ctx)
		if err == nil {
			err = <-closed
		}
		return err
	}); err != nil {
		t.Fatalf("an ephemeral create, then close: %v", err)
	}
	c.settle()
	noSessionOn(t, c.ens[leader], s.ID())
	other := c.session(leader)
	if ok, _, err := other.Exists(ctx, "/e"); err != nil || ok {
		t.Fatalf("the closed session's ephemeral node: exists %v, %v", ok, err)
	}
}

// TestLocalSessionUpgradesOnce: two ephemeral creates of a local session
// pipelined make one CreateSession, as ZooKeeper's makeUpgradeRequest
// upgrades a session once: three transactions in all.
func TestLocalSessionUpgradesOnce(t *testing.T) {
	c, leader, f := localCluster(t, 67, true)
	s := RemoteSession{Session: c.session(f)}
	before := c.lastZxids()
	ctx := testCtx(t)
	p1 := s.StartCreate(ctx, "/e1", nil, ModeEphemeral, OpenACLUnsafe(), 0)
	p2 := s.StartCreate(ctx, "/e2", nil, ModeEphemeral, OpenACLUnsafe(), 0)
	if err := c.do(func(ctx context.Context) error {
		_, err := p1.Wait(ctx)
		if err == nil {
			_, err = p2.Wait(ctx)
		}
		return err
	}); err != nil {
		t.Fatalf("two ephemeral creates of a local session: %v", err)
	}
	if got := c.lastZxids()[leader] - before[leader]; got != 3 {
		t.Fatalf("two ephemeral creates upgrading a session logged %d transactions, want 3", got)
	}
}

// TestLocalWriterDetached: the leader takes a write of one of its own
// local sessions while that session is detached (its client gone, its
// time not yet up), as ZooKeeper's LeaderSessionTracker finds it in its
// local tracker; a session it never had it refuses.
func TestLocalWriterDetached(t *testing.T) {
	c, leader, _ := localCluster(t, 67, true)
	s := c.detachedSession(leader)
	var takes, takesOther bool
	if err := c.do(func(ctx context.Context) error {
		return c.ens[leader].inspect(ctx, func(p *peer) {
			takes = p.localWriter(&znode.Txn{Type: znode.TxnSetData, Session: s.ID()})
			takesOther = p.localWriter(&znode.Txn{Type: znode.TxnSetData, Session: s.ID() + 1})
		})
	}); err != nil {
		t.Fatal(err)
	}
	if !takes || takesOther {
		t.Fatalf("the leader takes its detached local session's write: %v (want true), an unknown session's of its own: %v (want false)", takes, takesOther)
	}
}

// holdUpgrade starts an ephemeral create of s (a local session of peer f)
// with ctx and drives the cluster, holding every frame from f to the
// leader, until f has sent the upgrade on: the create's error comes on
// the channel returned.
func (c *cluster) holdUpgrade(ctx context.Context, s *Session, f, leader int64) <-chan error {
	c.t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := s.Create(ctx, "/e", nil, WithMode(ModeEphemeral))
		done <- err
	}()
	for i := 0; !c.holds(f, leader); i++ {
		if i == 10000 {
			c.t.Fatal("the upgrade never left its peer")
		}
		c.settleExcept(f, leader)
		runtime.Gosched()
	}
	return done
}

// noLeftovers checks that no peer holds session id or the node /e.
func (c *cluster) noLeftovers(id int64) {
	c.t.Helper()
	c.settle()
	for _, p := range c.running() {
		noSessionOn(c.t, c.ens[p], id)
		if _, err := c.ens[p].tree.Get("/e"); !errors.Is(err, zkerr.ErrNoNode) {
			c.t.Fatalf("peer %d holds /e of session %#x (%v)", p, id, err)
		}
	}
}

// TestLocalSessionExpiredBeforeItsUpgrade (found by the simulation, seeds
// 60102 and 60103 with -local=2): ExpireSession commits the CloseSession
// of a local session while the CreateSession that upgrades it is on its
// way to the leader. The leader refuses that CreateSession, and the
// ephemeral create behind it: the ensemble never brings back a session
// whose handle has expired, with an ephemeral of it.
func TestLocalSessionExpiredBeforeItsUpgrade(t *testing.T) {
	c, leader, f := localCluster(t, 63, true)
	s := c.session(f)
	done := c.holdUpgrade(testCtx(t), s, f, leader)
	if err := c.doExcept(f, leader, func(ctx context.Context) error {
		return c.ens[leader].ExpireSession(ctx, s.ID())
	}); err != nil {
		t.Fatalf("expiring the local session: %v", err)
	}
	for i := 0; s.State() != StateExpired; i++ {
		if i == 10000 {
			t.Fatalf("the session is %v after its CloseSession", s.State())
		}
		c.settleExcept(f, leader)
		runtime.Gosched()
	}
	if err := c.do(func(context.Context) error { return <-done }); err == nil {
		t.Fatal("the ephemeral create of an expired session succeeded")
	}
	c.noLeftovers(s.ID())
}

// TestLocalSessionUpgradeOutcomeUnknown (found by the simulation, seeds
// 60112 and 60146 with -local=2): the client gives up on the ephemeral
// create that upgrades its local session before the reply; the upgrade
// commits. The session is no longer local (ZooKeeper's upgradeSession):
// its Close commits a CloseSession, and its ephemeral goes with it.
func TestLocalSessionUpgradeOutcomeUnknown(t *testing.T) {
	c, leader, f := localCluster(t, 64, true)
	s := c.session(f)
	ctx, cancel := context.WithCancel(testCtx(t))
	done := c.holdUpgrade(ctx, s, f, leader)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the create returned no error after its ctx ended")
	}
	c.settle()
	hasSessionOn(t, c.ens[leader], s.ID())
	if err := c.do(s.Close); err != nil {
		t.Fatalf("closing the session: %v", err)
	}
	c.noLeftovers(s.ID())
}
