package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/crashmem"
	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/zab/transport"
)

// mispredict drives issue 9's defect on a deliberately broken build
// (hooks.ResetOnRefusal): /a is proposed, an oversized multi is refused by
// the core and the leader forgets /a, then /a/b is prepared against the
// stale tree (it fails there, NoNode) with a digest that misses /a. The
// peers applying it see a digest mismatch. queued is the build's
// TestHooks.Func channel; barrier hands the leader a barrier.
func mispredict(t *testing.T, ctx context.Context, queued chan int64, barrier func(), ss [3]*Session) (errA, errBig, errC chan error) {
	t.Helper()
	errA = async(ctx, func(ctx context.Context) error { _, err := ss[0].Create(ctx, "/a", []byte("a")); return err })
	<-queued
	barrier()
	errBig = async(ctx, func(ctx context.Context) error { return oversizedShapes[1].call(ctx, ss[1]) })
	<-queued
	barrier()
	errC = async(ctx, func(ctx context.Context) error { _, err := ss[2].Create(ctx, "/a/b", []byte("b")); return err })
	<-queued
	barrier()
	return errA, errBig, errC
}

// checkMismatchError: the error names the entry (zxid, txn type and path)
// and both digests.
func checkMismatchError(t *testing.T, err error) {
	t.Helper()
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if !errors.Is(err, ErrDataInconsistency) {
		t.Fatalf("the peer stopped with %v, want ErrDataInconsistency", err)
	}
	for _, want := range []string{"zxid 0x", "create \"/a/b\"", "failed request", "the leader's digest 0x", "this peer's 0x", mismatchFile} {
		if !strings.Contains(msg, want) {
			t.Fatalf("the error does not say %q: %v", want, err)
		}
	}
}

// TestDigestMismatchRecovery3: every peer of a 3-peer ensemble fail-stops
// on a leader's mispredicted digest, naming the entry; a restart of every
// peer (on the fixed build) comes back serving, with one tree, and takes
// writes. Before the record of mismatches, the replay stopped every peer
// again on the same entry: the ensemble stayed down.
func TestDigestMismatchRecovery3(t *testing.T) {
	queued := make(chan int64, 64)
	disks := map[int64]*crashmem.FS{1: crashmem.New(), 2: crashmem.New(), 3: crashmem.New()}
	c := newClusterWith(t, 3, 0, 9, transport.NetworkOptions{}, func(cfg *Config) {
		cfg.FS = disks[cfg.ID]
		cfg.TestHooks = &hooks.Hooks{Broken: hooks.ResetOnRefusal, Func: queuedSignal(queued)}
	})
	c.waitFor("a serving ensemble", 300, c.allServing)
	l := c.leader()
	ss := [3]*Session{c.session(l), c.session(l), c.session(l)}
	for len(queued) > 0 {
		<-queued
	}
	ctx := testCtx(t)
	errA, errBig, errC := mispredict(t, ctx, queued, func() {
		if err := c.ens[l].Barrier(ctx); err != nil {
			t.Fatal(err)
		}
	}, ss)
	c.settle()
	for _, ch := range []chan error{errA, errBig, errC} {
		<-ch // answered, whatever the answer: the peers stopped
	}
	for _, id := range c.running() {
		checkMismatchError(t, c.ens[id].Status().Err)
	}
	// Every peer crashes: what the tree had not flushed is lost, so the
	// restart replays the mispredicted entries from the log.
	for id, fs := range disks {
		disks[id] = fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	}
	c.tweak = func(cfg *Config) { cfg.FS = disks[cfg.ID] }
	for _, id := range c.running() {
		c.stop(id)
	}
	for _, s := range c.servers {
		c.start(s.ID)
	}
	c.waitFor("the ensemble back after a restart", 600, c.allServing)
	for _, id := range c.running() {
		if err := c.ens[id].Status().Err; err != nil {
			t.Fatalf("peer %d stopped again after its restart: %v", id, err)
		}
	}
	s := c.session(c.leader())
	if err := c.create(s, "/after"); err != nil {
		t.Fatalf("a write after the restart: %v", err)
	}
	if err := c.create(s, "/a/b"); err != nil {
		t.Fatalf("/a/b after the restart: %v", err)
	}
	c.sameTrees()
}

// TestDigestMismatchRecoveryStandalone: the same on a standalone peer.
func TestDigestMismatchRecoveryStandalone(t *testing.T) {
	queued := make(chan int64, 16)
	fs := crashmem.New()
	cfg := testConfig(fs, 9)
	cfg.TestHooks = &hooks.Hooks{Stepped: true, Broken: hooks.ResetOnRefusal, Func: queuedSignal(queued)}
	e := openTest(t, cfg)
	ctx := testCtx(t)
	barrier := func() {
		if err := e.Barrier(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var ss [3]*Session
	for i := range ss {
		c := async(ctx, func(ctx context.Context) (err error) { ss[i], err = e.NewSession(ctx); return err })
		<-queued
		barrier()
		if err := <-c; err != nil {
			t.Fatal(err)
		}
	}
	// In one loop turn: the pipeline handles the three, then applies.
	errA := async(ctx, func(ctx context.Context) error { _, err := ss[0].Create(ctx, "/a", []byte("a")); return err })
	<-queued
	errBig := async(ctx, func(ctx context.Context) error { return oversizedShapes[1].call(ctx, ss[1]) })
	<-queued
	errC := async(ctx, func(ctx context.Context) error { _, err := ss[2].Create(ctx, "/a/b", []byte("b")); return err })
	<-queued
	barrier()
	<-errA
	<-errBig
	<-errC
	checkMismatchError(t, e.Status().Err)
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	e.Close()
	cfg = testConfig(crashed, 10)
	e = openTest(t, cfg)
	defer e.Close()
	if err := e.Status().Err; err != nil {
		t.Fatalf("stopped again after the restart: %v", err)
	}
	s := newSession(t, e)
	mustCreate(t, s, "/a/b", "b")
	mustCreate(t, s, "/after", "")
}

// TestMismatchCovers states which mismatches a record tolerates.
func TestMismatchCovers(t *testing.T) {
	rec := []mismatch{{zxid: 5<<32 | 10, through: 5<<32 | 20}}
	for _, c := range []struct {
		zxid, accepted int64
		want           bool
	}{
		{5<<32 | 10, 5, true},  // the recorded entry (its replay)
		{5<<32 | 20, 5, true},  // the log's end at the stop
		{5<<32 | 9, 5, false},  // before it: those matched once
		{5<<32 | 21, 5, false}, // proposed after the stop, in the same epoch
		{5<<32 | 21, 6, true},  // ... synced by a leader of a later epoch
		{6<<32 | 1, 6, false},  // a later epoch's own entries
		{4<<32 | 30, 6, false}, // an earlier epoch
	} {
		if _, got := covers(rec, c.zxid, c.accepted); got != c.want {
			t.Errorf("covers(%#x, accepted epoch %d) = %v, want %v", c.zxid, c.accepted, got, c.want)
		}
	}
}
