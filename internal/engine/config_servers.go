package engine

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"

	"github.com/embedzk/zk/zab/transport"
)

// validateServers checks the ensemble's members: the server list, this
// peer's place in it, groups and weights, and the peers' TLS.
func (c Config) validateServers() error {
	if len(c.Servers) == 0 {
		if len(c.Groups) > 0 || len(c.Weights) > 0 {
			return configErr("Groups", "groups and weights need Servers (a standalone peer is its own quorum)")
		}
		return nil
	}
	voters, err := checkServerList(c.Servers)
	if err != nil {
		return err
	}
	self := false
	for _, s := range c.Servers {
		self = self || s.ID == c.ID
	}
	switch {
	case !self:
		return configErr("ID", "%d is not among Servers", c.ID)
	case voters == 0:
		return configErr("Servers", "no voters (every server is an observer)")
	case c.Transport == nil && len(c.PeerSecret) == 0 && c.PeerTLS == nil:
		return configErr("PeerSecret", "required with Servers unless PeerTLS or Transport is set (peers must authenticate; "+
			"in zoo.cfg: quorum.auth.secret.location, or sslQuorum=true with the ssl.quorum.* stores)")
	}
	if len(c.PeerSecret) > 0 {
		if err := transport.CheckSecret(c.PeerSecret); err != nil {
			return fmt.Errorf("%w: PeerSecret: %w", ErrInvalidConfig, err)
		}
	}
	if c.Transport == nil && c.PeerTLS != nil {
		if err := checkPeerCert(c.PeerTLS, c.ID); err != nil {
			return configErr("PeerTLS", "%v", err)
		}
	}
	_, err = c.quorum()
	return err
}

// checkServerList checks each server line and that no id or address is
// used twice; it returns how many are voters.
func checkServerList(servers []Server) (int, error) {
	ids := map[int64]bool{}
	addrs := map[string]int64{}
	voters := 0
	for i, s := range servers {
		field := fmt.Sprintf("Servers[%d]", i)
		switch {
		case s.ID < 1 || s.ID > 254:
			return 0, configErr(field, "id %d is outside 1..254", s.ID)
		case ids[s.ID]:
			return 0, configErr(field, "duplicate id %d", s.ID)
		case s.Host == "":
			return 0, configErr(field, "server.%d has no host", s.ID)
		case s.QuorumPort < 1 || s.QuorumPort > 65535:
			return 0, configErr(field, "server.%d quorum port %d is outside 1..65535", s.ID, s.QuorumPort)
		case s.ElectionPort < 0 || s.ElectionPort > 65535:
			return 0, configErr(field, "server.%d election port %d is outside 0..65535", s.ID, s.ElectionPort)
		}
		if other, dup := addrs[s.QuorumAddr()]; dup {
			return 0, configErr(field, "server.%d has the same address %s as server.%d", s.ID, s.QuorumAddr(), other)
		}
		ids[s.ID] = true
		addrs[s.QuorumAddr()] = s.ID
		if !s.Observer {
			voters++
		}
	}
	return voters, nil
}

// checkPeerCert checks that this peer's own certificate names it, so a
// certificate issued for another peer fails here rather than at every
// handshake.
func checkPeerCert(c *tls.Config, id int64) error {
	if len(c.Certificates) == 0 || len(c.Certificates[0].Certificate) == 0 {
		return nil // GetCertificate or friends: checked at the handshake
	}
	leaf := c.Certificates[0].Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(c.Certificates[0].Certificate[0]); err != nil {
			return fmt.Errorf("this peer's certificate: %v", err)
		}
	}
	if err := leaf.VerifyHostname(transport.PeerName(id)); err != nil {
		return fmt.Errorf("this peer's certificate must carry the DNS name %s: %v", transport.PeerName(id), err)
	}
	return nil
}
