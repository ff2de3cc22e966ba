package engine

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/testbuf"
	"github.com/embedzk/zk/zab/transport"
	"github.com/embedzk/zk/znode"
)

// logBuffer is a concurrency-safe buffer for a text slog handler.
type logBuffer = testbuf.Buffer

func quotaConfig(fs vfs.FS, enforce bool, log *logBuffer) Config {
	cfg := testConfig(fs, 1)
	cfg.EnforceQuota = enforce
	if log != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return cfg
}

func wantQuota(t *testing.T, s *Session, path string, q Quota, u QuotaUsage) {
	t.Helper()
	gotQ, gotU, err := s.ListQuota(testCtx(t), path)
	if err != nil {
		t.Fatalf("ListQuota %s: %v", path, err)
	}
	if gotQ != q || gotU != u {
		t.Fatalf("ListQuota %s = %+v %+v, want %+v %+v", path, gotQ, gotU, q, u)
	}
}

// TestQuotaAPI walks through setquota, listquota and delquota with soft and
// hard limits, as a zkCli user would.
func TestQuotaAPI(t *testing.T) {
	var log logBuffer
	e := openTest(t, quotaConfig(vfs.NewMem(), true, &log))
	defer e.Close()
	s := newSession(t, e)
	ctx := testCtx(t)
	mustCreate(t, s, "/app", "")
	mustCreate(t, s, "/app/a", "x")
	if err := s.SetQuota(ctx, "/app", Quota{CountHard: 4, Bytes: 3}); err != nil {
		t.Fatal(err)
	}
	wantQuota(t, s, "/app", Quota{CountHard: 4, Bytes: 3}, QuotaUsage{Count: 2, Bytes: 1})
	mustCreate(t, s, "/app/b", "yy")
	if strings.Contains(log.String(), "quota exceeded") {
		t.Fatalf("a warning before any limit was passed:\n%s", log.String())
	}
	mustCreate(t, s, "/app/c", "z") // 4 bytes > soft 3: passes, warns once
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "quota=/app") {
		t.Fatalf("no warning for the soft limit:\n%s", log.String())
	}
	_, err := s.Create(ctx, "/app/d", nil) // 5 nodes > hard 4
	if !errors.Is(err, ErrQuotaExceeded) || !strings.Contains(err.Error(), "/app/d") {
		t.Fatalf("create past the hard count: %v", err)
	}
	_, err = s.Multi(ctx, DeleteOp("/app/c", -1), CreateOp("/app/d", nil), CreateOp("/app/e", nil))
	if !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("multi past the hard count: %v", err)
	}
	c := e.quotaCounters()
	if c.Exceeded["app"] != 1 || c.Refused["app"] != 2 {
		t.Fatalf("counters %+v", c)
	}
	wantQuota(t, s, "/app", Quota{CountHard: 4, Bytes: 3}, QuotaUsage{Count: 4, Bytes: 4})
	// Raising a limit merges with the others.
	if err := s.SetQuota(ctx, "/app", Quota{CountHard: 5}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "/app/d", "")
	if err := s.DeleteQuota(ctx, "/app", QuotaCountHard); err != nil {
		t.Fatal(err)
	}
	wantQuota(t, s, "/app", Quota{Bytes: 3}, QuotaUsage{Count: 5, Bytes: 4})
	mustCreate(t, s, "/app/e", "")
	infos, err := e.quotas()
	if err != nil || len(infos) != 1 || infos[0].Path != "/app" || infos[0].Usage != (QuotaUsage{Count: 6, Bytes: 4}) {
		t.Fatalf("quotas %+v %v", infos, err)
	}
	if err := s.DeleteQuota(ctx, "/app"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ListQuota(ctx, "/app"); !errors.Is(err, ErrNoNode) {
		t.Fatalf("ListQuota after DeleteQuota: %v", err)
	}
	kids, _, err := s.Children(ctx, znode.QuotaPath)
	if err != nil || len(kids) != 0 {
		t.Fatalf("/zookeeper/quota keeps %v %v", kids, err)
	}
	mustCreate(t, s, "/app/f", strings.Repeat("z", 100))
}

// TestQuotaAPIBadInput: every bad call gets a clear error and changes
// nothing.
func TestQuotaAPIBadInput(t *testing.T) {
	e := openTest(t, quotaConfig(vfs.NewMem(), true, nil))
	defer e.Close()
	s := newSession(t, e)
	ctx := testCtx(t)
	for _, p := range []string{"/app", "/app/a", "/app/a/b", "/other", "/other/x"} {
		mustCreate(t, s, p, "")
	}
	if err := s.SetQuota(ctx, "/app/a", Quota{Count: 10}); err != nil {
		t.Fatal(err)
	}
	one := Quota{Count: 1}
	cases := []struct {
		name string
		call func() error
		want error
		msg  string
	}{
		{"on /", func() error { return s.SetQuota(ctx, "/", one) }, ErrBadArguments, "the root and /zookeeper are excluded"},
		{"on /zookeeper", func() error { return s.SetQuota(ctx, "/zookeeper", one) }, ErrBadArguments, "excluded"},
		{"in /zookeeper/quota", func() error { return s.SetQuota(ctx, "/zookeeper/quota/app", one) }, ErrBadArguments, "excluded"},
		{"invalid path", func() error { return s.SetQuota(ctx, "app", one) }, ErrInvalidPath, "must start with /"},
		{"invalid path to delete", func() error { return s.DeleteQuota(ctx, "/app/") }, ErrInvalidPath, "must not end with /"},
		{"invalid path to list", func() error { _, _, err := s.ListQuota(ctx, "/a//b"); return err }, ErrInvalidPath, "empty node name"},
		{"missing path", func() error { return s.SetQuota(ctx, "/nope", one) }, ErrNoNode, "/nope"},
		{"below a quota", func() error { return s.SetQuota(ctx, "/app/a/b", one) }, ErrBadArguments, "has a parent /app/a which has a quota"},
		{"above a quota", func() error { return s.SetQuota(ctx, "/app", one) }, ErrBadArguments, "has a child /app/a which has a quota"},
		{"no limit", func() error { return s.SetQuota(ctx, "/other", Quota{}) }, ErrBadArguments, "sets no limit"},
		{"negative limit", func() error { return s.SetQuota(ctx, "/other", Quota{Bytes: -5}) }, ErrBadArguments, "Bytes -5 is negative"},
		{"delete without a quota", func() error { return s.DeleteQuota(ctx, "/other") }, ErrNoNode, "no quota on /other"},
		{"delete an unknown limit", func() error { return s.DeleteQuota(ctx, "/app/a", QuotaLimit(64)) }, ErrBadArguments, "unknown quota limit"},
		{"list without a quota", func() error { _, _, err := s.ListQuota(ctx, "/other"); return err }, ErrNoNode, "no quota on /other"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, before := e.tree.Applied()
			err := c.call()
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %v with %q", err, c.want, c.msg)
			}
			if _, after := e.tree.Applied(); after != before {
				t.Fatalf("%v changed the tree", err)
			}
		})
	}
	wantQuota(t, s, "/app/a", Quota{Count: 10}, QuotaUsage{Count: 2})
}

// TestQuotaNotEnforced: without EnforceQuota a hard limit only counts.
func TestQuotaNotEnforced(t *testing.T) {
	e := openTest(t, quotaConfig(vfs.NewMem(), false, nil))
	defer e.Close()
	s := newSession(t, e)
	mustCreate(t, s, "/app", "")
	if err := s.SetQuota(testCtx(t), "/app", Quota{CountHard: 1, BytesHard: 1}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "/app/a", "xyz")
	wantQuota(t, s, "/app", Quota{CountHard: 1, BytesHard: 1}, QuotaUsage{Count: 2, Bytes: 3})
	if c := e.quotaCounters(); c.Exceeded["app"] != 1 || c.Refused["app"] != 0 {
		t.Fatalf("counters %+v", c)
	}
}

// TestQuotaRestart: quotas and their usage survive a restart, agree with a
// recount, and keep being enforced.
func TestQuotaRestart(t *testing.T) {
	fs := vfs.NewMem()
	e := openTest(t, quotaConfig(fs, true, nil))
	s := newSession(t, e)
	ctx := testCtx(t)
	mustCreate(t, s, "/app", "")
	if err := s.SetQuota(ctx, "/app", Quota{CountHard: 3, BytesHard: 10}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "/app/a", "12345")
	mustCreate(t, s, "/app/b", "", WithMode(ModeEphemeral))
	e.Close()

	e = openTest(t, quotaConfig(fs, true, nil))
	defer e.Close()
	s = newSession(t, e)
	if err := e.tree.VerifyQuotas(); err != nil {
		t.Fatal(err)
	}
	// The old session is still there (not expired yet), so is its ephemeral.
	wantQuota(t, s, "/app", Quota{CountHard: 3, BytesHard: 10}, QuotaUsage{Count: 3, Bytes: 5})
	if _, err := s.Create(ctx, "/app/c", nil); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("create after restart: %v", err)
	}
	if _, err := s.Set(ctx, "/app/a", []byte("12345678901"), -1); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("set after restart: %v", err)
	}
}

// TestQuotaCluster3: on a 3-peer ensemble quotas set and written through
// every peer are enforced by the leader, and every peer holds the same
// quota nodes, the same digests and stats that agree with a recount — also
// after a follower restarts and after one rebuilds from a snapshot.
func TestQuotaCluster3(t *testing.T) {
	c := newClusterWith(t, 3, 0, 7, transport.NetworkOptions{}, func(cfg *Config) { cfg.EnforceQuota = true })
	c.waitFor("a leader", 400, c.allServing)
	leader := c.leader()
	var follower int64
	sess := map[int64]*Session{}
	for _, id := range c.running() {
		sess[id] = c.session(id)
		if id != leader && follower == 0 {
			follower = id
		}
	}
	fs := sess[follower]
	do := func(fn func(ctx context.Context) error) error { return c.do(fn) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(do(func(ctx context.Context) error { _, err := fs.Create(ctx, "/app", nil); return err }))
	must(do(func(ctx context.Context) error { return fs.SetQuota(ctx, "/app", Quota{CountHard: 4, BytesHard: 8}) }))
	for i, id := range c.running() {
		must(do(func(ctx context.Context) error {
			_, err := sess[id].Create(ctx, "/app/"+string(rune('a'+i)), []byte("12"))
			return err
		}))
	}
	// Refused for a session on a follower (forwarded) and on the leader.
	for _, id := range []int64{follower, leader} {
		err := do(func(ctx context.Context) error { _, err := sess[id].Create(ctx, "/app/z", nil); return err })
		if !errors.Is(err, ErrQuotaExceeded) {
			t.Fatalf("create through peer %d: %v", id, err)
		}
	}
	err := do(func(ctx context.Context) error { _, err := fs.Set(ctx, "/app/a", []byte("12345"), -1); return err })
	if !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("set past the hard bytes: %v", err)
	}
	must(do(func(ctx context.Context) error { return fs.Delete(ctx, "/app/a", -1) }))
	c.sameQuotas(QuotaUsage{Count: 3, Bytes: 4})
	if r := c.ens[leader].quotaCounters().Refused["app"]; r != 3 {
		t.Fatalf("the leader counted %d refusals, want 3", r)
	}

	// A follower restarts on its disk; another rebuilds from nothing (SNAP).
	c.stop(follower)
	c.start(follower)
	other := c.others(leader)[0]
	if other == follower {
		other = c.others(leader)[1]
	}
	c.stop(other)
	c.fs[other] = vfs.NewMem()
	c.start(other)
	c.waitFor("every peer serving", 400, c.allServing)
	ls := sess[leader]
	must(do(func(ctx context.Context) error { _, err := ls.Create(ctx, "/app/a", []byte("1")); return err }))
	c.sameQuotas(QuotaUsage{Count: 4, Bytes: 5})
}

// sameQuotas checks every running peer has the same tree, the same quotas
// with usage u on /app, and stats that agree with a recount.
func (c *cluster) sameQuotas(u QuotaUsage) {
	c.t.Helper()
	c.sameTrees()
	_, digest := c.ens[c.leader()].tree.Applied()
	for _, id := range c.running() {
		e := c.ens[id]
		if _, d := e.tree.Applied(); d != digest {
			c.t.Fatalf("peer %d: digest %#x, the leader's %#x", id, d, digest)
		}
		infos, err := e.quotas()
		if err != nil {
			c.t.Fatal(err)
		}
		if len(infos) != 1 || infos[0].Usage != u {
			c.t.Fatalf("peer %d: quotas %+v, want usage %+v on /app", id, infos, u)
		}
		if err := e.tree.VerifyQuotas(); err != nil {
			c.t.Fatalf("peer %d: %v", id, err)
		}
	}
}

// TestQuotaZooCfg: zoo.cfg's enforceQuota key (ZooKeeper's
// zookeeper.enforceQuota system property).
func TestQuotaZooCfg(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{{"dataDir=/d\n", false}, {"enforceQuota=true\n", true}, {"enforceQuota=TRUE\n", true}, {"enforceQuota=false\n", false}} {
		cfg, ignored, err := ParseZooCfg(strings.NewReader(c.text), nil)
		if err != nil || cfg.EnforceQuota != c.want || len(ignored) != 0 {
			t.Fatalf("%q: EnforceQuota %v, ignored %v, %v", c.text, cfg.EnforceQuota, ignored, err)
		}
	}
	_, _, err := ParseZooCfg(strings.NewReader("enforceQuota=yes\n"), nil)
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "enforceQuota") {
		t.Fatalf("a bad value: %v", err)
	}
}

// TestQuotaHalfMade: a quota whose stats node is gone (plain deletes can do
// that) lists as missing, as in zkCli, but can still be deleted.
func TestQuotaHalfMade(t *testing.T) {
	e := openTest(t, quotaConfig(vfs.NewMem(), true, nil))
	defer e.Close()
	s := newSession(t, e)
	ctx := testCtx(t)
	mustCreate(t, s, "/app", "")
	if err := s.SetQuota(ctx, "/app", Quota{CountHard: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, znode.QuotaStatsPath("/app"), -1); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "/app/a", "") // nothing is counted without stats
	_, _, err := s.ListQuota(ctx, "/app")
	if !errors.Is(err, ErrNoNode) {
		t.Fatalf("ListQuota of a half-made quota: %v", err)
	}
	if err := s.DeleteQuota(ctx, "/app"); err != nil {
		t.Fatal(err)
	}
	if kids, _, err := s.Children(ctx, znode.QuotaPath); err != nil || len(kids) != 0 {
		t.Fatalf("/zookeeper/quota keeps %v %v", kids, err)
	}
}
