package znode

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/embedzk/zk/internal/zkerr"
)

// ACL schemes.
const (
	SchemeWorld  = "world"
	SchemeAuth   = "auth"
	SchemeDigest = "digest"
	SchemeIP     = "ip"
	SchemeSuper  = "super"
	// IDAnyone is the only id of the world scheme.
	IDAnyone = "anyone"
)

// OpenACLUnsafe returns ZooKeeper's OPEN_ACL_UNSAFE: everyone may do
// everything.
func OpenACLUnsafe() []ACL { return []ACL{{Perms: PermAll, Scheme: SchemeWorld, ID: IDAnyone}} }

// CreatorAllACL returns ZooKeeper's CREATOR_ALL_ACL: all permissions for the
// creator's authenticated ids ("auth" is expanded by FixupACL).
func CreatorAllACL() []ACL { return []ACL{{Perms: PermAll, Scheme: SchemeAuth, ID: ""}} }

// ReadACLUnsafe returns ZooKeeper's READ_ACL_UNSAFE: everyone may read.
func ReadACLUnsafe() []ACL { return []ACL{{Perms: PermRead, Scheme: SchemeWorld, ID: IDAnyone}} }

// DigestID returns the id the digest scheme stores for user and password,
// exactly as ZooKeeper's DigestAuthenticationProvider.generateDigest does:
// "user:" + base64(sha1("user:password")). The user part is what precedes
// the first ':' of "user:password", as in ZooKeeper.
func DigestID(user, password string) string {
	idPassword := user + ":" + password
	sum := sha1.Sum([]byte(idPassword))
	name, _, _ := strings.Cut(idPassword, ":")
	return name + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// CheckACL reports whether a session with the authenticated ids may do perm
// on a node whose ACL is acl, as ZooKeeperServer.checkACL decides: an empty
// ACL allows everything, a "super" identity is allowed everything (the caller
// adds it for a session that authenticated with the super digest), and
// otherwise some entry granting perm must be world:anyone or match one of
// the ids of the same scheme (digest: equal ids; ip: the address within the
// entry's address/bits range).
func CheckACL(acl []ACL, perm Perm, ids []Identity) bool {
	if len(acl) == 0 {
		return true
	}
	for _, id := range ids {
		if id.Scheme == SchemeSuper {
			return true
		}
	}
	for _, a := range acl {
		if a.Perms&perm == 0 {
			continue
		}
		if a.Scheme == SchemeWorld && a.ID == IDAnyone {
			return true
		}
		for _, id := range ids {
			if id.Scheme != a.Scheme {
				continue
			}
			switch a.Scheme {
			case SchemeDigest:
				if id.ID == a.ID {
					return true
				}
			case SchemeIP:
				if ipMatches(id.ID, a.ID) {
					return true
				}
			}
		}
	}
	return false
}

// FixupACL validates and expands the ACL of a create or setACL by a session
// with the authenticated ids, as ZooKeeper's PrepRequestProcessor.fixupACL:
// duplicates are removed; world:anyone is kept; an "auth" entry is replaced by
// one entry per authenticated digest id of the session (ip ids are not
// "authenticated" in ZooKeeper's sense and are skipped); digest and ip
// entries must be well formed. An empty list, an unknown scheme, a malformed
// id, an "auth" entry with no digest id to expand to, and (unlike ZooKeeper,
// which stores any bits) permissions outside PermAll fail with
// zkerr.ErrInvalidACL. The result is a fresh slice.
func FixupACL(acl []ACL, ids []Identity) ([]ACL, error) {
	// Duplicates go in one pass (ZooKeeper's list search is quadratic: a
	// request of 1 MiB of distinct entries would hold the leader for
	// minutes).
	uniq := make([]ACL, 0, len(acl))
	seen := make(map[ACL]struct{}, len(acl))
	for _, a := range acl {
		if _, dup := seen[a]; !dup {
			seen[a] = struct{}{}
			uniq = append(uniq, a)
		}
	}
	if len(uniq) == 0 {
		return nil, fmt.Errorf("%w: empty ACL", zkerr.ErrInvalidACL)
	}
	out := make([]ACL, 0, len(uniq))
	for _, a := range uniq {
		if a.Scheme != SchemeAuth {
			if err := validateACLEntry(a); err != nil {
				return nil, err
			}
			out = append(out, a)
			continue
		}
		if a.Perms&^PermAll != 0 {
			return nil, fmt.Errorf("%w: permissions %#x outside %#x", zkerr.ErrInvalidACL, int32(a.Perms), int32(PermAll))
		}
		expanded := false
		for _, id := range ids {
			if id.Scheme == SchemeDigest {
				out = append(out, ACL{Perms: a.Perms, Scheme: id.Scheme, ID: id.ID})
				expanded = true
			}
		}
		if !expanded {
			return nil, fmt.Errorf("%w: auth scheme without an authenticated id", zkerr.ErrInvalidACL)
		}
	}
	return out, nil
}

// validateACL checks an ACL as Apply stores it: non-empty, every entry valid
// and already expanded (no "auth").
func validateACL(acl []ACL) error {
	if len(acl) == 0 {
		return fmt.Errorf("%w: empty ACL", zkerr.ErrInvalidACL)
	}
	for _, a := range acl {
		if err := validateACLEntry(a); err != nil {
			return err
		}
	}
	return nil
}

func validateACLEntry(a ACL) error {
	if a.Perms&^PermAll != 0 {
		return fmt.Errorf("%w: permissions %#x outside %#x", zkerr.ErrInvalidACL, int32(a.Perms), int32(PermAll))
	}
	ok := false
	switch a.Scheme {
	case SchemeWorld:
		ok = a.ID == IDAnyone
	case SchemeDigest:
		ok = validDigestID(a.ID)
	case SchemeIP:
		ok = validIPID(a.ID)
	}
	if !ok {
		return fmt.Errorf("%w: %s:%s", zkerr.ErrInvalidACL, a.Scheme, a.ID)
	}
	return nil
}

// validDigestID mirrors DigestAuthenticationProvider.isValid: Java's
// id.split(":") must give exactly two parts (Java drops trailing empty
// parts, so "a:b:" is valid and "a:" is not).
func validDigestID(id string) bool {
	return len(javaSplit(id, ':')) == 2
}

// javaSplit splits s at every sep and drops trailing empty parts, as Java's
// String.split(regex) does.
func javaSplit(s string, sep byte) []string {
	parts := strings.Split(s, string(sep))
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) == 0 {
		// Java: "".split(":") is [""], but ":".split(":") is [].
		if s == "" {
			return []string{""}
		}
	}
	return parts
}
