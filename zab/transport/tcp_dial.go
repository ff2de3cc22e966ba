package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// dialLoop keeps one connection to p, a peer with a lower id: dial,
// handshake, serve until the connection breaks, back off, again. It returns
// when the transport closes.
func (t *TCP) dialLoop(p *tcpPeer, bo *backoff) {
	defer t.wg.Done()
	failures := 0
	for {
		c, err := t.dial(p)
		switch {
		case err == nil:
			bo.reset()
			failures = 0
			c.serve()
		case t.closed.Load():
			return
		default:
			failures++
			level := slog.LevelDebug
			if errors.Is(err, ErrAuth) || errors.Is(err, ErrProtocol) {
				level = slog.LevelWarn
			}
			t.log.Log(context.Background(), level, "dial failed",
				"remote", p.id, "addr", p.address(), "failures", failures, "err", err)
		}
		if !t.wait(bo.next()) {
			return
		}
	}
}

// knockLoop dials p, a peer with a higher id, while there is no
// connection to it: if p does not list this peer, it admits the dial as a
// stranger's (AcceptStrangers) and dials back from then on; if it does, it
// refuses and dials by itself. Failures are expected and logged at debug
// level. It returns when the transport closes.
func (t *TCP) knockLoop(p *tcpPeer, bo *backoff) {
	defer t.wg.Done()
	for t.wait(bo.next()) {
		if p.cur.Load() != nil {
			continue
		}
		c, err := t.dial(p)
		if err != nil {
			if t.closed.Load() {
				return
			}
			t.log.Debug("knock failed", "remote", p.id, "addr", p.address(), "err", err)
			continue
		}
		bo.reset()
		c.serve()
	}
}

// wait waits d unless the transport closes first.
func (t *TCP) wait(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-t.done:
		return false
	}
}

// dial connects to p, authenticates and installs the connection.
func (t *TCP) dial(p *tcpPeer) (*tcpConn, error) {
	d := net.Dialer{Timeout: t.cfg.DialTimeout}
	raw, err := d.DialContext(t.ctx, "tcp", p.address())
	if err != nil {
		return nil, err
	}
	if !t.track(raw) {
		_ = raw.Close()
		return nil, ErrClosed
	}
	c, err := t.dialHandshake(p, raw)
	if err != nil {
		t.untrack(raw)
		_ = raw.Close()
		return nil, err
	}
	if !t.install(c) {
		_ = raw.Close()
		return nil, ErrClosed
	}
	return c, nil
}

func (t *TCP) dialHandshake(p *tcpPeer, raw net.Conn) (*tcpConn, error) {
	if err := raw.SetDeadline(time.Now().Add(t.cfg.HandshakeTimeout)); err != nil {
		return nil, err
	}
	idle := &idleConn{Conn: raw}
	var stream net.Conn = idle
	if p.clientTLS != nil {
		tc := tls.Client(idle, p.clientTLS)
		if err := tc.Handshake(); err != nil {
			return nil, fmt.Errorf("%w: TLS handshake with peer %d: %w", ErrAuth, p.id, err)
		}
		stream = tc
	}
	f := newHandshakeRW(stream)
	if err := dialHandshake(f, t.cfg.ID, p.id, t.cfg.Secret, t.addr); err != nil {
		return nil, err
	}
	f.grow(stream)
	return newTCPConn(t, p, raw, idle, f), nil
}
