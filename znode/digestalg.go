package znode

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/embedzk/zk/internal/zkerr"
)

// DigestAlg is the hash the digest scheme computes its ids with:
// ZooKeeper's zookeeper.DigestAuthenticationProvider.digestAlg. The zero
// DigestAlg is SHA-1, ZooKeeper's default; ParseDigestAlg gives the others.
type DigestAlg struct {
	name string
	sum  func([]byte) []byte
}

// digestAlgs are the Java MessageDigest algorithms a DigestAlg can be, by
// their standard names; ParseDigestAlg also takes the aliases of
// digestAliases. MD2 is the one Java digest zk lacks (Go has none).
var digestAlgs = map[string]func([]byte) []byte{
	"SHA-1":        func(b []byte) []byte { s := sha1.Sum(b); return s[:] },
	"MD5":          func(b []byte) []byte { s := md5.Sum(b); return s[:] },
	"SHA-224":      func(b []byte) []byte { s := sha256.Sum224(b); return s[:] },
	"SHA-256":      func(b []byte) []byte { s := sha256.Sum256(b); return s[:] },
	"SHA-384":      func(b []byte) []byte { s := sha512.Sum384(b); return s[:] },
	"SHA-512":      func(b []byte) []byte { s := sha512.Sum512(b); return s[:] },
	"SHA-512/224":  func(b []byte) []byte { s := sha512.Sum512_224(b); return s[:] },
	"SHA-512/256":  func(b []byte) []byte { s := sha512.Sum512_256(b); return s[:] },
	"SHA3-224":     func(b []byte) []byte { s := sha3.Sum224(b); return s[:] },
	"SHA3-256":     func(b []byte) []byte { s := sha3.Sum256(b); return s[:] },
	"SHA3-384":     func(b []byte) []byte { s := sha3.Sum384(b); return s[:] },
	"SHA3-512":     func(b []byte) []byte { s := sha3.Sum512(b); return s[:] },
	"SHAKE128-256": func(b []byte) []byte { return sha3.SumSHAKE128(b, 32) },
	"SHAKE256-512": func(b []byte) []byte { return sha3.SumSHAKE256(b, 64) },
}

// digestAliases are the other names Java's SUN provider gives the digests
// above (upper case): the names without the hyphen, and the OIDs, bare or
// after "OID.".
var digestAliases = map[string]string{
	"SHA": "SHA-1", "SHA1": "SHA-1", "1.3.14.3.2.26": "SHA-1",
	"SHA224": "SHA-224", "SHA256": "SHA-256", "SHA384": "SHA-384", "SHA512": "SHA-512",
	"SHA512/224": "SHA-512/224", "SHA512/256": "SHA-512/256",
	"SHAKE128": "SHAKE128-256", "SHAKE256": "SHAKE256-512",
	"2.16.840.1.101.3.4.2.1": "SHA-256", "2.16.840.1.101.3.4.2.2": "SHA-384",
	"2.16.840.1.101.3.4.2.3": "SHA-512", "2.16.840.1.101.3.4.2.4": "SHA-224",
	"2.16.840.1.101.3.4.2.5": "SHA-512/224", "2.16.840.1.101.3.4.2.6": "SHA-512/256",
	"2.16.840.1.101.3.4.2.7": "SHA3-224", "2.16.840.1.101.3.4.2.8": "SHA3-256",
	"2.16.840.1.101.3.4.2.9": "SHA3-384", "2.16.840.1.101.3.4.2.10": "SHA3-512",
	"2.16.840.1.101.3.4.2.11": "SHAKE128-256", "2.16.840.1.101.3.4.2.12": "SHAKE256-512",
}

// ParseDigestAlg returns the digest algorithm Java's
// MessageDigest.getInstance(name) gives: a standard name ("SHA-1",
// "SHA-256", "SHA3-256", "SHA-512/256", "MD5", ...) or one of its aliases
// ("SHA1", "SHA", "SHA256", the OIDs), in any case, as Java looks them up;
// spaces count, as in Java. An unknown name (and MD2, which Java has and
// Go does not) fails with an error matching zkerr.ErrBadArguments.
func ParseDigestAlg(name string) (DigestAlg, error) {
	up := strings.TrimPrefix(strings.ToUpper(name), "OID.")
	if std, ok := digestAliases[up]; ok {
		up = std
	}
	sum, ok := digestAlgs[up]
	if !ok {
		return DigestAlg{}, fmt.Errorf("%w: digest algorithm %q is not available (SHA-1, SHA-224, SHA-256, SHA-384, SHA-512, SHA-512/224, SHA-512/256, SHA3-224, SHA3-256, SHA3-384, SHA3-512, SHAKE128-256, SHAKE256-512, MD5, or an alias Java gives them)", zkerr.ErrBadArguments, name)
	}
	return DigestAlg{name: up, sum: sum}, nil
}

// String returns the algorithm's standard Java name ("SHA-1" for the zero
// DigestAlg).
func (a DigestAlg) String() string {
	if a.sum == nil {
		return "SHA-1"
	}
	return a.name
}

// Size is the length in bytes of the algorithm's digests (20 for SHA-1).
func (a DigestAlg) Size() int { return len(a.digest(nil)) }

func (a DigestAlg) digest(b []byte) []byte {
	if a.sum == nil {
		s := sha1.Sum(b)
		return s[:]
	}
	return a.sum(b)
}

// ID returns the id the digest scheme stores for user and password with
// this algorithm: Credential of "user:password".
func (a DigestAlg) ID(user, password string) string {
	return a.Credential([]byte(user + ":" + password))
}

// Credential returns the identity ZooKeeper's digest scheme, set to this
// algorithm, gives to the credential auth of an addauth, exactly as
// DigestAuthenticationProvider.handleAuthentication and generateDigest do:
// auth becomes a Java string (UTF-8, each malformed sequence replaced by
// U+FFFD), and the id is the part before its first ':' (all of it if there
// is none), a ':', then the base64 digest of the whole string in UTF-8.
// Every credential is accepted: "alice" gives "alice:" + base64(H("alice")),
// the empty one ":" + base64(H("")).
func (a DigestAlg) Credential(auth []byte) string {
	cred := javaString(auth)
	name, _, _ := strings.Cut(cred, ":")
	return name + ":" + base64.StdEncoding.EncodeToString(a.digest([]byte(cred)))
}
