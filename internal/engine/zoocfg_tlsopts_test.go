package engine

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestZooCfgClientTLSOptions: ssl.protocol, ssl.enabledProtocols and
// ssl.ciphersuites shape ClientTLS as ZooKeeper 3.8's SSLContextAndOptions
// shapes its server: TLSv1.2 alone and ZooKeeper's ECDHE suites by default;
// TLS 1.3 only with one of its suites listed; nothing that serves no
// version.
func TestZooCfgClientTLSOptions(t *testing.T) {
	ca, keyStore, _, _ := clientTLSFiles(t)
	base := fmt.Sprintf("tickTime=2000\ndataDir=/d\nsecureClientPort=2281\nssl.keyStore.location=%s\nssl.trustStore.location=%s\n", keyStore, ca)
	gcm := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}
	cbc := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA}
	for _, c := range []struct {
		lines       string
		minV, maxV  uint16
		ciphers     []uint16
		ignoredKeys []string
	}{
		{"", tls.VersionTLS12, tls.VersionTLS12, slices.Concat(gcm, cbc), nil},
		{"ssl.protocol=TLSv1.3\nssl.ciphersuites=TLS_AES_128_GCM_SHA256\n", tls.VersionTLS13, tls.VersionTLS13, nil, nil},
		// ZooKeeper's default suites are all TLS 1.2 ones: no TLS 1.3.
		{"ssl.protocol=TLSv1.3\nssl.enabledProtocols=TLSv1.2, TLSv1.3\n", tls.VersionTLS12, tls.VersionTLS12, slices.Concat(gcm, cbc), nil},
		{"ssl.enabledProtocols=TLSv1.2,TLSv1.3\nssl.ciphersuites=TLS_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n",
			tls.VersionTLS12, tls.VersionTLS13, gcm[:1], nil},
		// Java 17 serves neither TLSv1 nor TLSv1.1, nor RC4 and 3DES suites.
		{"ssl.protocol=TLS\nssl.enabledProtocols=TLSv1.1,TLSv1,TLSv1.2\n", tls.VersionTLS12, tls.VersionTLS12, slices.Concat(gcm, cbc), nil},
		{"ssl.ciphersuites=TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,TLS_ECDHE_RSA_WITH_RC4_128_SHA,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n",
			tls.VersionTLS12, tls.VersionTLS12, gcm[1:2],
			[]string{"ssl.ciphersuites: TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ssl.ciphersuites: TLS_ECDHE_RSA_WITH_RC4_128_SHA"}},
		{"ssl.ciphersuites=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,TLS_AES_128_GCM_SHA256\n",
			tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384},
			[]string{"ssl.ciphersuites: TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"}},
		{"ssl.enabledProtocols=TLSv1.2,TLSv1.3\nssl.ciphersuites=TLS_AES_128_GCM_SHA256\n", tls.VersionTLS13, tls.VersionTLS13, nil, nil},
		{"ssl.hostnameVerification=false\n", tls.VersionTLS12, tls.VersionTLS12, slices.Concat(gcm, cbc), nil},
	} {
		cfg, ignored, err := ParseZooCfg(strings.NewReader(base+c.lines), nil)
		if err != nil {
			t.Fatalf("%q: %v", c.lines, err)
		}
		tc := cfg.ClientTLS
		if tc.MinVersion != c.minV || tc.MaxVersion != c.maxV {
			t.Errorf("%q: versions %#x..%#x, want %#x..%#x", c.lines, tc.MinVersion, tc.MaxVersion, c.minV, c.maxV)
		}
		if !slices.Equal(tc.CipherSuites, c.ciphers) {
			t.Errorf("%q: cipher suites %v, want %v", c.lines, tc.CipherSuites, c.ciphers)
		}
		if !slices.Equal(ignored, c.ignoredKeys) {
			t.Errorf("%q: ignored %q, want %q", c.lines, ignored, c.ignoredKeys)
		}
	}
	for _, bad := range []string{
		"ssl.protocol=TLS\n", "ssl.protocol=SSLv3\n", "ssl.enabledProtocols=TLSv1.1,TLSv1.3\n",
		"ssl.enabledProtocols=TLSv1.2,\n", "ssl.ciphersuites=TLS_RSA_WITH_NOTHING\n",
		"ssl.ciphersuites=TLS_AES_128_GCM_SHA256\n", "ssl.protocol=TLSv1.3\n", "ssl.enabledProtocols=TLSv1,TLSv1.1\n",
		"ssl.protocol=TLS\n", "ssl.protocol=bogus\nssl.enabledProtocols=TLSv1.2\n",
	} {
		if _, _, err := ParseZooCfg(strings.NewReader(base+bad), nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%q: %v, want ErrInvalidConfig", bad, err)
		}
	}
	// Without the secure port the keys do nothing, and say so.
	_, ignored, err := ParseZooCfg(strings.NewReader("tickTime=2000\ndataDir=/d\nclientPort=2181\nssl.protocol=TLSv1.3\nssl.ciphersuites=X\n"), nil)
	if err != nil || !slices.Equal(ignored, []string{keyClientProtocol, keyClientCiphers}) {
		t.Errorf("without secureClientPort: ignored %q, %v", ignored, err)
	}
}

// TestZooCfgJavaStores: the client port's and the quorum's stores may be
// JKS or PKCS12 (internal/keystore's test stores, made by keytool), with
// their passwords in zoo.cfg or in a passwordPath file.
func TestZooCfgJavaStores(t *testing.T) {
	dir, err := filepath.Abs("../keystore/testdata")
	if err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("zksecret\n"), 0o600)
	text := fmt.Sprintf(`tickTime=2000
dataDir=/d
secureClientPort=2281
ssl.keyStore.location=%[1]s/server.jks
ssl.keyStore.password=zksecret
ssl.trustStore.location=%[1]s/trust.p12
ssl.trustStore.type=PKCS12
ssl.trustStore.passwordPath=%[2]s
sslQuorum=true
ssl.quorum.keyStore.location=%[1]s/server.p12
ssl.quorum.keyStore.passwordPath=%[2]s
ssl.quorum.trustStore.location=%[1]s/trust.jks
ssl.quorum.trustStore.type=jks
ssl.quorum.trustStore.password=zksecret
`, dir, pwFile)
	cfg, ignored, err := ParseZooCfg(strings.NewReader(text), nil)
	if err != nil || len(ignored) != 0 {
		t.Fatalf("%v, ignored %v", err, ignored)
	}
	for name, tc := range map[string]*tls.Config{"ClientTLS": cfg.ClientTLS, "PeerTLS": cfg.PeerTLS} {
		if len(tc.Certificates) != 1 || len(tc.Certificates[0].Certificate) != 2 || tc.Certificates[0].Leaf.Subject.CommonName != "zk server" {
			t.Errorf("%s: certificates %v", name, tc.Certificates)
		}
	}
	if cfg.ClientTLS.ClientCAs == nil || cfg.PeerTLS.RootCAs == nil {
		t.Error("a trust store was not read")
	}
	for _, bad := range []string{"ssl.keyStore.password=wrong\n", "ssl.quorum.keyStore.passwordPath=" + pwFile + ".missing\n",
		// ZooKeeper opens a store it has no password for with "", which
		// Java checks a JKS store's digest with.
		"ssl.quorum.trustStore.password=\n"} {
		if _, _, err := ParseZooCfg(strings.NewReader(text+bad), nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%q: %v, want ErrInvalidConfig", bad, err)
		}
	}
}
