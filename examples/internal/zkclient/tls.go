package zkclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
)

// TLS is the client side of a secure client port, as ZooKeeper 3.8's
// Netty client socket sets its SSLEngine up (ClientX509Util's
// createSSLContext): the key store's key, the trust store's CAs, and
// ZKTrustManager's check of the server's host.
type TLS struct {
	// Certificates are the key store's key and chain, sent when the server
	// asks for a certificate whose issuer they match (Java's key manager
	// sends none otherwise, and so does crypto/tls).
	Certificates []tls.Certificate
	// Roots are the trust store's CAs; nil trusts the system's, as Java's
	// default trust manager does without a trust store.
	Roots *x509.CertPool
	// VerifyHost checks that the server's certificate names the server
	// (ZKTrustManager with ssl.hostnameVerification, set only with a trust
	// store): see verifyHost.
	VerifyHost bool
	// MinVersion and MaxVersion are the TLS versions the client offers.
	MinVersion, MaxVersion uint16
}

// ErrTLSVerify is wrapped by the error of a handshake whose server
// certificate the client does not trust, or which names another host.
var ErrTLSVerify = errors.New("zkclient: server certificate refused")

// handshakeTLS runs the TLS handshake on nc, dialled to addr, within
// ctx, and returns the secured connection.
func (t *TLS) handshakeTLS(ctx context.Context, nc net.Conn, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var remote net.IP
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		remote = ta.IP
	}
	cfg := &tls.Config{
		Certificates: t.Certificates, MinVersion: t.MinVersion, MaxVersion: t.MaxVersion,
		// The chain and the host are checked as ZooKeeper's trust manager
		// checks them, which crypto/tls's own check does not match.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			return t.verify(ctx, cs.PeerCertificates, host, remote)
		},
	}
	if net.ParseIP(host) == nil {
		cfg.ServerName = host // SNI, as Java's engine sends it for a host name
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// verify checks the server's chain against Roots (Java's PKIX trust
// manager, revocation off: ZooKeeper's default) and, with VerifyHost, its
// host.
func (t *TLS) verify(ctx context.Context, chain []*x509.Certificate, host string, remote net.IP) error {
	if len(chain) == 0 {
		return fmt.Errorf("%w: no certificate", ErrTLSVerify)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: t.Roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if _, err := chain[0].Verify(opts); err != nil {
		return fmt.Errorf("%w: %w", ErrTLSVerify, err)
	}
	if !t.VerifyHost {
		return nil
	}
	return verifyHost(ctx, chain[0], host, remote)
}

// verifyHost is ZKTrustManager's performHostVerification: the server's
// address (remote, the IP dialled) must be named by the certificate, or
// else its host name: the connect string's name, or, when that is an IP
// address, the name a reverse lookup gives (Java's getHostName). A name
// is matched as ZKHostnameVerifier matches it: against the certificate's
// DNS and IP subject alternative names when it has any, else against its
// subject's CN (matchIdentityStrict).
func verifyHost(ctx context.Context, cert *x509.Certificate, host string, remote net.IP) error {
	if remote == nil {
		remote = net.ParseIP(host)
	}
	if remote != nil && namesHost(cert, remote.String()) {
		return nil
	}
	name := host
	if net.ParseIP(host) != nil {
		name = ""
		if names, err := net.DefaultResolver.LookupAddr(ctx, host); err == nil && len(names) > 0 {
			name = strings.TrimSuffix(names[0], ".")
		}
	}
	if name != "" && namesHost(cert, name) {
		return nil
	}
	return fmt.Errorf("%w: it names neither %s nor %q (ssl.hostnameVerification)", ErrTLSVerify, remote, name)
}

// namesHost reports whether cert names h, an IP address or a DNS name.
func namesHost(cert *x509.Certificate, h string) bool {
	if len(cert.DNSNames) > 0 || len(cert.IPAddresses) > 0 {
		return cert.VerifyHostname(h) == nil
	}
	return cert.Subject.CommonName != "" && matchIdentityStrict(h, cert.Subject.CommonName)
}

// matchIdentityStrict is ZKHostnameVerifier's, with which matchCN
// compares a host with the CN (both lower-cased): one '*' in the CN
// matches any part of the host without a dot ("*.example.com" names
// zk1.example.com); else the two must be equal.
func matchIdentityStrict(host, identity string) bool {
	host, identity = strings.ToLower(host), strings.ToLower(identity)
	prefix, suffix, wild := strings.Cut(identity, "*")
	if !wild {
		return host == identity
	}
	if len(host) < len(prefix)+len(suffix) || !strings.HasPrefix(host, prefix) || !strings.HasSuffix(host, suffix) {
		return false
	}
	return !strings.Contains(host[len(prefix):len(host)-len(suffix)], ".")
}
