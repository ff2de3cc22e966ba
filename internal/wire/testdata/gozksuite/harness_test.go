package zk

// This file is zk's, not go-zookeeper's. TestGoZookeeperSuite (in
// internal/wire) runs go-zookeeper v1.0.4's own test suite against zk
// servers: it copies the suite with this file in place of its
// server_java_test.go and server_help_test.go, so every server the suite
// starts is a zk peer, examples/server run on the zoo.cfg the suite asks
// for, with the names and behaviour its tests use.
//
// The environment says how: ZK_SUITE_SERVER is the examples/server binary,
// ZK_SUITE_CLIENT_IO (optional) zoo.cfg's zk.clientIO. Servers listen on
// 127.0.0.1 only; a stopped server is killed (SIGKILL), as the suite kills
// ZooKeeper's.

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	_testConfigName   = "zoo.cfg"
	_testMyIDFileName = "myid"

	// suiteSuperDigest is the digest of super:test, the super user the
	// suite's reconfig tests authenticate as.
	suiteSuperDigest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
)

// ServerConfigServer is one server.N line.
type ServerConfigServer struct {
	ID                 int
	Host               string
	PeerPort           int
	LeaderElectionPort int
}

// ServerConfig is what a server's zoo.cfg says.
type ServerConfig struct {
	TickTime                 int
	InitLimit                int
	SyncLimit                int
	DataDir                  string
	ClientPort               int
	AutoPurgeSnapRetainCount int
	AutoPurgePurgeInterval   int
	Servers                  []ServerConfigServer
}

// Marshall writes the zoo.cfg; more than one server makes it replicated.
func (sc ServerConfig) Marshall(w io.Writer) error {
	if sc.DataDir == "" {
		return fmt.Errorf("zk suite: no dataDir")
	}
	lines := []string{
		"dataDir=" + sc.DataDir,
		fmt.Sprintf("tickTime=%d", orDefault(sc.TickTime, 500)),
		fmt.Sprintf("initLimit=%d", orDefault(sc.InitLimit, 10)),
		fmt.Sprintf("syncLimit=%d", orDefault(sc.SyncLimit, 5)),
		fmt.Sprintf("clientPort=%d", orDefault(sc.ClientPort, DefaultPort)),
		"clientPortAddress=127.0.0.1",
		"admin.enableServer=false",
		"reconfigEnabled=true",
		"4lw.commands.whitelist=*",
		"DigestAuthenticationProvider.superDigest=" + suiteSuperDigest,
	}
	if clientIO := os.Getenv("ZK_SUITE_CLIENT_IO"); clientIO != "" {
		lines = append(lines, "zk.clientIO="+clientIO)
	}
	if sc.AutoPurgePurgeInterval > 0 {
		lines = append(lines, fmt.Sprintf("autopurge.purgeInterval=%d", sc.AutoPurgePurgeInterval),
			fmt.Sprintf("autopurge.snapRetainCount=%d", orDefault(sc.AutoPurgeSnapRetainCount, 3)))
	}
	if len(sc.Servers) > 1 {
		for _, s := range sc.Servers {
			lines = append(lines, fmt.Sprintf("server.%d=%s:%d:%d", s.ID, s.Host,
				orDefault(s.PeerPort, 2888), orDefault(s.LeaderElectionPort, 3888)))
		}
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
}

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// server is one zk peer process, started and killed as the suite asks.
type server struct {
	bin, cfg, secret string
	stdout, stderr   io.Writer
	cmd              *exec.Cmd
	cancel           context.CancelFunc
}

// NewIntegrationTestServer prepares a zk peer for the zoo.cfg at
// configPath; the peers of one test process share one secret.
func NewIntegrationTestServer(t *testing.T, configPath string, stdout, stderr io.Writer) (*server, error) {
	bin := os.Getenv("ZK_SUITE_SERVER")
	if bin == "" {
		return nil, fmt.Errorf("zk suite: ZK_SUITE_SERVER names no examples/server binary")
	}
	secret := filepath.Join(filepath.Dir(configPath), "peer.secret")
	key := fmt.Sprintf("go-zookeeper suite, process %d, zk peers' shared secret\n", os.Getpid())
	if err := os.WriteFile(secret, []byte(key), 0o600); err != nil {
		return nil, err
	}
	return &server{bin: bin, cfg: configPath, secret: secret, stdout: stdout, stderr: stderr}, nil
}

func (s *server) Start() error {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.cmd = exec.CommandContext(ctx, s.bin, "-config", s.cfg, "-secret-file", s.secret)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	return s.cmd.Start()
}

func (s *server) Stop() error {
	s.cancel()
	return s.cmd.Wait()
}

// TestServer is one server of a TestCluster.
type TestServer struct {
	Port   int
	Path   string
	Srv    *server
	Config ServerConfigServer
}

// TestCluster is the servers one test started.
type TestCluster struct {
	Path    string
	Config  ServerConfig
	Servers []TestServer
}

// StartTestCluster starts size servers (one standalone, more replicated)
// and waits until each serves.
func StartTestCluster(t *testing.T, size int, stdout, stderr io.Writer) (*TestCluster, error) {
	t.Helper()
	dir := t.TempDir()
	base := 10000 + rand.Intn(6000) // below Linux's ephemeral ports, as the suite's own choices
	tc := &TestCluster{Path: dir}
	var members []ServerConfigServer
	for i := 1; i <= size; i++ {
		members = append(members, ServerConfigServer{ID: i, Host: "127.0.0.1", PeerPort: base + 3*i + 1, LeaderElectionPort: base + 3*i + 2})
	}
	for i := 1; i <= size; i++ {
		path := filepath.Join(dir, fmt.Sprintf("srv%d", i))
		cfg := ServerConfig{ClientPort: base + 3*i, DataDir: path, Servers: members}
		srv, err := writeServer(t, path, i, cfg, stdout, stderr)
		if err == nil {
			err = srv.Start()
		}
		if err != nil {
			tc.Stop()
			return nil, err
		}
		tc.Config = cfg
		tc.Servers = append(tc.Servers, TestServer{Port: cfg.ClientPort, Path: path, Srv: srv, Config: members[i-1]})
	}
	if err := tc.waitForStart(30, time.Second); err != nil {
		tc.Stop()
		return nil, err
	}
	return tc, nil
}

// writeServer writes one server's data directory, zoo.cfg and myid.
func writeServer(t *testing.T, path string, id int, cfg ServerConfig, stdout, stderr io.Writer) (*server, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, err
	}
	var b strings.Builder
	if err := cfg.Marshall(&b); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(path, _testConfigName)
	if err := os.WriteFile(cfgPath, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(path, _testMyIDFileName), []byte(fmt.Sprintf("%d\n", id)), 0o600); err != nil {
		return nil, err
	}
	return NewIntegrationTestServer(t, cfgPath, stdout, stderr)
}

func (tc *TestCluster) addrs() []string {
	var out []string
	for _, s := range tc.Servers {
		out = append(out, fmt.Sprintf("127.0.0.1:%d", s.Port))
	}
	return out
}

func (tc *TestCluster) Connect(idx int) (*Conn, <-chan Event, error) {
	return Connect(tc.addrs()[idx:idx+1], 15*time.Second)
}

func (tc *TestCluster) ConnectAll() (*Conn, <-chan Event, error) {
	return tc.ConnectAllTimeout(15 * time.Second)
}

func (tc *TestCluster) ConnectAllTimeout(sessionTimeout time.Duration) (*Conn, <-chan Event, error) {
	return tc.ConnectWithOptions(sessionTimeout)
}

func (tc *TestCluster) ConnectWithOptions(sessionTimeout time.Duration, options ...connOption) (*Conn, <-chan Event, error) {
	return Connect(tc.addrs(), sessionTimeout, options...)
}

// Stop kills every server and waits until none answers ruok.
func (tc *TestCluster) Stop() error {
	for _, s := range tc.Servers {
		s.Srv.Stop()
	}
	return tc.waitForStop(5, time.Second)
}

// waitForStart waits until every server's srvr shows it serving (a Mode
// line: a peer that does not serve answers srvr without one).
func (tc *TestCluster) waitForStart(tries int, pause time.Duration) error {
	for i := 0; i < tries; i++ {
		serving := 0
		for _, addr := range tc.addrs() {
			if out, err := fourLetterWord(addr, "srvr", time.Second); err == nil && strings.Contains(string(out), "\nMode: ") {
				serving++
			}
		}
		if serving == len(tc.Servers) {
			return nil
		}
		time.Sleep(pause)
	}
	return fmt.Errorf("zk suite: the servers did not all serve")
}

// waitForStop waits until no server answers ruok.
func (tc *TestCluster) waitForStop(tries int, pause time.Duration) error {
	for i := 0; i < tries; i++ {
		up := false
		for _, ok := range FLWRuok(tc.addrs(), time.Second) {
			up = up || ok
		}
		if !up {
			return nil
		}
		time.Sleep(pause)
	}
	return fmt.Errorf("zk suite: a server still answers")
}

func (tc *TestCluster) server(addr string) TestServer {
	for _, s := range tc.Servers {
		if strings.HasSuffix(addr, fmt.Sprintf(":%d", s.Port)) {
			return s
		}
	}
	panic("zk suite: no server " + addr)
}

func (tc *TestCluster) StartServer(addr string) { tc.server(addr).Srv.Start() }

func (tc *TestCluster) StopServer(addr string) { tc.server(addr).Srv.Stop() }

func (tc *TestCluster) StartAllServers() error {
	for _, s := range tc.Servers {
		if err := s.Srv.Start(); err != nil {
			return err
		}
	}
	return tc.waitForStart(10, 2*time.Second)
}

func (tc *TestCluster) StopAllServers() error {
	for _, s := range tc.Servers {
		s.Srv.Stop()
	}
	return tc.waitForStop(5, time.Second)
}

// waitForSession waits for the connection's next event, or ctx.
func waitForSession(ctx context.Context, events <-chan Event) error {
	select {
	case _, ok := <-events:
		if !ok {
			return fmt.Errorf("zk suite: the connection ended first")
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func requireNoErrorf(t *testing.T, err error, msgAndArgs ...interface{}) {
	t.Helper()
	if err != nil {
		t.Logf("unexpected error: %v", err)
		t.Fatal(msgAndArgs...)
	}
}
