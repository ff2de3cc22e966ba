//go:build unix

package wire

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"runtime"
	"testing"

	"github.com/embedzk/zk/internal/testpki"
)

// TestClientGone: a socket with nothing to read, or with bytes waiting, is
// not gone, and the bytes stay for the reader; one whose client closed it
// is gone, and so is one the server killed.
func TestClientGone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pair := func() (*conn, net.Conn) {
		cl, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		nc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close(); nc.Close() })
		return newConn(&Server{ctx: context.Background()}, nc, "127.0.0.1"), cl
	}
	c, cl := pair()
	if c.clientGone() {
		t.Fatal("an idle open socket is gone")
	}
	if _, err := cl.Write([]byte("xy")); err != nil {
		t.Fatal(err)
	}
	if c.clientGone() {
		t.Fatal("a socket with bytes waiting is gone")
	}
	b := make([]byte, 2)
	if _, err := io.ReadFull(c.nc, b); err != nil || string(b) != "xy" {
		t.Fatalf("the peeked bytes: %q, %v", b, err)
	}
	cl.Close()
	// The FIN may take a moment to arrive on loopback.
	gone := false
	for i := 0; i < 100000 && !gone; i++ {
		gone = c.clientGone()
	}
	if !gone {
		t.Fatal("a socket its client closed is not gone")
	}
	k, _ := pair()
	k.nc.Close()
	if !k.clientGone() {
		t.Fatal("a killed connection is not gone")
	}
	// Under TLS the check looks at the socket beneath.
	s, cl := pair()
	s.nc = tlsConn{tls.Server(s.nc, &tls.Config{})}
	if s.clientGone() {
		t.Fatal("an idle open TLS socket is gone")
	}
	cl.Close()
	gone = false
	for i := 0; i < 100000 && !gone; i++ {
		gone = s.clientGone()
	}
	if !gone {
		t.Fatal("a TLS socket its client closed is not gone")
	}
	if runtime.GOOS == "linux" {
		closeNotifyGone(t, pair)
	}
}

// closeNotifyGone: a TLS client that completes its handshake and closes
// (its close_notify alert then waits unread in the socket) is gone; Linux's
// POLLRDHUP sees the close behind the alert.
func closeNotifyGone(t *testing.T, pair func() (*conn, net.Conn)) {
	certPEM, keyPEM := testpki.NewCA(t, "zk test CA").Issue(t, "zk", nil, []net.IP{net.ParseIP("127.0.0.1")})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	s, cl := pair()
	srv := tls.Server(s.nc, &tls.Config{Certificates: []tls.Certificate{cert}})
	s.nc = tlsConn{srv}
	tc := tls.Client(cl, &tls.Config{InsecureSkipVerify: true})
	done := make(chan error, 1)
	go func() { done <- srv.Handshake() }()
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s.clientGone() {
		t.Fatal("a TLS client that just finished its handshake is gone")
	}
	tc.Close() // close_notify, then the socket's close
	gone := false
	for i := 0; i < 100000 && !gone; i++ {
		gone = s.clientGone()
	}
	if !gone {
		t.Fatal("a TLS client that closed after close_notify is not gone")
	}
}
