package keystore

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
)

// pemKeyPair reads a PEM key store: its certificates, the first being the
// server's, and its one private key, decrypted with password if encrypted.
func pemKeyPair(b []byte, password string) (tls.Certificate, error) {
	var cert tls.Certificate
	var key crypto.PrivateKey
	for rest := b; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		switch blk.Type {
		case "CERTIFICATE":
			cert.Certificate = append(cert.Certificate, blk.Bytes)
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			if key != nil {
				return tls.Certificate{}, errors.New("more than one private key")
			}
			if password != "" && blk.Type != "ENCRYPTED PRIVATE KEY" {
				// ZooKeeper takes a key to be encrypted whenever it has a
				// password for it, and fails on a plain one.
				return tls.Certificate{}, errors.New("a password is set but the private key is not encrypted")
			}
			k, err := pemKey(blk, password)
			if err != nil {
				return tls.Certificate{}, err
			}
			key = k
		}
	}
	if len(cert.Certificate) == 0 || key == nil {
		return tls.Certificate{}, errors.New("needs a certificate and a private key in PEM")
	}
	cert.PrivateKey = key
	return checkPair(cert)
}

// checkPair parses the leaf and checks that the key is its key.
func checkPair(cert tls.Certificate) (tls.Certificate, error) {
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return tls.Certificate{}, err
	}
	pub, ok := cert.PrivateKey.(interface{ Public() crypto.PublicKey })
	if !ok {
		return tls.Certificate{}, fmt.Errorf("private key of type %T", cert.PrivateKey)
	}
	if eq, ok := pub.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(leaf.PublicKey) {
		return tls.Certificate{}, errors.New("the private key is not the first certificate's")
	}
	cert.Leaf = leaf
	return cert, nil
}

func pemKey(blk *pem.Block, password string) (crypto.PrivateKey, error) {
	switch blk.Type {
	case "RSA PRIVATE KEY":
		if _, enc := blk.Headers["Proc-Type"]; enc {
			return nil, errors.New("legacy encrypted PEM keys (Proc-Type) are not read: use PKCS#8")
		}
		return x509.ParsePKCS1PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(blk.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		der, err := decryptPKCS8(blk.Bytes, password)
		if err != nil {
			return nil, err
		}
		key, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			// The padding happened to look right: the password was wrong.
			return nil, fmt.Errorf("encrypted private key: %w", ErrPassword)
		}
		return key, nil
	}
	return x509.ParsePKCS8PrivateKey(blk.Bytes)
}

// pemCertificates reads every certificate of a PEM file.
func pemCertificates(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := b; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			return certs, nil
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
}

// maxIterations bounds a key derivation's rounds (openssl writes 2048,
// Java 10000): a broken file does not stall the start for minutes.
const maxIterations = 1 << 22

// PKCS#5 v2 (RFC 8018) identifiers of an encrypted PKCS#8 key.
var (
	oidPBES2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	// pbeWithSHAAnd3-KeyTripleDES-CBC (PKCS#12).
	oidPBEWithSHA3DES = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBKDF2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1       = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224     = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256     = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384     = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512     = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

type algorithm struct {
	OID    asn1.ObjectIdentifier
	Params asn1.RawValue `asn1:"optional"`
}

type encryptedKeyInfo struct {
	Algo algorithm
	Data []byte
}

type pbes2Params struct {
	KDF    algorithm
	Scheme algorithm
}

type pbkdf2Params struct {
	Salt      []byte
	Iter      int
	KeyLength int       `asn1:"optional"`
	PRF       algorithm `asn1:"optional"`
}

// decryptPKCS8 decrypts an EncryptedPrivateKeyInfo sealed with PBES2
// (PBKDF2 with HMAC-SHA-1 or SHA-2, AES-CBC), as `openssl pkcs8 -topk8
// -v2 aes-256-cbc` writes it, or with PKCS#12's PBE-SHA1-3DES.
func decryptPKCS8(der []byte, password string) ([]byte, error) {
	var info encryptedKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("encrypted private key: not PKCS#8 (%v)", err)
	}
	if info.Algo.OID.Equal(oidPBEWithSHA3DES) {
		return decrypt3DES(info, password)
	}
	if !info.Algo.OID.Equal(oidPBES2) {
		return nil, fmt.Errorf("encrypted private key: algorithm %v, zk reads PBES2 and PBE-SHA1-3DES", info.Algo.OID)
	}
	var p pbes2Params
	if _, err := asn1.Unmarshal(info.Algo.Params.FullBytes, &p); err != nil || !p.KDF.OID.Equal(oidPBKDF2) {
		return nil, errors.New("encrypted private key: PBES2 without PBKDF2")
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(p.KDF.Params.FullBytes, &kdf); err != nil || kdf.Iter < 1 || kdf.Iter > maxIterations {
		return nil, errors.New("encrypted private key: bad PBKDF2 parameters")
	}
	prf, err := prfOf(kdf.PRF.OID)
	if err != nil {
		return nil, err
	}
	keyLen := map[string]int{oidAES128CBC.String(): 16, oidAES192CBC.String(): 24, oidAES256CBC.String(): 32}[p.Scheme.OID.String()]
	var iv []byte
	if _, err := asn1.Unmarshal(p.Scheme.Params.FullBytes, &iv); keyLen == 0 || err != nil || len(iv) != aes.BlockSize {
		return nil, fmt.Errorf("encrypted private key: cipher %v, zk reads AES-CBC", p.Scheme.OID)
	}
	key, err := pbkdf2.Key(prf, password, kdf.Salt, kdf.Iter, keyLen)
	if err != nil {
		return nil, err
	}
	block, _ := aes.NewCipher(key)
	return cbcDecrypt(block, iv, info.Data)
}

// decrypt3DES opens a key sealed with pbeWithSHAAnd3-KeyTripleDES-CBC
// (PKCS#12's key derivation with SHA-1), as `openssl pkcs8 -topk8 -v1
// PBE-SHA1-3DES` writes it: the scheme ZooKeeper 3.8 on Java 17 reads
// (its PEM reader finds no PBES2 key factory there).
func decrypt3DES(info encryptedKeyInfo, password string) ([]byte, error) {
	var p struct {
		Salt []byte
		Iter int
	}
	if _, err := asn1.Unmarshal(info.Algo.Params.FullBytes, &p); err != nil || p.Iter < 1 || p.Iter > maxIterations {
		return nil, errors.New("encrypted private key: bad PBE parameters")
	}
	pw := append(utf16be(password), 0, 0) // a BMPString with its terminator
	key := pkcs12KDF(1, pw, p.Salt, p.Iter, 24)
	iv := pkcs12KDF(2, pw, p.Salt, p.Iter, des.BlockSize)
	block, err := des.NewTripleDESCipher(key)
	if err != nil {
		return nil, err
	}
	return cbcDecrypt(block, iv, info.Data)
}

// cbcDecrypt decrypts CBC data and takes off its PKCS#7 padding; a padding
// that is not one means the key, so the password, was wrong.
func cbcDecrypt(block cipher.Block, iv, in []byte) ([]byte, error) {
	bs := block.BlockSize()
	if len(in) == 0 || len(in)%bs != 0 || len(iv) != bs {
		return nil, errors.New("encrypted private key: data is not whole blocks")
	}
	out := make([]byte, len(in))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, in)
	pad := int(out[len(out)-1])
	if pad < 1 || pad > bs || !allEqual(out[len(out)-pad:], byte(pad)) {
		return nil, fmt.Errorf("encrypted private key: %w", ErrPassword)
	}
	return out[:len(out)-pad], nil
}

// pkcs12KDF is RFC 7292's key derivation (appendix B.2) with SHA-1: n
// bytes of material of kind id (1 key, 2 IV) from the password (a
// BMPString) and the salt.
func pkcs12KDF(id byte, password, salt []byte, iter, n int) []byte {
	const u, v = sha1.Size, 64
	fill := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	d := bytes.Repeat([]byte{id}, v)
	in := append(fill(salt), fill(password)...)
	var out []byte
	for len(out) < n {
		h := sha1.New()
		h.Write(d)
		h.Write(in)
		a := h.Sum(nil)
		for r := 1; r < iter; r++ {
			sum := sha1.Sum(a)
			a = sum[:]
		}
		out = append(out, a...)
		// Each v-byte block of in += (a repeated to v bytes) + 1.
		b := fill(a)
		for j := 0; j < len(in); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(in[j+k]) + int(b[k]) + carry
				in[j+k], carry = byte(sum), sum>>8
			}
		}
	}
	return out[:n]
}

func prfOf(oid asn1.ObjectIdentifier) (func() hash.Hash, error) {
	switch {
	case len(oid) == 0, oid.Equal(oidHMACSHA1):
		return sha1.New, nil
	case oid.Equal(oidHMACSHA224):
		return sha256.New224, nil
	case oid.Equal(oidHMACSHA256):
		return sha256.New, nil
	case oid.Equal(oidHMACSHA384):
		return sha512.New384, nil
	case oid.Equal(oidHMACSHA512):
		return sha512.New, nil
	}
	return nil, fmt.Errorf("encrypted private key: PBKDF2 with %v", oid)
}

func allEqual(b []byte, v byte) bool {
	for _, x := range b {
		if x != v {
			return false
		}
	}
	return true
}
