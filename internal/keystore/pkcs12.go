package keystore

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"

	"software.sslmate.com/src/go-pkcs12"
)

// pkcs12KeyPair reads a PKCS12 key store: its private key and chain.
func pkcs12KeyPair(b []byte, password string) (tls.Certificate, error) {
	key, first, others, err := pkcs12.DecodeChain(b, password)
	if err != nil {
		return tls.Certificate{}, pkcs12Err(err)
	}
	// DecodeChain takes the file's first certificate for the key's; the
	// key's is the one with its public key, as Java pairs them.
	all := append([]*x509.Certificate{first}, others...)
	leaf := first
	if pub, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		for _, c := range all {
			if eq, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && eq.Equal(pub.Public()) {
				leaf = c
				break
			}
		}
	}
	cert := tls.Certificate{PrivateKey: key}
	for _, c := range chainOf(leaf, all) {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return checkPair(cert)
}

// chainOf is leaf and its issuers among others, in order, each once: a
// PKCS12 file lists its certificates in no order, and may hold the CA both
// in the key's chain and as a trusted entry, where Java's key manager
// sends the key's chain alone.
func chainOf(leaf *x509.Certificate, others []*x509.Certificate) []*x509.Certificate {
	chain := []*x509.Certificate{leaf}
	for last := leaf; !bytes.Equal(last.RawIssuer, last.RawSubject); {
		var next *x509.Certificate
		for _, c := range others {
			if bytes.Equal(c.RawSubject, last.RawIssuer) && last.CheckSignatureFrom(c) == nil && !slices.ContainsFunc(chain, c.Equal) {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		chain, last = append(chain, next), next
	}
	return chain
}

// pkcs12Trusted reads a PKCS12 trust store: the certificates marked
// trusted for Java, as keytool -importcert marks them.
func pkcs12Trusted(b []byte, password string) ([]*x509.Certificate, error) {
	certs, err := pkcs12.DecodeTrustStore(b, password)
	if err != nil {
		return nil, pkcs12Err(err)
	}
	return certs, nil
}

func pkcs12Err(err error) error {
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return fmt.Errorf("PKCS12: %w", ErrPassword)
	}
	return fmt.Errorf("PKCS12: %w", err)
}
