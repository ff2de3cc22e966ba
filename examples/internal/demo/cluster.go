package demo

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/embedzk/zk"
)

// Cluster is a zk ensemble inside this process: one standalone peer, or
// several peers talking over TCP on 127.0.0.1, as separate servers would.
type Cluster struct {
	Peers []*zk.Ensemble
	dir   string
	owned bool // dir is a temporary directory to remove on Close

	mu       sync.Mutex
	crashed  map[int]bool
	last     map[int]zk.Status // the last mode/leader/epoch reported per peer
	onStatus func(peer int, st zk.Status)
}

// ClusterOptions configures StartCluster.
type ClusterOptions struct {
	Peers    int           // 1 (standalone, the embedded default) or 3 or 5
	TickTime time.Duration // 0: zk's default
	Dir      string        // where the peers keep their data; "" makes a temporary directory
}

// StartCluster starts the peers and waits (within ctx) until every one
// serves.
func StartCluster(ctx context.Context, o ClusterOptions) (*Cluster, error) {
	if o.Peers != 1 && o.Peers != 3 && o.Peers != 5 {
		return nil, fmt.Errorf("demo: %d peers: want 1, 3 or 5", o.Peers)
	}
	c := &Cluster{dir: o.Dir, crashed: map[int]bool{}, last: map[int]zk.Status{}}
	if c.dir == "" {
		d, err := os.MkdirTemp("", "zk-demo-")
		if err != nil {
			return nil, err
		}
		c.dir, c.owned = d, true
	}
	if err := c.start(o); err != nil {
		c.Close()
		return nil, err
	}
	for _, p := range c.Peers {
		if err := p.WaitServing(ctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("demo: waiting for the peers to serve: %w", err)
		}
	}
	return c, nil
}

func (c *Cluster) start(o ClusterOptions) error {
	if o.Peers == 1 {
		e, err := zk.NewEnsemble(zk.Config{DataDir: filepath.Join(c.dir, "zk"), TickTime: o.TickTime})
		if err != nil {
			return err
		}
		c.Peers = []*zk.Ensemble{e}
		return nil
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	var servers []zk.Server
	for id := int64(1); id <= int64(o.Peers); id++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		servers = append(servers, zk.Server{ID: id, Host: "127.0.0.1", QuorumPort: port, ElectionPort: port})
	}
	for i, s := range servers {
		e, err := zk.NewEnsemble(zk.Config{
			ID: s.ID, DataDir: filepath.Join(c.dir, fmt.Sprint("zk", s.ID)), Servers: servers,
			PeerSecret: secret, TickTime: o.TickTime,
			Listener: zk.EventListener{StatusChanged: func(st zk.Status) { c.statusChanged(i, st) }},
		})
		if err != nil {
			return err
		}
		c.Peers = append(c.Peers, e)
	}
	return nil
}

// freePort returns a TCP port that is free on 127.0.0.1 now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// OnStatus makes f hear every change of a peer's mode, leader or epoch
// from now on; a leader or follower is reported once it serves. f runs on the peer's own
// goroutine: it must be short and must not call the peer.
func (c *Cluster) OnStatus(f func(peer int, st zk.Status)) {
	c.mu.Lock()
	c.onStatus = f
	c.mu.Unlock()
}

func (c *Cluster) statusChanged(peer int, st zk.Status) {
	if (st.Mode == zk.ModeLeading || st.Mode == zk.ModeFollowing) && !st.Serving {
		return // still syncing: reported once it serves
	}
	c.mu.Lock()
	prev, seen := c.last[peer]
	c.last[peer] = st
	f := c.onStatus
	c.mu.Unlock()
	if f == nil || (seen && prev.Mode == st.Mode && prev.Leader == st.Leader && prev.Epoch == st.Epoch) {
		return
	}
	f(peer, st)
}

// Standalone reports whether the cluster is one standalone peer.
func (c *Cluster) Standalone() bool { return len(c.Peers) == 1 }

// Name returns how the demos call peer i: "peer 1" for Peers[0], as
// zoo.cfg numbers servers.
func (c *Cluster) Name(i int) string {
	if c.Standalone() {
		return "the standalone peer"
	}
	return fmt.Sprint("peer ", i+1)
}

// Leader returns the index of the peer that leads and serves, or -1.
func (c *Cluster) Leader() int {
	for i, p := range c.Peers {
		if c.Crashed(i) {
			continue
		}
		if st := p.Status(); st.Serving && (st.Mode == zk.ModeLeading || st.Mode == zk.ModeStandalone) {
			return i
		}
	}
	return -1
}

// Alive returns the indexes of the peers that were not crashed.
func (c *Cluster) Alive() []int {
	var out []int
	for i := range c.Peers {
		if !c.Crashed(i) {
			out = append(out, i)
		}
	}
	return out
}

// Crashed reports whether peer i was crashed.
func (c *Cluster) Crashed(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.crashed[i]
}

// Crash stops peer i at once, as if its process were killed: it says
// nothing to the other peers, and the sessions attached to it end for
// their holders (zk.ErrClosed) but live on in the ensemble until they
// expire.
func (c *Cluster) Crash(i int) {
	c.mu.Lock()
	c.crashed[i] = true
	c.mu.Unlock()
	c.Peers[i].Close()
}

// NextAlive returns the first peer that was not crashed, starting at i
// and going round; -1 if none is left.
func (c *Cluster) NextAlive(i int) int {
	for k := range c.Peers {
		j := (i + k) % len(c.Peers)
		if !c.Crashed(j) {
			return j
		}
	}
	return -1
}

// Close stops every peer and removes a temporary data directory.
func (c *Cluster) Close() {
	c.OnStatus(nil)
	for _, p := range c.Peers {
		p.Close()
	}
	if c.owned {
		os.RemoveAll(c.dir)
	}
}

// DescribeStatus says in a few words what a peer does.
func DescribeStatus(st zk.Status) string {
	switch st.Mode {
	case zk.ModeLeading:
		return fmt.Sprintf("leads (epoch %d)", st.Epoch)
	case zk.ModeFollowing:
		return fmt.Sprintf("follows peer %d (epoch %d)", st.Leader, st.Epoch)
	case zk.ModeLooking:
		return "looks for a leader: election"
	}
	return st.Mode.String()
}

// NewSession opens a session on peer i, trying again while the ensemble
// is electing a leader (a peer that has just started to serve may refuse
// the session's creation with zk.ErrNotServing if it stops again).
func (c *Cluster) NewSession(ctx context.Context, i int, opts ...zk.SessionOption) (*zk.Session, error) {
	var s *zk.Session
	err := Retry(ctx, func() (err error) {
		s, err = c.Peers[i].NewSession(ctx, opts...)
		return err
	})
	return s, err
}
