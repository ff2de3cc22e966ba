package engine

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// DigestAuth returns the digest identity ZooKeeper computes for user and
// password with its default hash: "user:" + base64(sha1("user:password")).
// Use it to build Config.SuperDigest or digest ACLs; DigestAuthWith
// computes it for another Config.DigestAlg.
func DigestAuth(user, password string) string { return znode.DigestID(user, password) }

// DigestAuthWith returns the digest identity ZooKeeper computes for user
// and password with the hash alg, named as Config.DigestAlg names it
// (empty is SHA-1): "user:" + base64(alg("user:password")). An unknown alg
// fails with ErrBadArguments.
func DigestAuthWith(alg, user, password string) (string, error) {
	a, err := Config{DigestAlg: alg}.digestAlg()
	if err != nil {
		return "", err
	}
	return a.ID(user, password), nil
}

// digestAlg is the hash of the digest scheme (DigestAlg; SHA-1 if unset).
func (c Config) digestAlg() (znode.DigestAlg, error) {
	if c.DigestAlg == "" {
		return znode.DigestAlg{}, nil
	}
	return znode.ParseDigestAlg(c.DigestAlg)
}

// identityFor turns AddAuth's arguments into the identity they add, as
// ZooKeeper's authentication providers do; add is false when the scheme adds
// none.
//   - digest: every credential is accepted, with or without a colon, even
//     empty, as DigestAuthenticationProvider.handleAuthentication accepts
//     it, and hashed with Config.DigestAlg; but not a null one (nil), which
//     fails there (ZooKeeper answers AUTHFAILED and closes the connection)
//     and fails here with ErrAuthFailed. With Config.NoDigestAuth the
//     scheme is unknown, as ZooKeeper then registers no provider for it.
//   - ip: IPAuthenticationProvider.handleAuthentication ignores what the
//     client sends and adds the address the connection really comes from,
//     which the session already holds (WithClientAddr): a claimed address
//     adds nothing, and the call succeeds as in ZooKeeper.
//
// Any other scheme fails with ErrAuthFailed (ZooKeeper has no provider for
// it).
func (c *Config) identityFor(scheme string, auth []byte) (id znode.Identity, add bool, err error) {
	switch {
	case scheme == znode.SchemeDigest && !c.NoDigestAuth:
		if auth == nil {
			return znode.Identity{}, false, fmt.Errorf("%w: a null digest credential (an empty one is a credential)", zkerr.ErrAuthFailed)
		}
		alg, err := c.digestAlg()
		if err != nil {
			return znode.Identity{}, false, fmt.Errorf("%w: %w", zkerr.ErrAuthFailed, err)
		}
		return znode.Identity{Scheme: znode.SchemeDigest, ID: alg.Credential(auth)}, true, nil
	case scheme == znode.SchemeIP:
		return znode.Identity{}, false, nil
	case scheme == znode.SchemeDigest:
		return znode.Identity{}, false, fmt.Errorf("%w: the digest scheme is disabled (NoDigestAuth)", zkerr.ErrAuthFailed)
	}
	return znode.Identity{}, false, fmt.Errorf("%w: unknown auth scheme %q", zkerr.ErrAuthFailed, scheme)
}

// clientIP returns the "ip" identity of a client address given to
// WithClientAddr: an IP address, or host:port with an IP host; an
// IPv4-mapped IPv6 address counts as IPv4 (as Java's InetAddress makes it)
// and a zone is dropped. The identity is written as ZooKeeper's
// (JavaHostAddress): 0:0:0:0:0:0:0:1 for ::1.
func clientIP(addr string) (string, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		ap, perr := netip.ParseAddrPort(addr)
		if perr != nil {
			return "", fmt.Errorf("zk: client address %q: %w: want an IP address or ip:port", addr, zkerr.ErrBadArguments)
		}
		a = ap.Addr()
	}
	return JavaHostAddress(a.WithZone("")), nil
}

// validateDigestID checks the shape "user:base64(hash)" of a digest id,
// the hash being alg's.
func validateDigestID(id string, alg znode.DigestAlg) error {
	user, hash, ok := strings.Cut(id, ":")
	if !ok || user == "" {
		return fmt.Errorf("want user:base64(%s(user:password)), as DigestAuthWith makes it", alg)
	}
	raw, err := base64.StdEncoding.DecodeString(hash)
	if err != nil || len(raw) != alg.Size() {
		return fmt.Errorf("the part after the colon is not a base64 %s digest (DigestAlg)", alg)
	}
	return nil
}

// addIdentity gives the session an identity, in its order, once: a digest
// one of AddAuth, {"sasl", user} once a SASL exchange completed on its
// connection, {"x509", DN} for a verified client certificate. super makes
// the session the super user (Config.SuperDigest, SASLSuperUser,
// X509SuperUser), as ZooKeeper's server adds {"super", ...} for them.
func (s *Session) addIdentity(ctx context.Context, id znode.Identity, super bool) error {
	if err := s.usable(); err != nil {
		return err
	}
	return s.ordered(ctx, func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !slices.Contains(s.ids, id) {
			s.ids = append(append([]znode.Identity(nil), s.ids...), id)
		}
		s.super = s.super || super
		return nil
	})
}
