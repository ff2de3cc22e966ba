package keystore

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrPassword is wrapped by the error of a store or key that its password
// does not open (a JKS digest or key check that fails, a PKCS12 MAC, an
// encrypted PEM key).
var ErrPassword = errors.New("keystore: wrong password")

// Store types, as ZooKeeper names them in ssl.keyStore.type.
const (
	TypePEM    = "PEM"
	TypeJKS    = "JKS"
	TypePKCS12 = "PKCS12"
)

// TypeOf is the store type of typ (case-insensitive), or, when typ is
// empty, of path's extension as ZooKeeper's KeyStoreFileType guesses it
// (".jks", ".p12", ".pem", exactly); any other name is an error that asks
// for the type. BCFKS, which ZooKeeper knows, is an error too: zk does not
// read it.
func TypeOf(typ, path string) (string, error) {
	if typ == "" {
		switch filepath.Ext(path) {
		case ".jks":
			return TypeJKS, nil
		case ".p12":
			return TypePKCS12, nil
		case ".pem":
			return TypePEM, nil
		}
		return "", fmt.Errorf("cannot tell the store type of %q from its name (.jks, .p12 or .pem): set its type", path)
	}
	switch strings.ToUpper(typ) {
	case TypePEM:
		return TypePEM, nil
	case TypeJKS:
		return TypeJKS, nil
	case TypePKCS12:
		return TypePKCS12, nil
	}
	return "", fmt.Errorf("store type %q: zk reads PEM, JKS and PKCS12", typ)
}

// Load reads the key store at path, of type typ (see TypeOf), with
// password ("" for none): one private key and its certificate chain.
func Load(path, typ, password string) (tls.Certificate, error) {
	t, b, err := read(path, typ)
	if err != nil {
		return tls.Certificate{}, err
	}
	var cert tls.Certificate
	switch t {
	case TypePEM:
		cert, err = pemKeyPair(b, password)
	case TypeJKS:
		cert, err = jksKeyPair(b, password)
	default:
		cert, err = pkcs12KeyPair(b, password)
	}
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("key store %s (%s): %w", path, t, err)
	}
	return cert, nil
}

// LoadTrust reads the trust store at path, of type typ, with password:
// the CA certificates it trusts, at least one.
func LoadTrust(path, typ, password string) (*x509.CertPool, error) {
	t, b, err := read(path, typ)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	switch t {
	case TypePEM:
		certs, err = pemCertificates(b)
	case TypeJKS:
		certs, err = jksTrusted(b, password)
	default:
		certs, err = pkcs12Trusted(b, password)
	}
	if err == nil && len(certs) == 0 {
		err = errors.New("no trusted certificate")
	}
	if err != nil {
		return nil, fmt.Errorf("trust store %s (%s): %w", path, t, err)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// read returns the file's bytes and the type to read them as: a JKS or
// PKCS12 store is read by what it holds, as Java 17 reads either type.
func read(path, typ string) (string, []byte, error) {
	t, err := TypeOf(typ, path)
	if err != nil {
		return "", nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	if t != TypePEM {
		t = TypePKCS12
		if isJKS(b) {
			t = TypeJKS
		}
	}
	return t, b, nil
}

// ReadPassword returns the password the file at path holds, as ZooKeeper's
// *.passwordPath keys read it on Linux: the whole file, less one trailing
// "\n".
func ReadPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}
