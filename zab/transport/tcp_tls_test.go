package transport

import (
	"crypto/tls"
	"errors"
	"testing"
)

// tlsGroup starts peers 1 and 2 over mutual TLS with no shared secret;
// conf picks each peer's TLS configuration.
func tlsGroup(t *testing.T, conf func(id int64) *tls.Config) *group {
	return startGroup(t, []int64{1, 2}, func(c *TCPConfig) {
		c.Secret = nil
		c.TLS = conf(c.ID)
	})
}

func TestTLSConnects(t *testing.T) {
	pki := NewPKI(t)
	g := tlsGroup(t, func(id int64) *tls.Config { return pki.PeerConfig(t, id) })
	expect(t, g.tr(1), EventUp, 2)
	expect(t, g.tr(2), EventUp, 1)
	if err := g.tr(2).Send(1, []byte("over TLS")); err != nil {
		t.Fatal(err)
	}
	if ev := expect(t, g.tr(1), EventFrame, 2); string(ev.Frame) != "over TLS" {
		t.Fatalf("got %q", ev.Frame)
	}
}

// TestTLSDialerCertificateForAnotherID: peer 2's certificate is valid but
// names peer 5: the acceptor refuses it as peer 2.
func TestTLSDialerCertificateForAnotherID(t *testing.T) {
	pki := NewPKI(t)
	g := tlsGroup(t, func(id int64) *tls.Config {
		if id == 2 {
			return pki.PeerConfig(t, 5)
		}
		return pki.PeerConfig(t, id)
	})
	g.nodes[1].log.Wait(t, "rejected connection", "the certificate is not peer 2's")
	g.nodes[2].log.Wait(t, "dial failed", "rejected by the peer")
	noEvent(t, g.tr(1))
	noEvent(t, g.tr(2))
}

// TestTLSAcceptorCertificateForAnotherID: peer 1's certificate names peer 7:
// the dialer refuses to talk to it.
func TestTLSAcceptorCertificateForAnotherID(t *testing.T) {
	pki := NewPKI(t)
	g := tlsGroup(t, func(id int64) *tls.Config {
		if id == 1 {
			return pki.PeerConfig(t, 7)
		}
		return pki.PeerConfig(t, id)
	})
	g.nodes[2].log.Wait(t, "dial failed", "TLS handshake", "zk-peer-1")
	g.nodes[1].log.Wait(t, "rejected connection", "TLS handshake")
	noEvent(t, g.tr(1))
	noEvent(t, g.tr(2))
}

func TestTLSForeignCA(t *testing.T) {
	pki, other := NewPKI(t), NewPKI(t)
	g := tlsGroup(t, func(id int64) *tls.Config {
		c := pki.PeerConfig(t, id)
		if id == 2 {
			c = other.PeerConfig(t, 2)
			c.RootCAs = pki.Pool // it trusts peer 1, but peer 1 does not trust it
		}
		return c
	})
	g.nodes[1].log.Wait(t, "rejected connection", "TLS handshake", "certificate")
	g.nodes[2].log.Wait(t, "dial failed")
	noEvent(t, g.tr(1))
	noEvent(t, g.tr(2))
}

// rawTLS connects to peer 1 of g over TLS with client configuration c.
func rawTLS(t *testing.T, g *group, c *tls.Config) (*rawPeer, error) {
	r := dialRaw(t, g.addrs[1])
	c = c.Clone()
	c.ServerName = PeerName(1)
	tc := tls.Client(r.conn, c)
	if err := tc.Handshake(); err != nil {
		return nil, err
	}
	r.f = newFrameRW(tc)
	return r, nil
}

// TestTLSSpoofing: peer 3, holding its own valid certificate, claims to be
// peer 2 while peer 2 is connected: refused, and peer 2 is not disturbed.
func TestTLSSpoofing(t *testing.T) {
	pki := NewPKI(t)
	g := startGroup(t, []int64{1, 2, 3}, func(c *TCPConfig) {
		c.Secret = nil
		c.TLS = pki.PeerConfig(t, c.ID)
	})
	ups := map[int64]bool{}
	for range 2 {
		ev := nextEvent(t, g.tr(1))
		if ev.Kind != EventUp {
			t.Fatalf("peer 1 got %v from %d", ev.Kind, ev.Peer)
		}
		ups[ev.Peer] = true
	}
	if !ups[2] || !ups[3] {
		t.Fatalf("peer 1 got Up from %v", ups)
	}
	await(t, g.tr(2), EventUp, 1)
	r, err := rawTLS(t, g, pki.PeerConfig(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	if err := dialHandshake(r.f, 2, 1, nil, ""); !errors.Is(err, ErrAuth) {
		t.Fatalf("peer 3 claiming to be 2: %v, want a reject", err)
	}
	g.nodes[1].log.Wait(t, "rejected connection", "the certificate is not peer 2's")
	noEvent(t, g.tr(1))
	if err := g.tr(2).Send(1, []byte("the real 2")); err != nil {
		t.Fatal(err)
	}
	expect(t, g.tr(1), EventFrame, 2)
}

func TestTLSClientWithoutCertificate(t *testing.T) {
	pki := NewPKI(t)
	g := startGroup(t, []int64{1}, func(c *TCPConfig) {
		c.Secret = nil
		c.TLS = pki.PeerConfig(t, 1)
		c.Peers = map[int64]string{2: closedAddr(t)}
	})
	r, err := rawTLS(t, g, &tls.Config{RootCAs: pki.Pool})
	if err == nil {
		// TLS 1.3 finishes the client side before the server checks the
		// client's certificate; the refusal shows on the first read.
		err = dialHandshake(r.f, 2, 1, nil, "")
	}
	if err == nil {
		t.Fatal("a client without a certificate got through")
	}
	g.nodes[1].log.Wait(t, "rejected connection", "certificate")
	noEvent(t, g.tr(1))
}
