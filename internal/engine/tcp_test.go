package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// tcpCluster is n peers in this process over real TCP on 127.0.0.1, with
// real clocks, on the given file systems.
type tcpCluster struct {
	t    testing.TB
	cfgs []Config
	ens  []*Ensemble
}

func newTCPCluster(t testing.TB, n int, tick time.Duration, fs func(i int) (vfs.FS, string)) *tcpCluster {
	t.Helper()
	ports := freePorts(t, n)
	var servers []Server
	for i := 0; i < n; i++ {
		servers = append(servers, Server{ID: int64(i + 1), Host: "127.0.0.1", QuorumPort: ports[i], ElectionPort: ports[i]})
	}
	c := &tcpCluster{t: t}
	for i := 0; i < n; i++ {
		f, dir := fs(i)
		c.cfgs = append(c.cfgs, Config{
			ID: int64(i + 1), DataDir: dir, FS: f, Servers: servers, TickTime: tick,
			PeerSecret: []byte("tcp-cluster-test-secret"), SnapCount: 1 << 30,
		})
		c.ens = append(c.ens, nil)
		c.start(i)
	}
	t.Cleanup(c.close)
	return c
}

func (c *tcpCluster) start(i int) {
	c.t.Helper()
	e, err := NewEnsemble(c.cfgs[i])
	if err != nil {
		c.t.Fatalf("peer %d: %v", i+1, err)
	}
	c.ens[i] = e
}

func (c *tcpCluster) close() {
	for i, e := range c.ens {
		if e != nil {
			e.Close()
			c.ens[i] = nil
		}
	}
}

// waitServing waits (real time, bounded) until every running peer serves.
func (c *tcpCluster) waitServing(ctx context.Context) {
	c.t.Helper()
	for _, e := range c.ens {
		if e != nil {
			if err := e.WaitServing(ctx); err != nil {
				c.t.Fatalf("waiting for the ensemble: %v", err)
			}
		}
	}
}

func (c *tcpCluster) leader() int {
	for i, e := range c.ens {
		if e != nil && e.Status().Mode == ModeLeading && e.Status().Serving {
			return i
		}
	}
	return -1
}

// TestTCPEnsemble runs 3 peers over TCP: they elect a leader, a write made
// through a follower commits everywhere, and a session's ephemeral made on
// one peer is seen on the others.
func TestTCPEnsemble(t *testing.T) {
	c := newTCPCluster(t, 3, 100*time.Millisecond, func(int) (vfs.FS, string) { return vfs.NewMem(), "/zk" })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c.waitServing(ctx)
	l := c.leader()
	f := (l + 1) % 3
	s, err := c.ens[f].NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "/tcp", []byte("x"), WithMode(ModeEphemeral)); err != nil {
		t.Fatal(err)
	}
	for i, e := range c.ens {
		other, err := e.NewSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := other.Sync(ctx, "/"); err != nil {
			t.Fatal(err)
		}
		if ok, st, err := other.Exists(ctx, "/tcp"); !ok || err != nil || st.EphemeralOwner != s.ID() {
			t.Fatalf("peer %d: exists %v %+v %v", i+1, ok, st, err)
		}
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	other, _ := c.ens[l].NewSession(ctx)
	if err := other.Sync(ctx, "/"); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := other.Exists(ctx, "/tcp"); ok {
		t.Fatal("the ephemeral outlived its session on the leader")
	}
}

// writeRetrying retries a create until it commits (through elections).
func writeRetrying(ctx context.Context, s *Session, path string) error {
	for {
		_, err := s.Create(ctx, path, nil)
		switch {
		case err == nil, errors.Is(err, ErrNodeExists):
			return nil
		case errors.Is(err, ErrConnectionLoss):
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
			case <-time.After(time.Millisecond):
			}
		default:
			return err
		}
	}
}

// TestQuorumListenOnAllIPs: a peer whose own server line names an address
// the host does not have (behind NAT, say) fails to start (or, where the
// host binds addresses it lacks, listens only there); with
// QuorumListenOnAllIPs (zoo.cfg quorumListenOnAllIPs=true) it listens on
// every address at that line's quorum port, as ZooKeeper does.
func TestQuorumListenOnAllIPs(t *testing.T) {
	ports := freePorts(t, 3)
	servers := []Server{
		{ID: 1, Host: "192.0.2.1", QuorumPort: ports[0], ElectionPort: ports[0]}, // TEST-NET-1: not this host's
		{ID: 2, Host: "127.0.0.1", QuorumPort: ports[1], ElectionPort: ports[1]},
		{ID: 3, Host: "127.0.0.1", QuorumPort: ports[2], ElectionPort: ports[2]},
	}
	cfg := Config{ID: 1, DataDir: "/zk", FS: vfs.NewMem(), Servers: servers, PeerSecret: []byte("tcp-cluster-test-secret")}
	local := net.JoinHostPort("127.0.0.1", fmt.Sprint(ports[0]))
	if e, err := NewEnsemble(cfg); err == nil { // net.ipv4.ip_nonlocal_bind=1
		nc, err := net.DialTimeout("tcp", local, 5*time.Second)
		e.Close()
		if err == nil {
			nc.Close()
			t.Fatal("without QuorumListenOnAllIPs the peer listens on 127.0.0.1 too")
		}
	}
	cfg.FS, cfg.QuorumListenOnAllIPs = vfs.NewMem(), true
	e, err := NewEnsemble(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	nc, err := net.DialTimeout("tcp", local, 5*time.Second)
	if err != nil {
		t.Fatalf("the quorum port on every address: %v", err)
	}
	nc.Close()
	zc, _, err := ParseZooCfg(strings.NewReader("quorumListenOnAllIPs=TRUE\n"), nil)
	if err != nil || !zc.QuorumListenOnAllIPs {
		t.Errorf("zoo.cfg quorumListenOnAllIPs=TRUE: %v, %v", zc.QuorumListenOnAllIPs, err)
	}
}
