package wire

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// The AdminServer over HTTPS, as ZooKeeper's admin.forceHttps (TLS only)
// and admin.portUnification (TLS and plain HTTP on the one port) serve it:
// Config.AdminTLS, with Config.AdminPortUnification for both.

// hstsValue is the Strict-Transport-Security header ZooKeeper's Jetty adds
// to its HTTPS answers (a day, subdomains included).
const hstsValue = "max-age=86400; includeSubDomains"

// adminListener wraps the admin port's listener (already bounded by
// limitListener) for TLS as the configuration asks.
func (s *Server) adminListener(ln net.Listener) net.Listener {
	switch {
	case s.cfg.AdminTLS == nil:
		return ln
	case s.cfg.AdminPortUnification:
		return unifyListener{ln, s.cfg.AdminTLS.Clone()}
	}
	return tls.NewListener(ln, s.cfg.AdminTLS.Clone())
}

// unifyListener serves TLS and plain connections on one port: each
// connection tells which by its first byte, read when the HTTP server
// first reads it (in that connection's own goroutine).
type unifyListener struct {
	net.Listener
	cfg *tls.Config
}

func (l unifyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: c, cfg: l.cfg}, nil
}

// sniffConn becomes a TLS or a plain connection at its first read.
type sniffConn struct {
	net.Conn // the socket
	cfg      *tls.Config
	once     sync.Once
	conn     net.Conn // after the first byte: a TLS server connection or the socket
	secure   atomic.Bool
	err      error
}

func (c *sniffConn) sniffed() (net.Conn, error) {
	c.once.Do(func() {
		b, pc, err := readFirst(c.Conn)
		switch {
		case err != nil:
			c.err = err
		case b == tlsHandshakeRecord:
			c.conn = tls.Server(pc, c.cfg)
			c.secure.Store(true)
		default:
			c.conn = pc
		}
	})
	return c.conn, c.err
}

func (c *sniffConn) Read(b []byte) (int, error) {
	conn, err := c.sniffed()
	if err != nil {
		return 0, err
	}
	return conn.Read(b)
}

func (c *sniffConn) Write(b []byte) (int, error) {
	conn, err := c.sniffed()
	if err != nil {
		return 0, err
	}
	return conn.Write(b)
}

// isTLS reports whether the connection turned out to be TLS; the HTTP
// server asks once it has read a request.
func (c *sniffConn) isTLS() bool { return c.secure.Load() }

// adminConnKey carries the connection in a request's context.
type adminConnKey struct{}

// withConn is the HTTP server's ConnContext: it keeps the connection so
// that the handler knows whether the request came over TLS.
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, adminConnKey{}, c)
}

// overTLS reports whether r came over TLS.
func overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	c, ok := r.Context().Value(adminConnKey{}).(*sniffConn)
	return ok && c.isTLS()
}
