package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// CA is a certificate authority for one test.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA makes a self-signed CA named name.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := template(t, name)
	tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
	return &CA{Cert: create(t, tmpl, tmpl, key, key), key: key}
}

// CertPEM is the CA's certificate, PEM encoded.
func (ca *CA) CertPEM() []byte { return PEM("CERTIFICATE", ca.Cert.Raw) }

// Issue signs a certificate named cn for the DNS names and IP addresses,
// for both server and client authentication, and returns it and its
// PKCS#8 key, PEM encoded.
func (ca *CA) Issue(t testing.TB, cn string, dns []string, ips []net.IP) (certPEM, keyPEM []byte) {
	t.Helper()
	return ca.IssueSubject(t, pkix.Name{CommonName: cn}, dns, ips)
}

// IssueSubject is Issue for a whole subject name, for tests whose
// identities are distinguished names (ZooKeeper's x509 scheme).
func (ca *CA) IssueSubject(t testing.TB, subject pkix.Name, dns []string, ips []net.IP) (certPEM, keyPEM []byte) {
	t.Helper()
	key := newKey(t)
	tmpl := template(t, "")
	tmpl.Subject = subject
	tmpl.DNSNames, tmpl.IPAddresses = dns, ips
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	cert := create(t, tmpl, ca.Cert, key, ca.key)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return PEM("CERTIFICATE", cert.Raw), PEM("PRIVATE KEY", der)
}

// PEM encodes der as one PEM block of the kind.
func PEM(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// template is a certificate named cn with a random serial number, valid
// from an hour ago for a day.
func template(t testing.TB, cn string) *x509.Certificate {
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	return &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
}

func create(t testing.TB, tmpl, parent *x509.Certificate, key, signer *ecdsa.PrivateKey) *x509.Certificate {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
