package engine

import (
	"fmt"

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
	tc := transport.TCPConfig{ID: c.ID, Peers: map[int64]string{}, Secret: c.PeerSecret, TLS: c.PeerTLS, Logger: c.Logger}
	if h := c.TestHooks; h.Tracing() {
		tc.Trace = func(point string, peer int64, n int) {
			h.Note(hooks.Mark{Peer: c.ID, Point: "wire-" + point, Session: peer, Zxid: int64(n)})
		}
	}
	for _, s := range c.Servers {
		if s.ID == c.ID {
			tc.Listen = s.QuorumAddr()
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

func (e *Ensemble) closeTransport() {
	if e.trans != nil && e.ownsTr {
		e.trans.Close()
	}
}
