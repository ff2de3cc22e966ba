package wire_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
)

// TestSecureTLSJavaStoresLikeZooKeeper: the secure port serves from the key
// and trust stores ZooKeeper's users have (internal/keystore/testdata, made
// by keytool and openssl: JKS, PKCS12 in Java 17's and in the legacy
// algorithms, an encrypted PEM key), with their passwords given in zoo.cfg
// or in a passwordPath file, as a real ZooKeeper 3.8 given the same lines
// serves: a client that trusts the stores' CA opens a session, and the
// server sends the key store's chain. A wrong password stops both.
func TestSecureTLSJavaStoresLikeZooKeeper(t *testing.T) {
	dir, err := filepath.Abs("../keystore/testdata")
	must(t, err)
	pwFile := filepath.Join(t.TempDir(), "pw")
	must(t, os.WriteFile(pwFile, []byte("zksecret\n"), 0o600))
	lines := func(ks, ts, pwLines string) string {
		return fmt.Sprintf("ssl.keyStore.location=%s\nssl.trustStore.location=%s\nssl.clientAuth=want\n%s",
			filepath.Join(dir, ks), filepath.Join(dir, ts), pwLines)
	}
	passwords := "ssl.keyStore.password=zksecret\nssl.trustStore.password=zksecret\n"
	for _, c := range []struct{ name, lines string }{
		{"JKS", lines("server.jks", "trust.jks", passwords)},
		{"PKCS12", lines("server.p12", "trust.p12", "ssl.keyStore.type=PKCS12\n"+passwords)},
		{"PKCS12 legacy, passwordPath", lines("server-legacy.p12", "trust.jks",
			"ssl.keyStore.passwordPath="+pwFile+"\nssl.trustStore.passwordPath="+pwFile+"\n")},
		{"encrypted PEM", lines("server-enc.pem", "ca.pem", "ssl.keyStore.type=PEM\nssl.keyStore.password=zksecret\n")},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Run("zk", func(t *testing.T) {
				cfg, err := zooCfgTLS(c.lines)
				must(t, err)
				checkStoreServed(t, startPeer(t, cfg).SecureClientAddr(), dir)
			})
			t.Run("ZooKeeper", func(t *testing.T) {
				secure, _ := startRealZKSecure(t, c.lines)
				checkStoreServed(t, secure, dir)
			})
		})
	}
	// zk refuses to start on a wrong password; ZooKeeper 3.8 logs it and
	// serves no TLS connection, which its own tests show.
	for _, bad := range []string{
		lines("server.jks", "trust.jks", "ssl.keyStore.password=wrong\n"),
		lines("server.p12", "trust.p12", "ssl.keyStore.password=zksecret\nssl.trustStore.password=wrong\n"),
		lines("server-enc.pem", "ca.pem", "ssl.keyStore.password=wrong\n"),
	} {
		if _, err := zooCfgTLS(bad); err == nil || !strings.Contains(err.Error(), "wrong password") {
			t.Errorf("%s: %v, want a wrong password", bad, err)
		}
	}
}

// zooCfgTLS is a peer's config whose secure port is set by the zoo.cfg
// lines tlsLines.
func zooCfgTLS(tlsLines string) (engine.Config, error) {
	parsed, _, err := engine.ParseZooCfg(strings.NewReader("tickTime=500\ndataDir=/unused\nsecureClientPort=1\n"+tlsLines), nil)
	if err != nil {
		return engine.Config{}, err
	}
	cfg := peerConfig()
	cfg.SecureClientPort, cfg.SecureClientPortAddress, cfg.ClientTLS = -1, "127.0.0.1", parsed.ClientTLS
	return cfg, nil
}

// checkStoreServed opens a session over TLS on secure, trusting the CA of
// the stores in dir, and checks the chain the server sent.
func checkStoreServed(t *testing.T, secure, dir string) {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	must(t, err)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	r := tlsDial(t, secure, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	r.connect(jute.ConnectRequest{})
	if got := fmt.Sprint(whoAmI(r)); got != "[ip 127.0.0.1]" {
		t.Errorf("whoAmI: %s", got)
	}
	st := r.nc.(*tls.Conn).ConnectionState()
	if len(st.PeerCertificates) != 2 || st.PeerCertificates[0].Subject.CommonName != "zk server" {
		t.Errorf("the server sent %d certificates, the first %v", len(st.PeerCertificates), st.PeerCertificates[0].Subject)
	}
}
