package keystore

import (
	"bytes"
	"crypto/sha1"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
)

// Java's JKS format (sun.security.provider.JavaKeyStore), big-endian:
//
//	magic 0xFEEDFEED, version (1 or 2), entry count
//	per entry: tag (1 private key, 2 trusted certificate), alias (Java's
//	  modified UTF-8, 16-bit length), creation time (64-bit ms), then
//	  tag 1: the sealed key (32-bit length, bytes) and its chain (count,
//	         each: in version 2 the type "X.509" as UTF, 32-bit length, DER)
//	  tag 2: one certificate as in a chain
//	SHA-1(password as UTF-16BE || "Mighty Aphrodite" || everything before)
const (
	jksMagic      = 0xFEEDFEED
	jksTagKey     = 1
	jksTagTrusted = 2
	jksWhitener   = "Mighty Aphrodite"
	jksMaxLen     = 1 << 20 // a length field past this is a broken store
)

// oidJKSKeyProtector is Sun's proprietary key protection algorithm.
var oidJKSKeyProtector = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 42, 2, 17, 1, 1}

func isJKS(b []byte) bool { return len(b) >= 4 && binary.BigEndian.Uint32(b) == jksMagic }

// jksEntry is one entry of a JKS store.
type jksEntry struct {
	tag    uint32
	alias  string
	sealed []byte   // tag 1
	chain  [][]byte // tag 1: the chain; tag 2: the certificate
}

// jksRead parses a JKS store and checks its digest with password, as
// ZooKeeper loads a store: it passes "" for a password it was not given,
// and Java's KeyStore.load checks the digest with any password but null.
func jksRead(b []byte, password string) ([]jksEntry, error) {
	if len(b) < 12+sha1.Size {
		return nil, errors.New("JKS: too short")
	}
	body, digest := b[:len(b)-sha1.Size], b[len(b)-sha1.Size:]
	h := sha1.New()
	h.Write(utf16be(password))
	h.Write([]byte(jksWhitener))
	h.Write(body)
	if subtle.ConstantTimeCompare(h.Sum(nil), digest) != 1 {
		return nil, fmt.Errorf("JKS: integrity digest: %w (or the store was tampered with)", ErrPassword)
	}
	r := &jksReader{b: body}
	magic, version, count := r.u32(), r.u32(), r.u32()
	if magic != jksMagic || (version != 1 && version != 2) {
		return nil, fmt.Errorf("JKS: magic %#x version %d", magic, version)
	}
	var entries []jksEntry
	for i := uint32(0); i < count && r.err == nil; i++ {
		e := jksEntry{tag: r.u32(), alias: r.utf()}
		r.take(8) // creation time
		switch e.tag {
		case jksTagKey:
			e.sealed = r.bytes()
			for n := r.u32(); n > 0 && r.err == nil; n-- {
				e.chain = append(e.chain, r.cert(version))
			}
		case jksTagTrusted:
			e.chain = [][]byte{r.cert(version)}
		default:
			return nil, fmt.Errorf("JKS: entry %d has tag %d (a JCEKS secret key?)", i, e.tag)
		}
		entries = append(entries, e)
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errors.New("bytes after the last entry")
	}
	if r.err != nil {
		return nil, fmt.Errorf("JKS: %w", r.err)
	}
	return entries, nil
}

// jksKeyPair returns the first private-key entry, unsealed with password.
func jksKeyPair(b []byte, password string) (tls.Certificate, error) {
	entries, err := jksRead(b, password)
	if err != nil {
		return tls.Certificate{}, err
	}
	for _, e := range entries {
		if e.tag != jksTagKey {
			continue
		}
		if len(e.chain) == 0 {
			return tls.Certificate{}, fmt.Errorf("JKS: key %q has no certificate", e.alias)
		}
		der, err := jksUnseal(e.sealed, password)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("JKS: key %q: %w", e.alias, err)
		}
		key, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("JKS: key %q: %w", e.alias, err)
		}
		return checkPair(tls.Certificate{Certificate: e.chain, PrivateKey: key})
	}
	return tls.Certificate{}, errors.New("JKS: no private key entry")
}

// jksTrusted returns the trusted-certificate entries' certificates.
func jksTrusted(b []byte, password string) ([]*x509.Certificate, error) {
	entries, err := jksRead(b, password)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for _, e := range entries {
		if e.tag != jksTagTrusted {
			continue
		}
		c, err := x509.ParseCertificate(e.chain[0])
		if err != nil {
			return nil, fmt.Errorf("JKS: certificate %q: %w", e.alias, err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// jksUnseal opens a key sealed by Sun's key protector: an
// EncryptedPrivateKeyInfo whose data is salt (20 bytes) || the key XORed
// with a SHA-1 chain over the password and the salt || SHA-1(password ||
// key).
func jksUnseal(sealed []byte, password string) ([]byte, error) {
	var info encryptedKeyInfo
	if rest, err := asn1.Unmarshal(sealed, &info); err != nil || len(rest) != 0 {
		return nil, errors.New("sealed key is not an EncryptedPrivateKeyInfo")
	}
	if !info.Algo.OID.Equal(oidJKSKeyProtector) {
		return nil, fmt.Errorf("sealed with %v, not Sun's key protector", info.Algo.OID)
	}
	d := info.Data
	if len(d) < 2*sha1.Size {
		return nil, errors.New("sealed key too short")
	}
	salt, enc, check := d[:sha1.Size], d[sha1.Size:len(d)-sha1.Size], d[len(d)-sha1.Size:]
	pw := utf16be(password)
	key := make([]byte, len(enc))
	digest := salt
	for off := 0; off < len(enc); off += sha1.Size {
		h := sha1.New()
		h.Write(pw)
		h.Write(digest)
		digest = h.Sum(nil)
		for i := 0; i < sha1.Size && off+i < len(enc); i++ {
			key[off+i] = enc[off+i] ^ digest[i]
		}
	}
	h := sha1.New()
	h.Write(pw)
	h.Write(key)
	if subtle.ConstantTimeCompare(h.Sum(nil), check) != 1 {
		return nil, ErrPassword
	}
	return key, nil
}

// utf16be is a Java password's chars as JKS hashes them.
func utf16be(s string) []byte {
	var b []byte
	for _, c := range utf16.Encode([]rune(s)) {
		b = binary.BigEndian.AppendUint16(b, c)
	}
	return b
}

// jksReader takes fields off a JKS body; the first short read sets err
// and every later read returns zero values.
type jksReader struct {
	b   []byte
	err error
}

func (r *jksReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errors.New("truncated")
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *jksReader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// utf reads Java's writeUTF string; aliases and "X.509" are ASCII, and any
// other byte is kept as is (aliases are only named in errors).
func (r *jksReader) utf() string {
	b := r.take(2)
	if b == nil {
		return ""
	}
	return string(r.take(int(binary.BigEndian.Uint16(b))))
}

func (r *jksReader) bytes() []byte {
	n := r.u32()
	if n > jksMaxLen {
		r.err = fmt.Errorf("a field of %d bytes", n)
		return nil
	}
	return bytes.Clone(r.take(int(n)))
}

func (r *jksReader) cert(version uint32) []byte {
	if version == 2 {
		if t := r.utf(); t != "X.509" && r.err == nil {
			r.err = fmt.Errorf("certificate type %q", t)
		}
	}
	return r.bytes()
}
