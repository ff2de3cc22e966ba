package transport

import (
	"crypto/tls"
	"fmt"
	"strconv"
)

// PeerName is the DNS name a peer's TLS certificate must carry as a subject
// alternative name to be accepted as peer id: "zk-peer-<id>", for example
// "zk-peer-3". The certificate's common name is not consulted. Because every
// peer both dials and accepts, its certificate needs both the server and the
// client extended key usage (or none).
func PeerName(id int64) string {
	return "zk-peer-" + strconv.FormatInt(id, 10)
}

// validateTLS checks that c can authenticate both ways.
func validateTLS(c *tls.Config) error {
	if c.InsecureSkipVerify {
		return fmt.Errorf("%w: TCPConfig.TLS.InsecureSkipVerify must be false: peers are identified by their certificates", ErrConfig)
	}
	if len(c.Certificates) == 0 && c.GetCertificate == nil {
		return fmt.Errorf("%w: TCPConfig.TLS needs Certificates (or GetCertificate)", ErrConfig)
	}
	if len(c.Certificates) == 0 && c.GetClientCertificate == nil {
		return fmt.Errorf("%w: TCPConfig.TLS needs Certificates (or GetClientCertificate) to dial", ErrConfig)
	}
	if c.ClientCAs == nil {
		return fmt.Errorf("%w: TCPConfig.TLS.ClientCAs must be set to verify dialing peers", ErrConfig)
	}
	if c.RootCAs == nil {
		return fmt.Errorf("%w: TCPConfig.TLS.RootCAs must be set to verify accepting peers", ErrConfig)
	}
	return nil
}

func minTLS12(c *tls.Config) {
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
}

// serverTLS is the acceptor's configuration: a client certificate is
// required and verified against ClientCAs; its name is checked against the
// claimed id after the hello (checkPeerCert).
func serverTLS(base *tls.Config) *tls.Config {
	c := base.Clone()
	c.ClientAuth = tls.RequireAndVerifyClientCert
	minTLS12(c)
	return c
}

// clientTLS is the dialer's configuration for peer: the acceptor's
// certificate must verify against RootCAs and name PeerName(peer).
func clientTLS(base *tls.Config, peer int64) *tls.Config {
	c := base.Clone()
	c.ServerName = PeerName(peer)
	minTLS12(c)
	return c
}

// checkPeerCert checks that the verified client certificate of a TLS
// connection names peer id.
func checkPeerCert(st tls.ConnectionState, id int64) error {
	if len(st.PeerCertificates) == 0 {
		return fmt.Errorf("%w: no client certificate", ErrAuth)
	}
	if err := st.PeerCertificates[0].VerifyHostname(PeerName(id)); err != nil {
		return fmt.Errorf("%w: the certificate is not peer %d's: %v", ErrAuth, id, err)
	}
	return nil
}
