package engine

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// clientTLSFiles writes, with testCA (zoocfg_peer_test.go), a CA file, a
// PEM key store (the server's certificate, its CA's, and its PKCS#8 key,
// as ZooKeeper reads ssl.keyStore.location of type PEM), a file with the
// certificate alone, and one with no certificate.
func clientTLSFiles(t *testing.T) (ca, keyStore, certOnly, noCert string) {
	t.Helper()
	c := newTestCA(t, t.TempDir())
	cert, key := c.peer("localhost")
	ca = c.write("ca.pem", c.CertPEM())
	keyStore = c.write("server.pem", slices.Concat(cert, c.CertPEM(), key))
	certOnly = c.write("cert.pem", cert)
	noCert = c.write("key.pem", key)
	return ca, keyStore, certOnly, noCert
}

// TestZooCfgClientTLS: the secure client port's zoo.cfg keys, as a
// ZooKeeper 3.8 server with Netty and X509AuthenticationProvider is
// configured, give SecureClientPort, its address, ClientTLS (the key
// store's certificate, the trust store's CAs, ssl.clientAuth with
// ZooKeeper's default need) and X509SuperUser; none is ignored.
func TestZooCfgClientTLS(t *testing.T) {
	ca, keyStore, _, _ := clientTLSFiles(t)
	base := fmt.Sprintf(`tickTime=2000
dataDir=/var/lib/zookeeper
clientPort=2181
secureClientPort=2281
secureClientPortAddress=127.0.0.1
serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory
authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider
ssl.keyStore.location=%s
ssl.keyStore.type=PEM
ssl.keyStore.password=
ssl.trustStore.location=%s
ssl.trustStore.type=PEM
X509AuthenticationProvider.superUser=CN=root,O=zk-test
`, keyStore, ca)
	for auth, want := range map[string]tls.ClientAuthType{
		"": tls.RequireAndVerifyClientCert, "ssl.clientAuth=need\n": tls.RequireAndVerifyClientCert,
		"ssl.clientAuth=want\n": tls.VerifyClientCertIfGiven, "ssl.clientAuth=none\n": tls.NoClientCert,
	} {
		cfg, ignored, err := ParseZooCfg(strings.NewReader(base+auth), nil)
		if err != nil {
			t.Fatalf("%q: %v", auth, err)
		}
		if len(ignored) != 0 {
			t.Errorf("%q: ignored %v", auth, ignored)
		}
		if cfg.SecureClientPort != 2281 || cfg.SecureClientPortAddress != "127.0.0.1" || cfg.ClientPort != 2181 {
			t.Errorf("%q: SecureClientPort %d at %q, ClientPort %d", auth, cfg.SecureClientPort, cfg.SecureClientPortAddress, cfg.ClientPort)
		}
		if cfg.X509SuperUser != "CN=root,O=zk-test" {
			t.Errorf("%q: X509SuperUser %q", auth, cfg.X509SuperUser)
		}
		tc := cfg.ClientTLS
		if tc == nil {
			t.Fatalf("%q: no ClientTLS", auth)
		}
		if len(tc.Certificates) != 1 || len(tc.Certificates[0].Certificate) != 2 || tc.ClientCAs == nil {
			t.Errorf("%q: %d certificates (chain %v), ClientCAs %v", auth, len(tc.Certificates), chainLen(tc), tc.ClientCAs != nil)
		}
		if tc.ClientAuth != want {
			t.Errorf("%q: ClientAuth %v, want %v", auth, tc.ClientAuth, want)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%q: Validate: %v", auth, err)
		}
	}
	// The secure port alone, with ZooKeeper's default clientAuth.
	only := strings.Replace(base, "clientPort=2181\n", "", 1)
	cfg, _, err := ParseZooCfg(strings.NewReader(only), nil)
	if err != nil || cfg.ClientPort != 0 || cfg.SecureClientPort != 2281 || cfg.ClientTLS == nil {
		t.Fatalf("secure port alone: ClientPort %d, SecureClientPort %d, %v", cfg.ClientPort, cfg.SecureClientPort, err)
	}
}

func chainLen(tc *tls.Config) int {
	if len(tc.Certificates) == 0 {
		return 0
	}
	return len(tc.Certificates[0].Certificate)
}

// TestZooCfgClientTLSRefused: what zk cannot serve as configured is an
// error wrapping ErrInvalidConfig, not a port served otherwise.
func TestZooCfgClientTLSRefused(t *testing.T) {
	ca, keyStore, certOnly, noCert := clientTLSFiles(t)
	good := map[string]string{
		"secureClientPort": "2281", "ssl.keyStore.location": keyStore, "ssl.trustStore.location": ca,
	}
	for name, change := range map[string][2]string{
		"unknown clientAuth":        {"ssl.clientAuth", "bogus"},
		"PEM read as JKS":           {"ssl.keyStore.type", "JKS"},
		"BCFKS key store":           {"ssl.keyStore.type", "BCFKS"},
		"missing password file":     {"ssl.trustStore.passwordPath", keyStore + ".missing"},
		"no key store":              {"ssl.keyStore.location", ""},
		"key store without a key":   {"ssl.keyStore.location", certOnly},
		"trust store without certs": {"ssl.trustStore.location", noCert},
		"missing key store file":    {"ssl.keyStore.location", keyStore + ".missing"},
	} {
		var b strings.Builder
		b.WriteString("tickTime=2000\ndataDir=/var/lib/zookeeper\n")
		for _, k := range []string{"secureClientPort", "ssl.keyStore.location", "ssl.trustStore.location"} {
			v := good[k]
			if k == change[0] {
				v = change[1]
			}
			if v != "" {
				fmt.Fprintf(&b, "%s=%s\n", k, v)
			}
		}
		if _, ok := good[change[0]]; !ok {
			fmt.Fprintf(&b, "%s=%s\n", change[0], change[1])
		}
		if _, _, err := ParseZooCfg(strings.NewReader(b.String()), nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s:\n%s: got %v, want ErrInvalidConfig", name, b.String(), err)
		}
	}
}

// TestValidateSecureClientPortNeedsTLS: a Config with a secure client port
// and no ClientTLS (or one without a certificate) is invalid.
func TestValidateSecureClientPortNeedsTLS(t *testing.T) {
	for name, tc := range map[string]*tls.Config{"nil": nil, "no certificate": {}} {
		cfg := Config{DataDir: "/d", SecureClientPort: 2281, ClientTLS: tc}
		if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("ClientTLS %s: Validate: %v, want ErrInvalidConfig", name, err)
		}
	}
	_, keyStore, _, _ := clientTLSFiles(t)
	pair, err := tls.LoadX509KeyPair(keyStore, keyStore)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{DataDir: "/d", SecureClientPort: -1, ClientTLS: &tls.Config{Certificates: []tls.Certificate{pair}}}
	if err := cfg.Validate(); err != nil {
		t.Errorf("a secure client port with a certificate: %v", err)
	}
}

// TestZooCfgClientTLSIgnoredWithoutPort: without secureClientPort the TLS
// files are not read (as ZooKeeper reads them only for a TLS port) and
// their keys are returned in ignored.
func TestZooCfgClientTLSIgnoredWithoutPort(t *testing.T) {
	cfg, ignored, err := ParseZooCfg(strings.NewReader(
		"dataDir=/tmp/x\nssl.keyStore.location=/nonexistent/ks.pem\nssl.trustStore.location=/nonexistent/ts.pem\nssl.clientAuth=want\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientTLS != nil {
		t.Fatal("ClientTLS set without secureClientPort")
	}
	want := []string{"ssl.keyStore.location", "ssl.trustStore.location", "ssl.clientAuth"}
	if !slices.Equal(want, ignored) {
		t.Fatalf("ignored %v, want %v", ignored, want)
	}
}

// TestZooCfgPortUnification: client.portUnification=true (any case, as
// Java's Boolean.getBoolean) with Netty's factory reads the stores without
// a secure port; false leaves them unread and says so, and so does a
// zoo.cfg without Netty's factory or a plain port, where ZooKeeper ignores
// the key. A Config that unifies a port needs that port and ClientTLS.
func TestZooCfgPortUnification(t *testing.T) {
	ca, keyStore, _, _ := clientTLSFiles(t)
	stores := fmt.Sprintf("tickTime=2000\ndataDir=/d\nssl.keyStore.location=%s\nssl.trustStore.location=%s\n", keyStore, ca)
	base := stores + "clientPort=2181\nserverCnxnFactory=" + nettyFactory + "\n"
	for name, text := range map[string]string{
		"NIO":        stores + "clientPort=2181\nserverCnxnFactory=" + nioFactory + "\n",
		"no factory": stores + "clientPort=2181\n",
		"no port":    stores + "serverCnxnFactory=" + nettyFactory + "\n",
	} {
		cfg, ignored, err := ParseZooCfg(strings.NewReader(text+"client.portUnification=true\n"), nil)
		if err != nil || cfg.ClientPortUnification || cfg.ClientTLS != nil || !slices.Contains(ignored, keyUnification) {
			t.Errorf("%s: unified %v, ClientTLS %v, ignored %v, %v", name, cfg.ClientPortUnification, cfg.ClientTLS != nil, ignored, err)
		}
	}
	cfg, ignored, err := ParseZooCfg(strings.NewReader(base+"client.portUnification=True\n"), nil)
	if err != nil || !cfg.ClientPortUnification || cfg.ClientTLS == nil || len(ignored) != 0 {
		t.Fatalf("unified: %v, ClientTLS %v, ignored %v, %v", cfg.ClientPortUnification, cfg.ClientTLS != nil, ignored, err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("unified: Validate: %v", err)
	}
	cfg, ignored, err = ParseZooCfg(strings.NewReader(base+"client.portUnification=false\n"), nil)
	if err != nil || cfg.ClientPortUnification || cfg.ClientTLS != nil || len(ignored) != 2 {
		t.Errorf("not unified: %v, ClientTLS %v, ignored %v, %v", cfg.ClientPortUnification, cfg.ClientTLS != nil, ignored, err)
	}
	pair, err := tls.LoadX509KeyPair(keyStore, keyStore)
	if err != nil {
		t.Fatal(err)
	}
	for field, c := range map[string]Config{
		"ClientPortUnification": {DataDir: "/d", ClientPortUnification: true, ClientTLS: &tls.Config{Certificates: []tls.Certificate{pair}}},
		"ClientTLS":             {DataDir: "/d", ClientPort: -1, ClientPortUnification: true},
	} {
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), field+":") {
			t.Errorf("Validate: %v, want ErrInvalidConfig about %s", err, field)
		}
	}
}
