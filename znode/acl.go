package znode

import (
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
	// SchemeSASL is the identity of a client that authenticated with SASL
	// on the client port ({"sasl", user}).
	SchemeSASL = "sasl"
	// SchemeX509 is the identity of a client whose TLS certificate the
	// secure client port verified ({"x509", subject DN}).
	SchemeX509 = "x509"
	// IDAnyone is the only id of the world scheme.
	IDAnyone = "anyone"
)

// OpenACLUnsafe returns ZooKeeper's OPEN_ACL_UNSAFE: everyone may do
// everything.
func OpenACLUnsafe() []ACL { return []ACL{{Perms: PermAll, Scheme: SchemeWorld, ID: IDAnyone}} }

// CreatorAllACL returns ZooKeeper's CREATOR_ALL_ACL: all permissions for the
// creator's authenticated ids ("auth" is expanded by ExpandACL).
func CreatorAllACL() []ACL { return []ACL{{Perms: PermAll, Scheme: SchemeAuth, ID: ""}} }

// ReadACLUnsafe returns ZooKeeper's READ_ACL_UNSAFE: everyone may read.
func ReadACLUnsafe() []ACL { return []ACL{{Perms: PermRead, Scheme: SchemeWorld, ID: IDAnyone}} }

// DigestID returns the id the digest scheme stores for user and password
// with ZooKeeper's default algorithm, SHA-1: DigestCredential of
// "user:password". DigestAlg.ID computes it with another.
func DigestID(user, password string) string {
	return DigestAlg{}.ID(user, password)
}

// DigestCredential returns the identity ZooKeeper's digest scheme gives to
// the credential auth of an addauth with its default algorithm, SHA-1
// (DigestAlg.Credential): "user:" + base64(sha1(auth)), user being what
// precedes the first ':' of auth (all of it if there is none). Every
// credential is accepted: "alice" gives "alice:" + base64(sha1("alice")),
// the empty one ":" + base64(sha1("")).
func DigestCredential(auth []byte) string {
	return DigestAlg{}.Credential(auth)
}

// CheckACL reports whether a session with the authenticated ids may do perm
// on a node whose ACL is acl, as ZooKeeperServer.checkACL decides: an empty
// ACL allows everything, a "super" identity is allowed everything (the caller
// adds it for a session that authenticated with the super digest), and
// otherwise some entry granting perm must be world:anyone or match one of
// the ids of the same scheme (digest: equal ids; ip: the address within the
// entry's address/bits range; sasl: equal ids, or the SASL user named
// "super", as ZooKeeper's SASLAuthenticationProvider matches; x509: equal
// distinguished names).
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
			case SchemeSASL:
				if id.ID == a.ID || id.ID == "super" {
					return true
				}
			case SchemeX509:
				if id.ID == a.ID {
					return true
				}
			}
		}
	}
	return false
}

// ExpandACL is the first half of ZooKeeper's PrepRequestProcessor.fixupACL
// for the ACL of a create or setACL by a session with the authenticated ids:
// duplicate entries are dropped, and every "auth" entry is replaced by one
// entry with its permissions for each authenticated digest, sasl and x509
// id of the session (ip ids are not "authenticated" in ZooKeeper's sense). It
// never fails: an "auth" entry with no such id to expand to stays as it is, and the
// second half, the validation that Apply and Prepare run when they reach the
// op (validateACL), refuses it with zkerr.ErrInvalidACL, as ZooKeeper does,
// in ZooKeeper's order among the op's checks. The result is acl itself when
// it has no "auth" entry and no entry twice, else a fresh slice; acl is
// never changed.
func ExpandACL(acl []ACL, ids []Identity) []ACL {
	if plainACL(acl) {
		return acl // nothing to expand or drop: most ACLs (world:anyone)
	}
	uniq := make([]ACL, 0, len(acl))
	seen := make(map[ACL]struct{}, len(acl))
	for _, a := range acl {
		if _, dup := seen[a]; !dup {
			seen[a] = struct{}{}
			uniq = append(uniq, a)
		}
	}
	out := make([]ACL, 0, len(uniq))
	for _, a := range uniq {
		if a.Scheme != SchemeAuth {
			out = append(out, a)
			continue
		}
		expanded := false
		for _, id := range ids {
			if id.Scheme == SchemeDigest || id.Scheme == SchemeSASL || id.Scheme == SchemeX509 {
				out = append(out, ACL{Perms: a.Perms, Scheme: id.Scheme, ID: id.ID})
				expanded = true
			}
		}
		if !expanded {
			out = append(out, a)
		}
	}
	return out
}

// plainACL reports whether acl has no "auth" entry and no entry twice, so
// that ExpandACL would return an equal ACL. It answers false for an ACL of
// more than maxPlainACL entries without looking (its scan is quadratic; a
// request may carry tens of thousands of entries).
func plainACL(acl []ACL) bool {
	if len(acl) > maxPlainACL {
		return false
	}
	for i, a := range acl {
		if a.Scheme == SchemeAuth {
			return false
		}
		for _, b := range acl[:i] {
			if a == b {
				return false
			}
		}
	}
	return true
}

// maxPlainACL bounds the ACLs plainACL scans.
const maxPlainACL = 8

// validateACL checks an ACL as Apply stores it, as the second half of
// ZooKeeper's fixupACL: non-empty, every entry valid and already expanded (an
// "auth" entry left by ExpandACL had no identity to expand to). Permission
// bits are not checked: ZooKeeper stores any int32 (bits beyond cdrwa grant
// nothing; 0 grants nothing at all). noDigest refuses digest entries, as
// fixupACL does when ZooKeeper has no digest provider.
func validateACL(acl []ACL, noDigest bool) error {
	if len(acl) == 0 {
		return fmt.Errorf("%w: empty ACL", zkerr.ErrInvalidACL)
	}
	for _, a := range acl {
		if noDigest && a.Scheme == SchemeDigest {
			return fmt.Errorf("%w: %s:%s (the digest scheme is disabled)", zkerr.ErrInvalidACL, a.Scheme, a.ID)
		}
		if err := validateACLEntry(a); err != nil {
			return err
		}
	}
	return nil
}

func validateACLEntry(a ACL) error {
	ok := false
	switch a.Scheme {
	case SchemeWorld:
		ok = a.ID == IDAnyone
	case SchemeDigest:
		ok = validDigestID(a.ID)
	case SchemeIP:
		ok = validIPID(a.ID)
	case SchemeSASL:
		ok = validSASLID(a.ID)
	case SchemeX509:
		ok = validX509ID(a.ID)
	}
	if !ok {
		return fmt.Errorf("%w: %s:%s", zkerr.ErrInvalidACL, a.Scheme, a.ID)
	}
	return nil
}

// validSASLID mirrors SASLAuthenticationProvider.isValid, which takes
// what Hadoop's KerberosName accepts: a name without '@' (any string), or
// one of the form name[/host]@realm with no further '/' or '@'. zk always
// serves the sasl scheme; ZooKeeper only with its SASL provider
// registered (authProvider.N=...SASLAuthenticationProvider).
func validSASLID(id string) bool {
	at := strings.IndexByte(id, '@')
	if at < 0 {
		return true
	}
	name, realm := id[:at], id[at+1:]
	if strings.ContainsAny(realm, "/@") {
		return false
	}
	_, host, _ := strings.Cut(name, "/")
	return !strings.Contains(host, "/")
}

// validX509ID approximates X509AuthenticationProvider.isValid, which takes
// what Java's X500Principal parses: a distinguished name of one or more
// attribute=value pairs separated by ',' or ';' (a backslash escapes the
// next character). zk always serves the x509 scheme, as it does sasl.
func validX509ID(id string) bool {
	if strings.TrimSpace(id) == "" {
		return false
	}
	rdn := strings.Builder{}
	check := func() bool {
		k, _, ok := strings.Cut(rdn.String(), "=")
		rdn.Reset()
		return ok && strings.TrimSpace(k) != ""
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c == '\\' && i+1 < len(id):
			rdn.WriteByte(c)
			rdn.WriteByte(id[i+1])
			i++
		case c == ',' || c == ';' || c == '+':
			if !check() {
				return false
			}
		default:
			rdn.WriteByte(c)
		}
	}
	return check()
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
