package transport

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// acceptLoop accepts connections until the listener closes; each one is
// authenticated on its own goroutine, at most MaxHandshakes at a time.
func (t *TCP) acceptLoop() {
	defer t.wg.Done()
	var delay time.Duration
	for {
		raw, err := t.ln.Accept()
		if err != nil {
			if t.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			t.log.Warn("accept failed", "err", err)
			if !t.wait(delay) {
				return
			}
			continue
		}
		delay = 0
		select {
		case t.slots <- struct{}{}:
		default:
			t.log.Warn("too many handshakes in progress, closing a new connection", "addr", raw.RemoteAddr().String())
			_ = raw.Close()
			continue
		}
		if !t.track(raw) {
			_ = raw.Close()
			<-t.slots
			return
		}
		t.wg.Add(1)
		go t.accept(raw)
	}
}

// accept authenticates one incoming connection and serves it. A refused
// connection is logged and closed; it never produces an event.
func (t *TCP) accept(raw net.Conn) {
	defer t.wg.Done()
	c, err := t.acceptHandshake(raw)
	<-t.slots
	if err != nil {
		t.untrack(raw)
		_ = raw.Close()
		if !t.closed.Load() {
			t.log.Warn("rejected connection", "addr", raw.RemoteAddr().String(), "err", err)
		}
		return
	}
	if !t.install(c) {
		_ = raw.Close()
		return
	}
	c.serve()
}

func (t *TCP) acceptHandshake(raw net.Conn) (*tcpConn, error) {
	if err := raw.SetDeadline(time.Now().Add(t.cfg.HandshakeTimeout)); err != nil {
		return nil, err
	}
	idle := &idleConn{Conn: raw}
	var stream net.Conn = idle
	var tc *tls.Conn
	if t.serverTLS != nil {
		tc = tls.Server(idle, t.serverTLS)
		if err := tc.Handshake(); err != nil {
			return nil, fmt.Errorf("%w: TLS handshake: %w", ErrAuth, err)
		}
		stream = tc
	}
	f := newFrameRW(stream)
	id, err := acceptHandshake(f, t.cfg.ID, t.cfg.Secret, func(claimed int64) error {
		return t.admit(claimed, tc)
	})
	if err != nil {
		return nil, err
	}
	return newTCPConn(t, t.peers[id], raw, idle, f), nil
}

// admit vets a claimed id before the proof: it must be a member, it must be
// the dialing side of the pair (the higher id), and with TLS the verified
// certificate must name it.
func (t *TCP) admit(claimed int64, tc *tls.Conn) error {
	if t.peers[claimed] == nil {
		return fmt.Errorf("%w: a dialer claims id %d", ErrUnknownPeer, claimed)
	}
	if claimed < t.cfg.ID {
		return fmt.Errorf("%w: peer %d dialed peer %d, but only the higher id of a pair dials", ErrProtocol, claimed, t.cfg.ID)
	}
	if tc != nil {
		return checkPeerCert(tc.ConnectionState(), claimed)
	}
	return nil
}
