package wire_test

import (
	"crypto/tls"
	"fmt"
	"strings"
	"testing"

	"github.com/embedzk/zk/internal/engine"
)

// TestSecureTLSVersionsLikeZooKeeper: the secure port's TLS versions and
// cipher suites as zoo.cfg's ssl.protocol, ssl.enabledProtocols and
// ssl.ciphersuites set them, on zk and on a real ZooKeeper 3.8 given the
// same lines: by default TLS 1.2 alone (a client that offers only TLS 1.3
// is refused), TLS 1.3 once enabled and one of its suites listed (the
// default suites are all TLS 1.2 ones), and a client offering only a suite
// the server does not list is refused.
func TestSecureTLSVersionsLikeZooKeeper(t *testing.T) {
	const ours = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
	cases := []struct {
		lines string
		check func(t *testing.T, secure string, f *tlsFiles)
	}{
		{"", func(t *testing.T, secure string, f *tlsFiles) {
			expectTLS(t, secure, f, tls.VersionTLS13, 0, false)
			expectTLS(t, secure, f, tls.VersionTLS12, 0, true)
		}},
		// ZooKeeper's default suites are TLS 1.2 ones: 1.3 stays off.
		{"ssl.enabledProtocols=TLSv1.2,TLSv1.3\n", func(t *testing.T, secure string, f *tlsFiles) {
			expectTLS(t, secure, f, tls.VersionTLS13, 0, false)
			expectTLS(t, secure, f, tls.VersionTLS12, 0, true)
		}},
		{"ssl.enabledProtocols=TLSv1.2,TLSv1.3\nssl.ciphersuites=TLS_AES_128_GCM_SHA256," + ours + "\n", func(t *testing.T, secure string, f *tlsFiles) {
			expectTLS(t, secure, f, tls.VersionTLS13, 0, true)
			expectTLS(t, secure, f, tls.VersionTLS12, 0, true)
		}},
		{"ssl.protocol=TLSv1.3\nssl.ciphersuites=TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384\n", func(t *testing.T, secure string, f *tlsFiles) {
			expectTLS(t, secure, f, tls.VersionTLS13, 0, true)
			expectTLS(t, secure, f, tls.VersionTLS12, 0, false)
		}},
		{"ssl.ciphersuites=" + ours + "\n", func(t *testing.T, secure string, f *tlsFiles) {
			expectTLS(t, secure, f, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, true)
			expectTLS(t, secure, f, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, false)
		}},
	}
	for _, c := range cases {
		name := strings.ReplaceAll(strings.TrimSpace(c.lines), "\n", " ")
		if name == "" {
			name = "defaults"
		}
		t.Run(name, func(t *testing.T) {
			t.Run("zk", func(t *testing.T) {
				f := newTLSFiles(t)
				c.check(t, zkFromZooCfgTLS(t, f, c.lines).SecureClientAddr(), f)
			})
			t.Run("ZooKeeper", func(t *testing.T) {
				f := newTLSFiles(t)
				secure, _ := startRealZKTLS(t, f, "need", c.lines)
				c.check(t, secure, f)
			})
		})
	}
}

// expectTLS checks that bob's client, speaking only TLS version v (and
// offering only cipher suite cs, if not 0), opens a session on secure, or
// is refused.
func expectTLS(t *testing.T, secure string, f *tlsFiles, v, cs uint16, served bool) {
	t.Helper()
	cfg := f.client(t, "bob")
	cfg.MinVersion, cfg.MaxVersion = v, v
	if cs != 0 {
		cfg.CipherSuites = []uint16{cs}
	}
	err := tlsRefused(t, secure, cfg)
	if served != (err == nil) {
		t.Errorf("TLS %#x, suite %#x: session opened %v (%v), want %v", v, cs, err == nil, err, served)
	}
}

const nettyFactory = "org.apache.zookeeper.server.NettyServerCnxnFactory"

// zkFromZooCfgTLS starts a peer with both client ports whose secure port
// (and maxClientCnxns, client.portUnification) is configured by a zoo.cfg
// with f's PEM stores and the lines extra, as startRealZKTLS configures
// ZooKeeper's.
func zkFromZooCfgTLS(t *testing.T, f *tlsFiles, extra string) *engine.Ensemble {
	t.Helper()
	zcfg := fmt.Sprintf("tickTime=500\ndataDir=/unused\nclientPort=1\nsecureClientPort=1\nserverCnxnFactory=%s\nssl.keyStore.location=%s\nssl.trustStore.location=%s\n%s",
		nettyFactory, f.keyStore, f.ca, extra)
	parsed, ignored, err := engine.ParseZooCfg(strings.NewReader(zcfg), nil)
	must(t, err)
	if len(ignored) != 0 {
		t.Fatalf("zoo.cfg keys ignored: %v", ignored)
	}
	cfg := peerConfig()
	cfg.SecureClientPort, cfg.SecureClientPortAddress = -1, "127.0.0.1"
	cfg.ClientTLS, cfg.MaxClientCnxns, cfg.ClientPortUnification = parsed.ClientTLS, parsed.MaxClientCnxns, parsed.ClientPortUnification
	return startPeer(t, cfg)
}
