package wire

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
)

// tlsConn is a connection of the secure client port. Its Close closes the
// socket without TLS's close_notify alert, whose write could wait for a
// client that does not read (a connection's close never blocks).
type tlsConn struct{ *tls.Conn }

func (t tlsConn) Close() error { return t.NetConn().Close() }

// wrapTLS makes nc, accepted on the secure client port, a tlsConn.
func wrapTLS(nc net.Conn) net.Conn {
	if tc, ok := nc.(*tls.Conn); ok {
		return tlsConn{tc}
	}
	return nc
}

// x509Subject is the distinguished name of the client certificate the
// secure client port verified, as Java's X500Principal.getName() writes it
// (javaDN), "" for a connection without one. ZooKeeper's
// X509AuthenticationProvider names the client so.
func (c *conn) x509Subject() string {
	t, ok := c.nc.(tlsConn)
	if !ok {
		return ""
	}
	st := t.ConnectionState()
	if len(st.VerifiedChains) == 0 || len(st.VerifiedChains[0]) == 0 {
		return ""
	}
	dn, ok := javaDN(st.VerifiedChains[0][0].RawSubject)
	if !ok {
		// crypto/x509 took a subject Java refuses ("extra bytes"): no
		// identity rather than one ZooKeeper would never have given.
		c.s.cfg.Logger.Info("zk: secure client port: a client certificate subject Java would refuse; no x509 identity", "ip", c.ip)
		return ""
	}
	return dn
}

// logFirstRead logs why the first read of a secure connection failed (its
// TLS handshake, usually: no certificate, or one no CA of ClientTLS signed)
// and counts a handshake that did not finish, as ZooKeeper's Netty factory
// counts every unsuccessful one in zk_auth_failed_count.
func (c *conn) logFirstRead(err error) {
	t, ok := c.nc.(tlsConn)
	if !ok {
		return
	}
	if !t.ConnectionState().HandshakeComplete {
		c.s.stats.authFailed.Add(1)
	}
	if !errors.Is(err, io.EOF) && c.ctx.Err() == nil {
		c.s.cfg.Logger.Info("zk: secure client port: TLS handshake failed; closing the connection", "ip", c.ip, "err", err)
	}
}
