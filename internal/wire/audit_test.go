package wire_test

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/testbuf"
	gozk "github.com/go-zookeeper/zk"
)

// auditSink keeps the audit lines.
type auditSink = testbuf.Records

// auditScenario runs, with go-zookeeper against addr, a write of every
// audited kind, succeeded and failed, by a session authenticated as alice;
// then that session closes, dropping its ephemeral, and a second session,
// authenticated as bob, writes once the deletion is seen (its answer comes after the deletion
// is logged). It returns the two sessions' ids.
func auditScenario(t *testing.T, addr string) (first, second int64) {
	c, _ := dial(t, addr)
	must(t, c.AddAuth("digest", []byte("alice:pw")))
	_, err := c.Create("/a", []byte("1"), 0, open)
	must(t, err)
	_, err = c.Create("/a", nil, 0, open)
	wantErr(t, err, gozk.ErrNodeExists)
	eph, err := c.Create("/a/s-", nil, gozk.FlagEphemeral|gozk.FlagSequence, open)
	must(t, err)
	_, err = c.CreateContainer("/box", nil, gozk.FlagContainer, open)
	must(t, err)
	_, err = c.Set("/a", []byte("2"), 0)
	must(t, err)
	_, err = c.Set("/a", []byte("3"), 0)
	wantErr(t, err, gozk.ErrBadVersion)
	_, err = c.SetACL("/a", append(gozk.AuthACL(gozk.PermAll), gozk.WorldACL(gozk.PermRead)...), -1)
	must(t, err)
	_, err = c.SetACL("/a", open, 9)
	wantErr(t, err, gozk.ErrBadVersion)
	wantErr(t, c.Delete("/nope", -1), gozk.ErrNoNode)
	must(t, c.Delete("/box", -1))
	_, _, err = c.Get("/a")
	must(t, err)
	_, err = c.Multi(&gozk.CreateRequest{Path: "/m", Acl: open}, &gozk.CreateRequest{Path: "/m/q-", Acl: open, Flags: gozk.FlagSequence},
		&gozk.SetDataRequest{Path: "/m", Data: []byte("x"), Version: -1}, &gozk.CheckVersionRequest{Path: "/m", Version: 1},
		&gozk.DeleteRequest{Path: "/m/q-0000000000", Version: -1})
	must(t, err)
	_, err = c.Multi(&gozk.CreateRequest{Path: "/x", Acl: open}, &gozk.DeleteRequest{Path: "/nope", Version: -1})
	wantErr(t, err, gozk.ErrNoNode)
	_, err = c.IncrementalReconfig(nil, []string{"2"}, -1)
	wantErr(t, err, gozk.ErrReconfigDisabled)

	c2, _ := dial(t, addr)
	must(t, c2.AddAuth("digest", []byte("bob:pw")))
	_, _, gone, err := c2.ExistsW(eph)
	must(t, err)
	first = c.SessionID()
	c.Close()
	if ev := nextEvent(t, gone); ev.Type != gozk.EventNodeDeleted {
		t.Fatalf("the closed session's ephemeral: %+v", ev)
	}
	_, err = c2.Create("/after", nil, 0, open)
	must(t, err)
	return first, c2.SessionID()
}

// TestAuditGoZK: the audit events of go-zookeeper's writes on the client
// port name the client's address as ip and, with the digest user, as user;
// a reconfig is logged; a closed session's ephemeral is logged as deleted
// by the server's user. The same scenario as TestAuditAsRealZK.
func TestAuditGoZK(t *testing.T) {
	sink := &auditSink{}
	cfg := peerConfig()
	cfg.AuditEnabled, cfg.AuditLogger = true, slog.New(sink)
	e := startPeer(t, cfg)
	first, second := auditScenario(t, e.ClientAddr())
	me, err := user.Current()
	must(t, err)
	s1 := fmt.Sprintf("session=0x%x\tuser=127.0.0.1,alice\tip=127.0.0.1\t", first)
	// bob before the address, alice after it: the order of ZooKeeper's
	// hash set of a connection's identities.
	s2 := fmt.Sprintf("session=0x%x\tuser=bob,127.0.0.1\tip=127.0.0.1\t", second)
	want := []string{
		"INFO user=" + me.Username + "\toperation=serverStart\tresult=success",
		"INFO " + s1 + "operation=create\tznode=/a\tznode_type=persistent\tresult=success",
		"ERROR " + s1 + "operation=create\tznode=/a\tznode_type=persistent\tresult=failure",
		"INFO " + s1 + "operation=create\tznode=/a/s-0000000000\tznode_type=ephemeral_sequential\tresult=success",
		"INFO " + s1 + "operation=create\tznode=/box\tznode_type=container\tresult=success",
		"INFO " + s1 + "operation=setData\tznode=/a\tresult=success",
		"ERROR " + s1 + "operation=setData\tznode=/a\tresult=failure",
		"INFO " + s1 + "operation=setAcl\tznode=/a\tacl=auth::cdrwaworld:anyone:r\tresult=success",
		"ERROR " + s1 + "operation=setAcl\tznode=/a\tacl=world:anyone:cdrwa\tresult=failure",
		"ERROR " + s1 + "operation=delete\tznode=/nope\tresult=failure",
		"INFO " + s1 + "operation=delete\tznode=/box\tresult=success",
		"INFO " + s1 + "operation=create\tznode=/m\tznode_type=persistent\tresult=success",
		"INFO " + s1 + "operation=create\tznode=/m/q-0000000000\tresult=success",
		"INFO " + s1 + "operation=setData\tznode=/m\tresult=success",
		"INFO " + s1 + "operation=delete\tznode=/m/q-0000000000\tresult=success",
		"ERROR " + s1 + "operation=multiOperation\tresult=failure",
		"ERROR " + s1 + "operation=reconfig\tresult=failure",
		fmt.Sprintf("INFO session=0x%x\tuser=%s\toperation=ephemeralZNodeDeletionOnSessionCloseOrExpire\tznode=/a/s-0000000000\tresult=success", first, me.Username),
		"INFO " + s2 + "operation=create\tznode=/after\tznode_type=persistent\tresult=success",
	}
	if got := sink.Take(); !slices.Equal(got, want) {
		t.Errorf("audit log\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAuditTTLWire: a createTTL on the client port is logged (ZooKeeper
// 3.8.0 logs none outside a multi; 3.9.4 does, ZOOKEEPER-4725).
func TestAuditTTLWire(t *testing.T) {
	sink := &auditSink{}
	cfg := peerConfig()
	cfg.AuditEnabled, cfg.AuditLogger = true, slog.New(sink)
	e := startPeer(t, cfg)
	c, _ := dial(t, e.ClientAddr())
	_, err := c.CreateTTL("/t", nil, gozk.FlagTTL, open, time.Minute)
	must(t, err)
	want := fmt.Sprintf("INFO session=0x%x\tuser=127.0.0.1\tip=127.0.0.1\toperation=create\tznode=/t\tznode_type=persistent_with_ttl\tresult=success", c.SessionID())
	if got := sink.Take(); len(got) != 2 || got[1] != want {
		t.Errorf("audit log\n%s\nwant serverStart, then\n%s", strings.Join(got, "\n"), want)
	}
}

// TestAuditAsRealZK runs auditScenario on a real ZooKeeper 3.8 with
// audit.enable=true in its zoo.cfg and on zk: the events are the same,
// field for field, once the session ids are named alike.
func TestAuditAsRealZK(t *testing.T) {
	addr, logPath := startAuditZK(t)
	first, second := auditScenario(t, addr)
	b, err := os.ReadFile(logPath)
	must(t, err)
	real := realAuditLines(string(b), first, second)

	sink := &auditSink{}
	cfg := peerConfig()
	cfg.AuditEnabled, cfg.AuditLogger = true, slog.New(sink)
	e := startPeer(t, cfg)
	first, second = auditScenario(t, e.ClientAddr())
	ours := renameSessions(sink.Take(), first, second)
	if !slices.Equal(ours, real) {
		t.Errorf("zk's audit log\n%s\nZooKeeper's\n%s", strings.Join(ours, "\n"), strings.Join(real, "\n"))
	}
}

// realAuditLines picks the audit events out of a ZooKeeper server's
// slf4j-simple log ("[thread] LEVEL logger - message"), as "LEVEL message".
func realAuditLines(log string, first, second int64) []string {
	const logger = " org.apache.zookeeper.audit.Slf4jAuditLogger - "
	var out []string
	for _, line := range strings.Split(log, "\n") {
		head, msg, ok := strings.Cut(line, logger)
		if !ok {
			continue
		}
		level := head[strings.LastIndexByte(head, ' ')+1:]
		out = append(out, level+" "+msg)
	}
	return renameSessions(out, first, second)
}

// renameSessions names the two sessions' ids first and second.
func renameSessions(lines []string, first, second int64) []string {
	r := strings.NewReplacer(fmt.Sprintf("session=0x%x\t", first), "session=first\t",
		fmt.Sprintf("session=0x%x\t", second), "session=second\t")
	for i := range lines {
		lines[i] = r.Replace(lines[i])
	}
	return lines
}

// startAuditZK starts a standalone ZooKeeper 3.8 with audit.enable=true,
// logging through slf4j-simple, and returns its client address and log.
func startAuditZK(t *testing.T) (string, string) {
	dir := t.TempDir()
	port := freePort(t)
	cfg := fmt.Sprintf("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\naudit.enable=true\n", dir, port)
	runZooCfg(t, dir, cfg, append(slices.Clone(zkJars), "/usr/share/java/slf4j-simple.jar"))
	logPath := filepath.Join(dir, "zk.log")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitZK(t, addr)
	return addr, logPath
}

// TestAuditIPv6Loopback: over ::1 the audit log's user and ip, cons and
// dump write the client's address as ZooKeeper (Java 17) does:
// 0:0:0:0:0:0:0:1, bracketed before the port, where Go writes ::1.
func TestAuditIPv6Loopback(t *testing.T) {
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skip("no IPv6 loopback:", err)
	} else {
		ln.Close()
	}
	sink := &auditSink{}
	cfg := peerConfig()
	cfg.ClientPortAddress = "::1"
	cfg.AuditEnabled, cfg.AuditLogger = true, slog.New(sink)
	e := startPeer(t, cfg)
	c, _ := dial(t, e.ClientAddr())
	_, err := c.Create("/a", nil, 0, open)
	must(t, err)
	const ip = "0:0:0:0:0:0:0:1"
	want := fmt.Sprintf("INFO session=0x%x\tuser=%s\tip=%s\toperation=create\tznode=/a\tznode_type=persistent\tresult=success", c.SessionID(), ip, ip)
	if got := sink.Take(); len(got) != 2 || got[1] != want {
		t.Errorf("audit log\n%s\nwant serverStart, then\n%s", strings.Join(got, "\n"), want)
	}
	for word, prefix := range map[string]string{"cons": " /[", "dump": "ip: /["} {
		if out := fourLetter(t, e.ClientAddr(), word); !strings.Contains(out, prefix+ip+"]:") {
			t.Errorf("%s:\n%s\nwant the client as %s%s]:port", word, out, prefix, ip)
		}
	}
}

// TestAuditReconfigOnce: a reconfig request that commits is logged once,
// as the session's (not again as a call of the host's Ensemble.Reconfig,
// which the client protocol runs it on).
func TestAuditReconfigOnce(t *testing.T) {
	sink := &auditSink{}
	c := startReconfigClusterWith(t, 50*time.Millisecond, func(cfg *engine.Config) {
		if cfg.ID == 1 {
			cfg.AuditEnabled, cfg.AuditLogger = true, slog.New(sink)
		}
	})
	conn, _ := superDial(t, c.peers[1].ClientAddr())
	_, err := conn.IncrementalReconfig(nil, []string{"9"}, -1) // no member to remove: a new version
	must(t, err)
	var got []string
	for _, l := range sink.Take() {
		if strings.Contains(l, "operation=reconfig") {
			got = append(got, l)
		}
	}
	want := fmt.Sprintf("INFO session=0x%x\t", conn.SessionID())
	if len(got) != 1 || !strings.HasPrefix(got[0], want) || !strings.HasSuffix(got[0], "\tznode=/zookeeper/config\tresult=success") {
		t.Errorf("reconfig events\n%s\nwant one, %s...", strings.Join(got, "\n"), want)
	}
}
