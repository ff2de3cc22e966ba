package wire

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"time"
)

// tlsHandshakeRecord is the first byte of a TLS client's first record. A
// ZooKeeper client's first frame starts with its length's high byte (0)
// and a four-letter word with a letter, so one byte tells them apart, as
// ZooKeeper's DualModeSslHandler tells them apart.
const tlsHandshakeRecord = 0x16

// sniff serves a connection of the plain port under port unification
// (Config.ClientPortUnification): it waits for the client's first byte, at
// most connectTimeout, and admits the connection over TLS if that byte
// starts a TLS handshake, in plain text otherwise. The byte stays in the
// socket (peekFirst) for the reader that follows. A server that stops
// meanwhile closes the connection.
func (s *Server) sniff(nc net.Conn) {
	defer s.wg.Done()
	stop := context.AfterFunc(s.ctx, func() { nc.Close() })
	nc.SetReadDeadline(time.Now().Add(connectTimeout))
	b, nc2, err := peekFirst(nc)
	if !stop() || err != nil {
		nc.Close()
		return
	}
	nc2.SetReadDeadline(time.Time{})
	if b == tlsHandshakeRecord {
		nc2 = tlsConn{tls.Server(nc2, s.unified)}
	}
	s.admit(nc2, true)
}

// readFirst takes the client's first byte off nc, and returns a connection
// that reads it again first: peekFirst where a socket cannot be peeked.
func readFirst(nc net.Conn) (byte, net.Conn, error) {
	var b [1]byte
	if _, err := io.ReadFull(nc, b[:]); err != nil {
		return 0, nil, err
	}
	return b[0], &prefixConn{Conn: nc, first: b[:]}, nil
}

// prefixConn is a connection whose first bytes were read already.
type prefixConn struct {
	net.Conn
	first []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.first) > 0 {
		n := copy(b, p.first)
		p.first = p.first[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}
