package transport

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/embedzk/zk/internal/testpki"
)

// PKI is a throwaway certificate authority for tests (exported to the
// external test package).
type PKI struct {
	ca   *testpki.CA
	Pool *x509.CertPool
}

// NewPKI makes a CA.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	ca := testpki.NewCA(t, "zk test CA")
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return &PKI{ca: ca, Pool: pool}
}

// Config returns a TLS configuration with a certificate for the DNS names,
// trusting this CA both ways.
func (p *PKI) Config(t testing.TB, names ...string) *tls.Config {
	t.Helper()
	certPEM, keyPEM := p.ca.Issue(t, "zk test peer", names, nil)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: p.Pool, ClientCAs: p.Pool}
}

// PeerConfig is Config for PeerName(id).
func (p *PKI) PeerConfig(t testing.TB, id int64) *tls.Config {
	return p.Config(t, PeerName(id))
}
