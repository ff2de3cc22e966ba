package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/testbuf"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/zab/transport"
)

// auditSink keeps the audit lines.
type auditSink = testbuf.Records

// audited is cfg with the audit log on, into sink.
func audited(cfg Config, sink *auditSink) Config {
	cfg.AuditEnabled, cfg.AuditLogger = true, slog.New(sink)
	return cfg
}

// auditLine is the record of an event: its level, then its fields
// tab-separated.
func auditLine(level string, fields ...string) string {
	return level + " " + strings.Join(fields, "\t")
}

func checkAudit(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: audit log\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAuditWrites: every kind of write a session makes, succeeded and
// failed, logs ZooKeeper's fields in its order: the session, its users
// (the digest user, the ip identity's address, in Java's order), its ip, the znode (the
// request's path when it failed, the created one when a create
// succeeded), a create's mode, a setAcl's ACL as sent; a failure at
// Error. Reads log nothing, nor does a session without identities have a
// user or an ip.
func TestAuditWrites(t *testing.T) {
	sink := &auditSink{}
	e := openTest(t, audited(testConfig(vfs.NewMem(), 1), sink))
	t.Cleanup(func() { e.Close() })
	ctx := testCtx(t)
	s := newSession(t, e, WithClientAddr("10.0.0.7:4000"))
	if err := s.AddAuth(ctx, "digest", []byte("alice:secret")); err != nil {
		t.Fatal(err)
	}
	sink.Take() // serverStart
	// alice first: Java's hash set of the two identities lists them so.
	who := []string{fmt.Sprintf("session=0x%x", s.ID()), "user=alice,10.0.0.7", "ip=10.0.0.7"}
	line := func(level string, fields ...string) string {
		return auditLine(level, append(slices.Clone(who), fields...)...)
	}
	fails := func(err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("got %v, want %v", err, want)
		}
	}

	mustCreate(t, s, "/a", "1")
	_, err := s.Create(ctx, "/a", nil)
	fails(err, zkerr.ErrNodeExists)
	seq := mustCreate(t, s, "/a/s-", "", WithMode(ModeEphemeralSequential))
	_, err = s.Create(ctx, "/nope/s-", nil, WithMode(ModePersistentSequential))
	fails(err, zkerr.ErrNoNode)
	mustCreate(t, s, "/box", "", WithMode(ModeContainer))
	mustCreate(t, s, "/ttl", "", WithMode(ModePersistentWithTTL), WithTTL(time.Hour))
	_, err = s.Set(ctx, "/a", []byte("2"), 0)
	fails(err, nil)
	_, err = s.Set(ctx, "/a", nil, 0)
	fails(err, zkerr.ErrBadVersion)
	_, err = s.SetACL(ctx, "/a", []ACL{{Perms: PermAll, Scheme: "auth"}, {Perms: PermRead | PermWrite, Scheme: "world", ID: "anyone"}}, -1)
	fails(err, nil)
	_, err = s.SetACL(ctx, "/a", OpenACLUnsafe(), 7)
	fails(err, zkerr.ErrBadVersion)
	fails(s.Delete(ctx, "/missing", -1), zkerr.ErrNoNode)
	fails(s.Delete(ctx, "/box", -1), nil)
	_, _, err = s.Get(ctx, "/a")
	fails(err, nil)
	checkAudit(t, "writes", sink.Take(), []string{
		line("INFO", "operation=create", "znode=/a", "znode_type=persistent", "result=success"),
		line("ERROR", "operation=create", "znode=/a", "znode_type=persistent", "result=failure"),
		line("INFO", "operation=create", "znode="+seq, "znode_type=ephemeral_sequential", "result=success"),
		line("ERROR", "operation=create", "znode=/nope/s-", "znode_type=persistent_sequential", "result=failure"),
		line("INFO", "operation=create", "znode=/box", "znode_type=container", "result=success"),
		line("INFO", "operation=create", "znode=/ttl", "znode_type=persistent_with_ttl", "result=success"),
		line("INFO", "operation=setData", "znode=/a", "result=success"),
		line("ERROR", "operation=setData", "znode=/a", "result=failure"),
		line("INFO", "operation=setAcl", "znode=/a", "acl=auth::cdrwaworld:anyone:rw", "result=success"),
		line("ERROR", "operation=setAcl", "znode=/a", "acl=world:anyone:cdrwa", "result=failure"),
		line("ERROR", "operation=delete", "znode=/missing", "result=failure"),
		line("INFO", "operation=delete", "znode=/box", "result=success"),
	})

	plain := newSession(t, e)
	mustCreate(t, plain, "/plain", "")
	checkAudit(t, "a session without identities", sink.Take(), []string{
		auditLine("INFO", fmt.Sprintf("session=0x%x", plain.ID()), "operation=create", "znode=/plain", "znode_type=persistent", "result=success"),
	})
}

// TestAuditMulti: a multi that succeeded logs its creates, deletes and
// setDatas (not its checks), a create's type only when it is neither
// sequential nor TTL; one that failed logs one multiOperation failure.
func TestAuditMulti(t *testing.T) {
	sink := &auditSink{}
	e := openTest(t, audited(testConfig(vfs.NewMem(), 1), sink))
	t.Cleanup(func() { e.Close() })
	ctx := testCtx(t)
	s := newSession(t, e, WithClientAddr("10.0.0.8"))
	sink.Take()
	who := []string{fmt.Sprintf("session=0x%x", s.ID()), "user=10.0.0.8", "ip=10.0.0.8"}
	line := func(level string, fields ...string) string {
		return auditLine(level, append(slices.Clone(who), fields...)...)
	}
	_, err := s.Multi(ctx,
		CreateOp("/m", nil),
		CreateOp("/m/q-", nil, WithMode(ModePersistentSequential)),
		CreateOp("/m/t", nil, WithMode(ModePersistentWithTTL), WithTTL(time.Hour)),
		CreateOp("/m/e", nil, WithMode(ModeEphemeral)),
		SetOp("/m", []byte("x"), -1),
		CheckOp("/m", 1),
		DeleteOp("/m/t", -1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Multi(ctx, CreateOp("/x", nil), DeleteOp("/missing", -1))
	if !errors.Is(err, zkerr.ErrNoNode) {
		t.Fatalf("failed multi: %v", err)
	}
	checkAudit(t, "multi", sink.Take(), []string{
		line("INFO", "operation=create", "znode=/m", "znode_type=persistent", "result=success"),
		line("INFO", "operation=create", "znode=/m/q-0000000000", "result=success"),
		line("INFO", "operation=create", "znode=/m/t", "result=success"),
		line("INFO", "operation=create", "znode=/m/e", "znode_type=ephemeral", "result=success"),
		line("INFO", "operation=setData", "znode=/m", "result=success"),
		line("INFO", "operation=delete", "znode=/m/t", "result=success"),
		line("ERROR", "operation=multiOperation", "result=failure"),
	})
}

// TestAuditSessionEnd: the ephemerals of a session that closes, is
// expired, or times out are logged as deleted by the server's user; the
// session's close itself, and its persistent nodes, log nothing.
func TestAuditSessionEnd(t *testing.T) {
	sink := &auditSink{}
	e := openTest(t, audited(testConfig(vfs.NewMem(), 1), sink))
	t.Cleanup(func() { e.Close() })
	ctx := testCtx(t)
	deleted := func(id int64, path string) string {
		return auditLine("INFO", fmt.Sprintf("session=0x%x", id), "user="+systemUser(),
			"operation=ephemeralZNodeDeletionOnSessionCloseOrExpire", "znode="+path, "result=success")
	}
	closed := newSession(t, e)
	mustCreate(t, closed, "/e1", "", WithMode(ModeEphemeral))
	mustCreate(t, closed, "/e2", "", WithMode(ModeEphemeral))
	mustCreate(t, closed, "/p", "")
	sink.Take()
	if err := closed.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// /e2 first: the order of ZooKeeper's HashSet of the paths.
	checkAudit(t, "close", sink.Take(), []string{deleted(closed.ID(), "/e2"), deleted(closed.ID(), "/e1")})

	expired := newSession(t, e)
	mustCreate(t, expired, "/e3", "", WithMode(ModeEphemeral))
	sink.Take()
	if err := e.ExpireSession(ctx, expired.ID()); err != nil {
		t.Fatal(err)
	}
	checkAudit(t, "ExpireSession", sink.Take(), []string{deleted(expired.ID(), "/e3")})

	gone := newSession(t, e, WithSessionTimeout(200*time.Millisecond))
	mustCreate(t, gone, "/e4", "", WithMode(ModeEphemeral))
	RemoteSession{Session: gone}.Detach()
	sink.Take()
	ticks(t, e, 10*TicksPerTickTime)
	if err := e.syncBarrier(ctx); err != nil {
		t.Fatal(err)
	}
	checkAudit(t, "timeout", sink.Take(), []string{deleted(gone.ID(), "/e4")})
}

// TestAuditCluster: a session's write is logged by the peer it is
// attached to and by no other, whether that peer follows or leads (the
// leader's "auth" expansion does not show in the ACL logged); the
// ephemerals of a closed session are logged by every peer that applies
// the close.
func TestAuditCluster(t *testing.T) {
	sinks := map[int64]*auditSink{1: {}, 2: {}, 3: {}}
	c := newClusterWith(t, 3, 0, 5, transport.NetworkOptions{}, func(cfg *Config) {
		cfg.AuditEnabled, cfg.AuditLogger = true, slog.New(sinks[cfg.ID])
	})
	c.waitFor("a leader", 400, c.allServing)
	for _, sink := range sinks {
		sink.Take() // serverStart
	}
	leader := c.leader()
	follower, other := c.others(leader)[0], c.others(leader)[1]
	fs, ls := c.session(follower), c.session(leader)
	auth := []ACL{{Perms: PermAll, Scheme: "auth"}}
	err := c.do(func(ctx context.Context) error {
		if err := fs.AddAuth(ctx, "digest", []byte("bob:pw")); err != nil {
			return err
		}
		if err := ls.AddAuth(ctx, "digest", []byte("carol:pw")); err != nil {
			return err
		}
		if _, err := fs.Create(ctx, "/f", nil); err != nil {
			return err
		}
		if _, err := fs.Create(ctx, "/f", nil); !errors.Is(err, zkerr.ErrNodeExists) {
			return fmt.Errorf("create again: %v", err)
		}
		if _, err := fs.Create(ctx, "/f/e", nil, WithMode(ModeEphemeral)); err != nil {
			return err
		}
		if _, err := fs.SetACL(ctx, "/f", auth, -1); err != nil {
			return err
		}
		_, err := ls.SetACL(ctx, "/f", auth, -1)
		return err
	})
	if !errors.Is(err, zkerr.ErrNoAuth) { // bob's ACL leaves carol no ADMIN
		t.Fatalf("writes: %v", err)
	}
	c.settle()
	f := func(level string, fields ...string) string {
		return auditLine(level, append([]string{fmt.Sprintf("session=0x%x", fs.ID()), "user=bob"}, fields...)...)
	}
	checkAudit(t, "the follower's session's peer", sinks[follower].Take(), []string{
		f("INFO", "operation=create", "znode=/f", "znode_type=persistent", "result=success"),
		f("ERROR", "operation=create", "znode=/f", "znode_type=persistent", "result=failure"),
		f("INFO", "operation=create", "znode=/f/e", "znode_type=ephemeral", "result=success"),
		f("INFO", "operation=setAcl", "znode=/f", "acl=auth::cdrwa", "result=success"),
	})
	checkAudit(t, "the leader", sinks[leader].Take(), []string{
		auditLine("ERROR", fmt.Sprintf("session=0x%x", ls.ID()), "user=carol", "operation=setAcl", "znode=/f", "acl=auth::cdrwa", "result=failure"),
	})
	checkAudit(t, "the other follower", sinks[other].Take(), nil)

	if err := c.do(fs.Close); err != nil {
		t.Fatal(err)
	}
	c.settle()
	deleted := auditLine("INFO", fmt.Sprintf("session=0x%x", fs.ID()), "user="+systemUser(),
		"operation=ephemeralZNodeDeletionOnSessionCloseOrExpire", "znode=/f/e", "result=success")
	for id, sink := range sinks {
		checkAudit(t, fmt.Sprintf("peer %d after the close", id), sink.Take(), []string{deleted})
	}
}

// TestAuditServerStartStop: serverStart when NewEnsemble returns (a
// failure when it fails), serverStop once as Close begins, as the
// server's user; AuditLogger defaults to Logger, and nothing is logged
// with AuditEnabled off.
func TestAuditServerStartStop(t *testing.T) {
	sink := &auditSink{}
	cfg := audited(testConfig(vfs.NewMem(), 1), sink)
	e := openTest(t, cfg)
	user := "user=" + systemUser()
	checkAudit(t, "start", sink.Take(), []string{auditLine("INFO", user, "operation=serverStart", "result=success")})
	e.Close()
	e.Close()
	checkAudit(t, "Close", sink.Take(), []string{auditLine("INFO", user, "operation=serverStop", "result=invoked")})
	bad := cfg
	bad.ID = 300
	if _, err := NewEnsemble(bad); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("NewEnsemble with id 300: %v", err)
	}
	checkAudit(t, "a failed start", sink.Take(), []string{auditLine("ERROR", user, "operation=serverStart", "result=failure")})

	main := &auditSink{}
	cfg = testConfig(vfs.NewMem(), 2)
	cfg.AuditEnabled, cfg.Logger = true, slog.New(main)
	e = openTest(t, cfg)
	e.Close()
	starts := slices.DeleteFunc(main.Take(), func(l string) bool { return !strings.Contains(l, "operation=server") })
	checkAudit(t, "into Logger", starts, []string{
		auditLine("INFO", user, "operation=serverStart", "result=success"),
		auditLine("INFO", user, "operation=serverStop", "result=invoked"),
	})

	cfg = testConfig(vfs.NewMem(), 3)
	cfg.AuditLogger = slog.New(sink)
	e = openTest(t, cfg)
	s := newSession(t, e)
	mustCreate(t, s, "/x", "")
	e.Close()
	checkAudit(t, "AuditEnabled off", sink.Take(), nil)
}

// TestZooCfgAuditEnable: audit.enable=true in any case turns the audit
// log on, as Java's Boolean.getBoolean reads zookeeper.audit.enable.
func TestZooCfgAuditEnable(t *testing.T) {
	for text, want := range map[string]bool{
		"tickTime=2000\n": false, "audit.enable=true\n": true, "audit.enable=TRUE\n": true,
		"audit.enable=yes\n": false, "audit.enable=false\n": false,
	} {
		cfg, ignored, err := ParseZooCfg(strings.NewReader(text), nil)
		if err != nil || len(ignored) != 0 || cfg.AuditEnabled != want {
			t.Errorf("%q: AuditEnabled %v, ignored %v, %v; want %v", text, cfg.AuditEnabled, ignored, err, want)
		}
	}
}

// TestAuditReconfigEvent: the client port's reconfig is logged with
// /zookeeper/config when it succeeded, without a znode when it failed.
func TestAuditReconfigEvent(t *testing.T) {
	sink := &auditSink{}
	e := openTest(t, audited(testConfig(vfs.NewMem(), 1), sink))
	t.Cleanup(func() { e.Close() })
	s := RemoteSession{Session: newSession(t, e, WithClientAddr("10.0.0.9"))}
	sink.Take()
	s.AuditReconfig(nil)
	s.AuditReconfig(zkerr.ErrReconfigDisabled)
	who := fmt.Sprintf("session=0x%x", s.ID())
	checkAudit(t, "reconfig", sink.Take(), []string{
		auditLine("INFO", who, "user=10.0.0.9", "ip=10.0.0.9", "operation=reconfig", "znode=/zookeeper/config", "result=success"),
		auditLine("ERROR", who, "user=10.0.0.9", "ip=10.0.0.9", "operation=reconfig", "result=failure"),
	})
}

// TestAuditUsersJavaOrder: the identities come in the order a ZooKeeper
// connection's set of them iterates, as a Java program adding the same Ids
// in the same order to a ConcurrentHashMap's key set printed them (JDK 17,
// ZooKeeper 3.8's jute Id), astral characters included.
func TestAuditUsersJavaOrder(t *testing.T) {
	for _, tc := range []struct{ added, java string }{
		{"ip 112.214.35.62|digest bob254:7B7afEzz502blOd4UA0Htyt1GIs=", "digest bob254:7B7afEzz502blOd4UA0Htyt1GIs=|ip 112.214.35.62"},
		{"ip 218.249.238.123|x509 CN=eve10,O=example", "x509 CN=eve10,O=example|ip 218.249.238.123"},
		{"ip 151.21.201.6|sasl eve80|digest bob74:KOXqB7+14Ef1yFOYqnSOqWfWmaQ=|digest x49:X1u3uPScJIly3JQbG06yHaIhHi0=|x509 CN=carol36,O=example",
			"ip 151.21.201.6|sasl eve80|x509 CN=carol36,O=example|digest bob74:KOXqB7+14Ef1yFOYqnSOqWfWmaQ=|digest x49:X1u3uPScJIly3JQbG06yHaIhHi0="},
		{"ip 78.72.213.89|x509 CN=mallory15,O=example|sasl alice41|sasl zoë15|digest alice94:FnM+NMolVqCv43BRjDC2iuY+l4Y=",
			"x509 CN=mallory15,O=example|sasl zoë15|digest alice94:FnM+NMolVqCv43BRjDC2iuY+l4Y=|sasl alice41|ip 78.72.213.89"},
		{"ip 10.0.0.7|digest 𝄞user:abc|sasl 😀x|digest plain:xyz", "digest plain:xyz|digest 𝄞user:abc|ip 10.0.0.7|sasl 😀x"},
		{"sasl 𝄞|ip 1.2.3.4|sasl 😀", "ip 1.2.3.4|sasl 𝄞|sasl 😀"},
		{"ip 127.0.0.1|digest a:1|digest b:2|digest c:3|digest d:4|digest e:5|digest f:6|digest g:7|digest h:8|digest i:9|digest j:10",
			"digest a:1|digest i:9|digest b:2|digest g:7|digest h:8|digest j:10|digest e:5|digest f:6|ip 127.0.0.1|digest c:3|digest d:4"},
	} {
		var ids []Identity
		for _, p := range strings.Split(tc.added, "|") {
			scheme, id, _ := strings.Cut(p, " ")
			ids = append(ids, Identity{Scheme: scheme, ID: id})
		}
		var got []string
		for _, id := range javaSetOrder(ids) {
			got = append(got, id.Scheme+" "+id.ID)
		}
		if strings.Join(got, "|") != tc.java {
			t.Errorf("added %s\ngot  %s\nJava %s", tc.added, strings.Join(got, "|"), tc.java)
		}
	}
}

// TestAuditIPv6Java: an IPv6 client's address is its ip identity, user
// and ip in Java's form (no zero compression, no zone), and an ip ACL
// written in Go's short form still matches it.
func TestAuditIPv6Java(t *testing.T) {
	sink := &auditSink{}
	e := openTest(t, audited(testConfig(vfs.NewMem(), 1), sink))
	t.Cleanup(func() { e.Close() })
	s := newSession(t, e, WithClientAddr("[fe80::1:0:0:A%eth0]:4000"))
	mustCreate(t, s, "/a", "", WithACL(ACL{Perms: PermAll, Scheme: "ip", ID: "fe80::1:0:0:a"}))
	if _, _, err := s.Get(testCtx(t), "/a"); err != nil {
		t.Fatalf("the ip ACL does not match the session's address: %v", err)
	}
	const ip = "fe80:0:0:0:1:0:0:a"
	checkAudit(t, "IPv6 client", sink.Take()[1:], []string{auditLine("INFO", fmt.Sprintf("session=0x%x", s.ID()),
		"user="+ip, "ip="+ip, "operation=create", "znode=/a", "znode_type=persistent", "result=success")})
}

// TestAuditHostReconfig: Ensemble.Reconfig, the host's call, logs
// operation=reconfig as the server's user, without session or ip, on the
// peer it was called on: /zookeeper/config when it committed, a failure
// when it was refused.
func TestAuditHostReconfig(t *testing.T) {
	sinks := map[int64]*auditSink{1: {}, 2: {}, 3: {}}
	c := newReconfigCluster(t, 3, nil, 7, func(cfg *Config) {
		cfg.AuditEnabled, cfg.AuditLogger = true, slog.New(sinks[cfg.ID])
	})
	for _, sink := range sinks {
		sink.Take() // serverStart
	}
	on := c.others(c.leader())[0]
	if _, err := c.reconfig(on, ReconfigRequest{}); err != nil { // a new version of the same servers
		t.Fatal(err)
	}
	if _, err := c.reconfig(on, ReconfigRequest{FromConfig: 1}); !errors.Is(err, zkerr.ErrBadVersion) {
		t.Fatalf("a reconfig from a stale version: %v", err)
	}
	c.settle()
	user := "user=" + systemUser()
	for id, sink := range sinks {
		var want []string
		if id == on {
			want = []string{
				auditLine("INFO", user, "operation=reconfig", "znode=/zookeeper/config", "result=success"),
				auditLine("ERROR", user, "operation=reconfig", "result=failure"),
			}
		}
		checkAudit(t, fmt.Sprintf("peer %d", id), sink.Take(), want)
	}
}

// TestAuditRefusedInProcess: writes refused for an invalid path before
// they leave the session are logged as ZooKeeper's prep logs them (the
// path as sent; a multi's multiOperation); other refusals (an unknown
// mode, an empty multi) log nothing.
func TestAuditRefusedInProcess(t *testing.T) {
	sink := &auditSink{}
	e := openTest(t, audited(testConfig(vfs.NewMem(), 1), sink))
	t.Cleanup(func() { e.Close() })
	ctx := testCtx(t)
	s := newSession(t, e)
	sink.Take()
	_, err := s.Create(ctx, "/a//b", nil, WithMode(ModeEphemeral))
	errs := []error{err}
	_, err = s.Set(ctx, "nope", nil, -1)
	errs = append(errs, err, s.Delete(ctx, "/a/", -1))
	_, err = s.SetACL(ctx, "/a/.", OpenACLUnsafe(), -1)
	errs = append(errs, err)
	_, err = s.Multi(ctx, CreateOp("/m", nil), DeleteOp("/x/../y", -1))
	errs = append(errs, err)
	_, err = s.Create(ctx, "/a", nil, WithMode(CreateMode(9)))
	errs = append(errs, err)
	_, err = s.Multi(ctx)
	for i, err := range append(errs, err) {
		if err == nil && i < len(errs) {
			t.Errorf("write %d succeeded", i)
		}
	}
	who := fmt.Sprintf("session=0x%x", s.ID())
	checkAudit(t, "refused", sink.Take(), []string{
		auditLine("ERROR", who, "operation=create", "znode=/a//b", "znode_type=ephemeral", "result=failure"),
		auditLine("ERROR", who, "operation=setData", "znode=nope", "result=failure"),
		auditLine("ERROR", who, "operation=delete", "znode=/a/", "result=failure"),
		auditLine("ERROR", who, "operation=setAcl", "znode=/a/.", "acl=world:anyone:cdrwa", "result=failure"),
		auditLine("ERROR", who, "operation=multiOperation", "result=failure"),
	})
}

// TestJavaHashSetOrder: a closed session's ephemerals in the order of
// ZooKeeper's clone of their HashSet, as JDK 17's jshell printed the
// clone of a HashSet the paths were added to in the order given (the
// first: TestAuditRefusalsAsRealZK's, as ZooKeeper 3.8 logged them).
func TestJavaHashSetOrder(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"/mc/e", "/p/e"}, []string{"/p/e", "/mc/e"}},
		{[]string{"/e1", "/e2"}, []string{"/e2", "/e1"}},
		{[]string{"/a", "/b/c", "/zz", "/q1", "/q2", "/lock-0000000001"}, []string{"/q2", "/b/c", "/a", "/lock-0000000001", "/zz", "/q1"}},
	} {
		if got := javaHashSetOrder(c.in); !slices.Equal(got, c.want) {
			t.Errorf("javaHashSetOrder(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestAuditRefusedAfterClose: a closed session's write with an invalid
// path is not audited: ZooKeeper's client has no connection any more, so
// no server sees it.
func TestAuditRefusedAfterClose(t *testing.T) {
	sink := &auditSink{}
	e := openTest(t, audited(testConfig(vfs.NewMem(), 1), sink))
	t.Cleanup(func() { e.Close() })
	ctx := testCtx(t)
	s := newSession(t, e)
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	sink.Take()
	_, err := s.Create(ctx, "bad", nil)
	t.Logf("create after close: %v", err)
	if got := sink.Take(); len(got) != 0 {
		t.Fatalf("audited after the session closed: %q", got)
	}
}
