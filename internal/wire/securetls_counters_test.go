package wire_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/jute"
)

// TestSecureTLSCountersLikeZooKeeper: with the secure port on, mntr's
// zk_auth_failed_count counts the TLS handshakes that failed (no
// certificate, an untrusted one, plaintext on the secure port) and
// zk_non_mtls_local_conn_count the plain port's loopback connections, the
// four-letter words' among them, as a real ZooKeeper 3.8 (Netty) counts
// them. A client whose handshake succeeded counts in neither.
func TestSecureTLSCountersLikeZooKeeper(t *testing.T) {
	onBoth(t, tls.RequireAndVerifyClientCert, "need", checkSecureCounters)
}

func checkSecureCounters(t *testing.T, secure, plain string, f *tlsFiles) {
	failed0, local0 := secureCounters(t, plain)
	for _, name := range []string{"", "rogue"} {
		if err := tlsRefused(t, secure, f.client(t, name)); err == nil {
			t.Fatalf("client certificate %q: a session opened", name)
		}
	}
	plaintextOnSecure(t, secure)
	bob := tlsDial(t, secure, f.client(t, "bob"))
	bob.connect(jute.ConnectRequest{})
	rawDial(t, plain).connect(jute.ConnectRequest{})

	awaitCounters(t, plain, failed0+3, local0+1)
}

// awaitCounters reads mntr on plain until zk_auth_failed_count is failed
// and zk_non_mtls_local_conn_count is local plus the mntr connections made
// here. ZooKeeper counts a failed handshake in a listener that may run
// after the client saw the close, so it reads again until the counts
// settle.
func awaitCounters(t *testing.T, plain string, failed, local int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for polls := int64(1); ; polls++ {
		gotFailed, gotLocal := secureCounters(t, plain)
		if gotFailed == failed && gotLocal == local+polls {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("zk_auth_failed_count %d, want %d; zk_non_mtls_local_conn_count %d, want %d", gotFailed, failed, gotLocal, local+polls)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// secureCounters reads zk_auth_failed_count and
// zk_non_mtls_local_conn_count from mntr on the plain port at addr.
func secureCounters(t *testing.T, addr string) (failed, local int64) {
	t.Helper()
	values := map[string]int64{}
	for _, line := range strings.Split(fourLetter(t, addr, "mntr"), "\n") {
		k, v, ok := strings.Cut(line, "\t")
		if n, err := strconv.ParseInt(v, 10, 64); ok && err == nil {
			values[k] = n
		}
	}
	for _, k := range []string{"zk_auth_failed_count", "zk_non_mtls_local_conn_count", "zk_non_mtls_remote_conn_count"} {
		if _, ok := values[k]; !ok {
			t.Fatalf("mntr has no %s", k)
		}
	}
	if r := values["zk_non_mtls_remote_conn_count"]; r != 0 {
		t.Errorf("zk_non_mtls_remote_conn_count %d, want 0 (every client is on loopback)", r)
	}
	return values["zk_auth_failed_count"], values["zk_non_mtls_local_conn_count"]
}

// plaintextOnSecure sends a connect request in plaintext to the secure port
// and reads until the server closes the connection.
func plaintextOnSecure(t *testing.T, secure string) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", secure, 10*time.Second)
	must(t, err)
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	req := jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)}
	_, err = nc.Write(jute.AppendFrame(nil, &req))
	must(t, err)
	if _, err := io.ReadAll(nc); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("plaintext on the secure port: %v, want a close", err)
	}
}

// TestMaxClientCnxnsPerPortLikeZooKeeper: maxClientCnxns limits one
// address's connections on each port apart, as ZooKeeper's two factories
// (plain and secure) each count their own: with a limit of 2, two plain
// sessions and two TLS ones all open, and a third on either port is
// refused.
func TestMaxClientCnxnsPerPortLikeZooKeeper(t *testing.T) {
	const limit = "maxClientCnxns=2\n"
	check := func(t *testing.T, secure, plain string, f *tlsFiles) {
		for range 2 {
			rawDial(t, plain).connect(jute.ConnectRequest{})
			tlsDial(t, secure, f.client(t, "bob")).connect(jute.ConnectRequest{})
		}
		if !rawDial(t, plain).closed() {
			t.Error("a third plain connection from one address was accepted")
		}
		if err := tlsRefused(t, secure, f.client(t, "bob")); err == nil {
			t.Error("a third TLS connection from one address opened a session")
		}
	}
	t.Run("zk", func(t *testing.T) {
		f := newTLSFiles(t)
		e := zkFromZooCfgTLS(t, f, limit)
		check(t, e.SecureClientAddr(), e.ClientAddr(), f)
	})
	t.Run("ZooKeeper", func(t *testing.T) {
		f := newTLSFiles(t)
		secure, plain := startRealZKTLS(t, f, "need", limit)
		check(t, secure, plain, f)
	})
}
