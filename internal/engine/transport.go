package engine

import (
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/zab/transport"
)

// openTransport sets up peer traffic: the configured Transport, or TCP on
// this peer's quorum port (election and ZAB share it). Standalone has none.
func (e *Ensemble) openTransport() error {
	c := e.cfg
	if c.standalone() {
		return nil
	}
	if c.Transport != nil {
		if c.Transport.ID() != c.ID {
			return fmt.Errorf("%w: Transport: it is the endpoint of peer %d, not %d", ErrInvalidConfig, c.Transport.ID(), c.ID)
		}
		e.trans = c.Transport
		return nil
	}
	tc := transport.TCPConfig{ID: c.ID, Peers: map[int64]string{}, Secret: c.PeerSecret, TLS: c.PeerTLS, Logger: c.Logger,
		// A reconfig's new servers connect and sync before the change
		// that adds them, as ZooKeeper's joiners: the members admit them
		// (authenticated) without knowing them yet.
		AcceptStrangers: c.ReconfigEnabled}
	if h := c.TestHooks; h.Tracing() {
		tc.Trace = func(point string, peer int64, n int) {
			h.Note(hooks.Mark{Peer: c.ID, Point: "wire-" + point, Session: peer, Zxid: int64(n)})
		}
	}
	servers := c.Servers
	if m := e.members.Load(); m != nil {
		servers = append(slices.Clone(m.Servers), servers...) // a reconfig's addresses first
	}
	for _, s := range servers {
		if _, dup := tc.Peers[s.ID]; dup || (s.ID == c.ID && tc.Listen != "") {
			continue
		}
		if s.ID == c.ID {
			tc.Listen = s.QuorumAddr()
			if c.QuorumListenOnAllIPs {
				tc.Listen, tc.Advertise = net.JoinHostPort("", strconv.Itoa(s.QuorumPort)), s.QuorumAddr()
			}
		} else {
			tc.Peers[s.ID] = s.QuorumAddr()
		}
	}
	t, err := transport.NewTCP(tc)
	if err != nil {
		return fmt.Errorf("zk: starting the peer transport: %w", err)
	}
	e.trans, e.ownsTr = t, true
	return nil
}

// learnPeers tells the TCP transport zk made the addresses of c's servers
// it does not know yet (a reconfig added them).
func (e *Ensemble) learnPeers(c ClusterConfig) {
	tcp, ok := e.trans.(*transport.TCP)
	if !ok || !e.ownsTr {
		return
	}
	for _, s := range c.Servers {
		if s.ID == e.cfg.ID {
			continue
		}
		if err := tcp.AddPeer(s.ID, s.QuorumAddr()); err != nil {
			e.cfg.Logger.Warn("zk: the peer transport cannot add a server of the configuration", "server", s.ID, "err", err)
		}
	}
}

func (e *Ensemble) closeTransport() {
	if e.trans != nil && e.ownsTr {
		e.trans.Close()
	}
}
