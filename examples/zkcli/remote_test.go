package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/zkclient"
)

// TestRemoteSessionExpires: a -server session cut off from its server for
// longer than its timeout is expired by the server; when the shell gets
// through again it reports Expired and the session is CLOSED.
func TestRemoteSessionExpires(t *testing.T) {
	ens, err := zk.NewEnsemble(zk.Config{DataDir: t.TempDir(), ClientPort: -1, ClientPortAddress: "127.0.0.1", TickTime: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer ens.Close()
	p := newProxy(t, ens.ClientAddr())
	backend, err := dialRemote(p.addr())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sh := NewShell(ShellConfig{Backend: backend, Out: &out, Err: &out, SessionTimeout: time.Second})
	defer sh.Close() //nolint:errcheck // test cleanup
	if err := sh.Connect(); err != nil {
		t.Fatal(err)
	}
	sh.ExecuteLine("create -e /gone x")
	if !strings.Contains(out.String(), "Created /gone") {
		t.Fatalf("create -e /gone:\n%s", out.String())
	}
	p.setHold(true)
	p.cut()
	waitEvents(t, sh, &out, "state:Disconnected")
	// The peer expires the session once no connection carries it.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := ens.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx) //nolint:errcheck // test cleanup
	for {
		ok, _, err := s.Exists(ctx, "/gone")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.setHold(false)
	waitEvents(t, sh, &out, "state:Disconnected", "state:Expired")
	if got := sh.Prompt(); !strings.Contains(got, "(CLOSED)") {
		t.Errorf("prompt %q after expiry, want CLOSED", got)
	}
}

// TestRemoteSessionPings: an idle -server session outlives several of its
// timeouts: the client pings, and the server keeps the session.
func TestRemoteSessionPings(t *testing.T) {
	ens, err := zk.NewEnsemble(zk.Config{DataDir: t.TempDir(), ClientPort: -1, ClientPortAddress: "127.0.0.1", TickTime: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer ens.Close()
	backend, err := dialRemote(ens.ClientAddr())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sh := NewShell(ShellConfig{Backend: backend, Out: &out, Err: &out, SessionTimeout: time.Second})
	defer sh.Close() //nolint:errcheck // test cleanup
	if err := sh.Connect(); err != nil {
		t.Fatal(err)
	}
	sh.ExecuteLine("create -e /idle x")
	time.Sleep(2500 * time.Millisecond) // idle for several session timeouts
	out.Reset()
	sh.ExecuteLine("getEphemerals")
	if out.String() != "[/idle]\n" {
		t.Errorf("after idling: %q, want the session and its ephemeral kept, no event", out.String())
	}
}

// startPeer starts a standalone zk peer with a client port and returns its
// address; it stops at cleanup.
func startPeer(t *testing.T) string {
	t.Helper()
	ens, err := zk.NewEnsemble(zk.Config{DataDir: t.TempDir(), ClientPort: -1, ClientPortAddress: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ens.Close() })
	return ens.ClientAddr()
}

// remoteTranscript runs a session through the whole program with -server.
func remoteTranscript(t *testing.T, script, server string) string {
	t.Helper()
	var out bytes.Buffer
	code := run([]string{"-server", server, "-echo"}, strings.NewReader(script), &out, &out)
	fmt.Fprintf(&out, "[exit %d]\n", code)
	return out.String()
}

// checkRemoteTranscripts replays the sessions of TestTranscriptsMatchZkCli
// through -server, each on a fresh service (start starts n of them and
// returns their addresses), and compares them with real zkCli's.
func checkRemoteTranscripts(t *testing.T, start func(t *testing.T, n int) []string) {
	names := []string{"seeds", "errors", "quota", "data"}
	addrs := start(t, len(names))
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "real", name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			got := remoteTranscript(t, readSession(t, name), addrs[i])
			if d := diffLines(normalize(string(want)), normalize(got)); d != "" {
				t.Errorf("session %s over -server differs from zkCli's:\n%s", name, d)
			}
		})
	}
}

// TestTranscriptsRemotePeer: the shell over ZooKeeper's client protocol
// to a zk peer's client port prints what zkCli prints.
func TestTranscriptsRemotePeer(t *testing.T) {
	checkRemoteTranscripts(t, func(t *testing.T, n int) []string {
		addrs := make([]string, n)
		for i := range addrs {
			addrs[i] = startPeer(t)
		}
		return addrs
	})
}

// TestTranscriptsRemoteRealZooKeeper: the same sessions against a real
// ZooKeeper 3.8 (Debian's), so the client is checked against the
// reference server too.
//
// It runs in parallel with TestRandomLines, the package's long test.
func TestTranscriptsRemoteRealZooKeeper(t *testing.T) {
	t.Parallel()
	checkRemoteTranscripts(t, startRealZKs)
}

// TestServerFlagUnreachable: -server to an address nothing listens on
// fails with a clear message and exit code 1; a malformed one too.
func TestServerFlagUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, server := range []string{addr, "nocolon"} {
		var out, errw bytes.Buffer
		code := run([]string{"-server", server, "ls", "/"}, strings.NewReader(""), &out, &errw)
		if code != 1 || errw.Len() == 0 {
			t.Errorf("-server %s: exit %d, stderr %q", server, code, errw.String())
		}
	}
}

// proxy forwards TCP connections to a target until its connections are
// cut (cut) or it is closed.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	hold   bool // connections are accepted and closed at once
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		hold := p.hold
		p.mu.Unlock()
		if hold {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); io.Copy(s, c); s.Close() }()
		go func() { defer p.wg.Done(); io.Copy(c, s); c.Close() }()
	}
}

// setHold makes the proxy close new connections at once (true) or forward
// them again (false).
func (p *proxy) setHold(h bool) {
	p.mu.Lock()
	p.hold = h
	p.mu.Unlock()
}

// cut closes every connection it carries (the listener stays).
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) close() {
	p.ln.Close()
	p.cut()
	p.wg.Wait()
}

// TestRemoteSessionMoves: the connection under a -server session is cut;
// the shell reports Disconnected, moves the session to the next address
// of its list (another proxy to the same peer) and reports SyncConnected;
// its ephemeral node and its watch survive the move.
func TestRemoteSessionMoves(t *testing.T) {
	peer := startPeer(t)
	a, b := newProxy(t, peer), newProxy(t, peer)
	backend, err := dialRemote(a.addr() + "," + b.addr())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sh := NewShell(ShellConfig{Backend: backend, Out: &out, Err: &out, SessionTimeout: 4 * time.Second})
	defer sh.Close() //nolint:errcheck // test cleanup
	if err := sh.Connect(); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"create -e /eph x", "get -w /eph"} {
		sh.ExecuteLine(line)
	}
	a.cut()
	waitEvents(t, sh, &out, "state:Disconnected", "state:SyncConnected")
	out.Reset()
	sh.ExecuteLine("set /eph y")
	sh.ExecuteLine("getEphemerals")
	want := "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/eph\n"
	if !strings.Contains(out.String(), "[/eph]") || !strings.Contains(out.String(), want) {
		t.Errorf("after the move:\n%s\nwant the ephemeral kept and the watch fired", out.String())
	}
}

// waitEvents prints the shell's events until out holds each of want, in
// order (the reconnect happens in the background).
func waitEvents(t *testing.T, sh *Shell, out *bytes.Buffer, want ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		sh.PrintEvents()
		s, ok := out.String(), true
		for _, w := range want {
			i := strings.Index(s, w)
			if i < 0 {
				ok = false
				break
			}
			s = s[i+len(w):]
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events %q did not come; output:\n%s", want, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Debian's ZooKeeper 3.8, started as internal/wire's tests start it.
var zkJars = []string{
	"/usr/share/java/zookeeper.jar", "/usr/share/java/zookeeper-jute.jar", "/usr/share/java/slf4j-api.jar",
	"/usr/share/java/netty-all.jar", "/usr/share/java/metrics-core.jar", "/usr/share/java/commons-cli.jar",
	"/usr/share/java/commons-io.jar", "/usr/share/java/snappy-java.jar",
}

// startRealZKs starts n standalone ZooKeepers, each in a temporary
// directory, all at once (a JVM takes seconds to start), and returns their
// client addresses; they are killed at cleanup.
func startRealZKs(t *testing.T, n int) []string {
	t.Helper()
	for _, p := range append([]string{"/usr/bin/java"}, zkJars...) {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: this test needs Debian's zookeeper (apt-get install -y zookeeper)", p)
		}
	}
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = startRealZK(t)
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, addr := range addrs {
		for !zkServing(addr) {
			if time.Now().After(deadline) {
				t.Fatalf("ZooKeeper at %s did not serve within 60s", addr)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return addrs
}

// startRealZK starts one ZooKeeper without waiting for it.
func startRealZK(t *testing.T) string {
	port := freePort(t)
	dir := t.TempDir()
	runRealZK(t, dir, fmt.Sprintf("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n", dir, port), zkJars)
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// freePort is a port nothing listens on (for a server that binds it
// next).
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// runRealZK writes cfg as dir's zoo.cfg and starts a ZooKeeper on it with
// jars, its output in dir's zk.log; it is killed at cleanup.
func runRealZK(t *testing.T, dir, cfg string, jars []string) {
	if err := os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:CICompilerCount=1", "-Dzookeeper.extendedTypesEnabled=true",
		"-Dzookeeper.4lw.commands.whitelist=*", "-cp", strings.Join(jars, ":"),
		"org.apache.zookeeper.server.ZooKeeperServerMain", filepath.Join(dir, "zoo.cfg"))
	logf, err := os.Create(filepath.Join(dir, "zk.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
}

func zkServing(addr string) bool {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(2 * time.Second))
	nc.Write([]byte("srvr"))
	b, _ := io.ReadAll(nc)
	return strings.Contains(string(b), "Mode: ")
}

// TestConnectCommandMovesToServer: "connect host:port" in a shell on the
// embedded peer opens a session on the server there and leaves the
// embedded one; its writes land on the server.
func TestConnectCommandMovesToServer(t *testing.T) {
	peer := startPeer(t)
	var out bytes.Buffer
	code := run([]string{"-data", t.TempDir()}, strings.NewReader("connect "+peer+"\ncreate /moved m\nquit\n"), &out, &out)
	if code != 0 || !strings.Contains(out.String(), "Created /moved") {
		t.Fatalf("exit %d, output:\n%s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"-server", peer, "get", "/moved"}, strings.NewReader(""), &out, &out); code != 0 || !strings.HasSuffix(out.String(), "\nm\n") {
		t.Errorf("get /moved on the server: exit %d, output:\n%s", code, out.String())
	}
}

// TestRemoteCallDuringOutage: while no server takes the session back, a
// command fails with ConnectionLoss at the next failed attempt, as zkCli's
// do (the Java client fails its queued requests then), instead of waiting
// for a server; the shell's call timeout here is ten minutes, so only
// that failure can end the call. Once a server takes the session back,
// commands run again on it.
func TestRemoteCallDuringOutage(t *testing.T) {
	p := newProxy(t, startPeer(t))
	backend, err := dialRemote(p.addr())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sh := NewShell(ShellConfig{Backend: backend, Out: &out, Err: &out, SessionTimeout: 10 * time.Second,
		CallTimeout: 10 * time.Minute})
	defer sh.Close() //nolint:errcheck // test cleanup
	if err := sh.Connect(); err != nil {
		t.Fatal(err)
	}
	p.setHold(true)
	p.cut()
	waitEvents(t, sh, &out, "state:Disconnected")
	out.Reset()
	sh.ExecuteLine("create /during x")
	if got := out.String(); !strings.Contains(got, "KeeperErrorCode = ConnectionLoss for /during") {
		t.Fatalf("create during the outage:\n%s", got)
	}
	p.setHold(false)
	waitEvents(t, sh, &out, "state:SyncConnected")
	out.Reset()
	sh.ExecuteLine("stat /during")
	sh.ExecuteLine("create /after y")
	if got := out.String(); !strings.Contains(got, "Node does not exist: /during") || !strings.Contains(got, "Created /after") {
		t.Fatalf("after the outage:\n%s", got)
	}
}

// TestRemoteChrootAndDefaultPort: a connect string's "/chroot" roots the
// session there, as zkCli's: paths are sent under it, and created paths
// and events come back without it; a host without a port means 2181.
func TestRemoteChrootAndDefaultPort(t *testing.T) {
	addr := startPeer(t)
	var out bytes.Buffer
	if code := run([]string{"-server", addr, "create", "/app"}, strings.NewReader(""), &out, &out); code != 0 {
		t.Fatalf("create /app: exit %d\n%s", code, out.String())
	}
	out.Reset()
	script := "create /x 1\ncreate -s /s- v\nls /\nget -w /x\nset /x 2\nstat /\n"
	if code := run([]string{"-server", addr + "/app"}, strings.NewReader(script), &out, &out); code != 0 {
		t.Fatalf("the chrooted session: exit %d\n%s", code, out.String())
	}
	for _, want := range []string{"Created /x\n", "Created /s-0000000001\n", "[s-0000000001, x]\n",
		"WatchedEvent state:SyncConnected type:NodeDataChanged path:/x\n", "numChildren = 2\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in the chrooted session's output:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := run([]string{"-server", addr, "ls", "/app"}, strings.NewReader(""), &out, &out); code != 0 ||
		!strings.HasSuffix(out.String(), "[s-0000000001, x]\n") {
		t.Errorf("ls /app without the chroot: exit %d\n%s", code, out.String())
	}
	servers, chroot, err := zkclient.ParseConnectString("h1,h2:,[::1]:2182/a/b")
	if err != nil || strings.Join(servers, " ") != "h1:2181 h2:2181 [::1]:2182" || chroot != "/a/b" {
		t.Errorf("ParseConnectString: %q %q %v", servers, chroot, err)
	}
	for _, bad := range []string{"h/a/", "h//a", "h/a/../b"} {
		if _, _, err := zkclient.ParseConnectString(bad); err == nil {
			t.Errorf("ParseConnectString(%q) took a bad chroot", bad)
		}
	}
}
