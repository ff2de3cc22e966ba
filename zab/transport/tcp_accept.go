package transport

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"time"
)

// acceptLoop accepts connections until the listener closes; each one is
// authenticated on its own goroutine, within the bounds admission keeps.
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
		if !t.track(raw) {
			_ = raw.Close()
			return
		}
		pc, closed := t.adm.enter(raw)
		if closed > 0 {
			t.reportFull()
		}
		t.wg.Add(1)
		go t.accept(raw, pc)
		// Let the new goroutine read what has already arrived before the
		// next accept: a peer's hello is usually there by now, and then no
		// connection accepted after it can push it out of the anonymous stage.
		runtime.Gosched()
	}
}

// reportFull logs, at most once a second, that handshakes from strangers
// fill the bounds and the oldest are being closed.
func (t *TCP) reportFull() {
	if time.Since(t.lastFull) < time.Second {
		return
	}
	t.lastFull = time.Now()
	anon, claimed, evicted := t.adm.counts()
	t.log.Warn("handshake bounds reached: closing the oldest connections that have not said who they are",
		"anonymous", anon, "claimed", claimed, "closed_so_far", evicted)
}

// accept authenticates one incoming connection and serves it. A refused
// connection is logged and closed; it never produces an event.
func (t *TCP) accept(raw net.Conn, pc *pendingConn) {
	defer t.wg.Done()
	c, err := t.acceptHandshake(raw, pc)
	evicted := t.adm.leave(pc)
	if err != nil {
		t.untrack(raw)
		_ = raw.Close()
		level := slog.LevelWarn
		if evicted || t.closed.Load() || errors.Is(err, errLowerDialed) {
			level = slog.LevelDebug // reported by reportFull, closing, or a knock (expected)
		}
		t.log.Log(t.ctx, level, "rejected connection", "addr", raw.RemoteAddr().String(), "evicted", evicted, "err", err)
		return
	}
	if !t.install(c) {
		_ = raw.Close()
		return
	}
	c.serve()
}

func (t *TCP) acceptHandshake(raw net.Conn, pc *pendingConn) (*tcpConn, error) {
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
	f := newHandshakeRW(stream)
	var stranger string // the address of a proven dialer no configuration lists
	id, err := acceptHandshake(f, t.cfg.ID, t.cfg.Secret, func(claimed int64, addr string) error {
		known, err := t.admit(claimed, addr, tc)
		if err != nil {
			return err
		}
		if !known {
			stranger = addr // stays anonymous: strangers never take a member's slot
			return nil
		}
		if !t.adm.claim(pc, claimed) {
			return fmt.Errorf("%w: closed to make room for newer connections", ErrClosed)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if stranger != "" {
		// A lower id is dialed back from now on (the new connection
		// replaces this one); a higher one keeps dialing.
		if err := t.addPeer(id, stranger, true); err != nil {
			return nil, err
		}
	}
	f.grow(stream)
	return newTCPConn(t, t.peer(id), raw, idle, f), nil
}

// admit vets a claimed id before the proof: it must be a member, it must be
// the dialing side of the pair (the higher id), and with TLS the verified
// certificate must name it. With AcceptStrangers, an id no configuration
// lists is admitted too (known false), from either side, if its hello
// says where it listens: once it has proven itself, it is added as a peer.
// So is a peer known only from an earlier hello whose hello names another
// address (it restarted elsewhere): it is moved there.
func (t *TCP) admit(claimed int64, addr string, tc *tls.Conn) (known bool, err error) {
	p := t.peer(claimed)
	known = p != nil
	if known && t.cfg.AcceptStrangers && p.stranger.Load() && addr != p.address() && validAddr(addr) {
		known = false
	}
	switch {
	case !known && !t.cfg.AcceptStrangers:
		return false, fmt.Errorf("%w: a dialer claims id %d", ErrUnknownPeer, claimed)
	case !known && (claimed <= 0 || claimed == t.cfg.ID || !validAddr(addr)):
		return false, fmt.Errorf("%w: a dialer no configuration lists claims id %d at address %q", ErrProtocol, claimed, addr)
	case known && claimed < t.cfg.ID:
		return true, fmt.Errorf("%w: peer %d dialed peer %d", errLowerDialed, claimed, t.cfg.ID)
	}
	if tc != nil {
		return known, checkPeerCert(tc.ConnectionState(), claimed)
	}
	return known, nil
}

// errLowerDialed refuses a known peer that dialed although its id is
// lower: it is dialed instead (it may have knocked; see AcceptStrangers).
var errLowerDialed = fmt.Errorf("%w: only the higher id of a pair dials", ErrProtocol)

// validAddr reports whether addr is a host:port a peer can be dialed at:
// not an unspecified address (0.0.0.0, ::), which would dial the dialer's
// own host.
func validAddr(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || port == "" || port == "0" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsUnspecified()
}
