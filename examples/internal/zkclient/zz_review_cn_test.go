package zkclient

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
)

// TestReviewWildcardCN: ZKHostnameVerifier.matchCN matches a CN
// "*.example.com" (matchIdentityStrict) when the certificate has no SAN;
// namesHost compares the CN exactly.
func TestReviewWildcardCN(t *testing.T) {
	cert := &x509.Certificate{Subject: pkix.Name{CommonName: "*.example.com"}}
	if !namesHost(cert, "zk1.example.com") {
		t.Fatal("CN *.example.com does not name zk1.example.com; ZooKeeper's verifier accepts it")
	}
	for _, h := range []string{"a.b.example.com", "example.com", "zk1.example.org"} {
		if namesHost(cert, h) {
			t.Errorf("CN *.example.com names %s; ZooKeeper's verifier refuses it", h)
		}
	}
}
