package engine

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// DigestAuth returns the digest identity ZooKeeper computes for user and
// password: "user:" + base64(sha1("user:password")). Use it to build
// Config.SuperDigest or digest ACLs.
func DigestAuth(user, password string) string { return znode.DigestID(user, password) }

// identityFor turns AddAuth's arguments into an identity.
func identityFor(scheme string, auth []byte) (znode.Identity, error) {
	switch scheme {
	case "digest":
		user, password, ok := strings.Cut(string(auth), ":")
		if !ok || user == "" {
			return znode.Identity{}, fmt.Errorf("%w: digest auth must be user:password", zkerr.ErrAuthFailed)
		}
		return znode.Identity{Scheme: "digest", ID: znode.DigestID(user, password)}, nil
	case "ip":
		if net.ParseIP(string(auth)) == nil {
			return znode.Identity{}, fmt.Errorf("%w: %q is not an IP address", zkerr.ErrAuthFailed, auth)
		}
		return znode.Identity{Scheme: "ip", ID: string(auth)}, nil
	}
	return znode.Identity{}, fmt.Errorf("%w: unknown auth scheme %q", zkerr.ErrAuthFailed, scheme)
}

// validateDigestID checks the shape "user:base64(sha1)" of a digest id.
func validateDigestID(id string) error {
	user, hash, ok := strings.Cut(id, ":")
	if !ok || user == "" {
		return errors.New("want user:base64(sha1(user:password)), as DigestAuth makes it")
	}
	raw, err := base64.StdEncoding.DecodeString(hash)
	if err != nil || len(raw) != 20 {
		return errors.New("the part after the colon is not a base64 SHA-1 digest")
	}
	return nil
}
