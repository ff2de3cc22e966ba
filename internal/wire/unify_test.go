package wire_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
)

// TestPortUnificationLikeZooKeeper: with client.portUnification=true the
// plain client port serves TLS clients too, as a real ZooKeeper 3.8
// (Netty, DualModeSslHandler) given the same zoo.cfg serves them: a plain
// client and a TLS one with bob's certificate open sessions on it (bob with
// his x509 identity), a TLS client without a certificate is refused (clientAuth
// need), four-letter words are answered in plain text and over TLS, and
// mntr counts them all as connections without mutual TLS and the refused
// one as an authentication failure.
func TestPortUnificationLikeZooKeeper(t *testing.T) {
	const unify = "client.portUnification=true\n"
	t.Run("zk", func(t *testing.T) {
		f := newTLSFiles(t)
		checkUnified(t, zkFromZooCfgTLS(t, f, unify).ClientAddr(), f)
	})
	t.Run("ZooKeeper", func(t *testing.T) {
		f := newTLSFiles(t)
		_, plain := startRealZKTLS(t, f, "need", unify)
		checkUnified(t, plain, f)
	})
}

func checkUnified(t *testing.T, plain string, f *tlsFiles) {
	failed0, local0 := secureCounters(t, plain)
	p := rawDial(t, plain)
	p.connect(jute.ConnectRequest{})
	if got := fmt.Sprint(whoAmI(p)); got != "[ip 127.0.0.1]" {
		t.Errorf("whoAmI of a plain client: %s", got)
	}
	bob := tlsDial(t, plain, f.client(t, "bob"))
	bob.connect(jute.ConnectRequest{})
	if got := fmt.Sprint(whoAmI(bob)); got != "[ip 127.0.0.1 x509 "+bobDN+"]" {
		t.Errorf("whoAmI of bob over TLS on the plain port: %s", got)
	}
	if err := tlsRefused(t, plain, f.client(t, "")); err == nil {
		t.Error("a TLS client without a certificate opened a session")
	}
	if got := fourLetter(t, plain, "ruok"); got != "imok" {
		t.Errorf("ruok in plain text: %q", got)
	}
	r := tlsDial(t, plain, f.client(t, "bob"))
	r.write([]byte("ruok"))
	if b, err := io.ReadAll(r.nc); string(b) != "imok" {
		t.Errorf("ruok over TLS: %q, %v", b, err)
	}
	// Five connections on the port, each counted without mutual TLS as
	// it was accepted (ZooKeeper counts before it knows); the refused
	// handshake as an authentication failure.
	awaitCounters(t, plain, failed0+1, local0+5)
}

// TestPortUnificationStopsWaiting: a connection to a unified port that has
// sent nothing yet is closed when the peer stops, not left to its connect
// timeout; and a zoo.cfg may unify the port without a secure one.
func TestPortUnificationStopsWaiting(t *testing.T) {
	f := newTLSFiles(t)
	parsed, _, err := engine.ParseZooCfg(strings.NewReader(fmt.Sprintf(
		"tickTime=500\ndataDir=/unused\nclientPort=2181\nserverCnxnFactory=%s\nclient.portUnification=true\nssl.keyStore.location=%s\nssl.trustStore.location=%s\n",
		nettyFactory, f.keyStore, f.ca)), nil)
	must(t, err)
	if !parsed.ClientPortUnification || parsed.ClientTLS == nil || parsed.SecureClientPort != 0 {
		t.Fatalf("zoo.cfg: unification %v, ClientTLS %v, secure port %d", parsed.ClientPortUnification, parsed.ClientTLS != nil, parsed.SecureClientPort)
	}
	cfg := peerConfig()
	cfg.ClientTLS, cfg.ClientPortUnification = parsed.ClientTLS, true
	e := startPeer(t, cfg)
	tlsDial(t, e.ClientAddr(), f.client(t, "bob")).connect(jute.ConnectRequest{})
	idle, err := net.Dial("tcp", e.ClientAddr())
	must(t, err)
	defer idle.Close()
	// Let the server take the connection before it stops: a session on a
	// connection made after it proves the listener got this far.
	rawDial(t, e.ClientAddr()).connect(jute.ConnectRequest{})
	// Close waits for the server's goroutines; the idle connection must be
	// closed while it does, well before its 10 s connect timeout.
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		e.Close()
	}()
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	if _, err := idle.Read(b[:]); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("an idle connection while the peer stops: %v, want it closed", err)
	}
	<-closed
}
