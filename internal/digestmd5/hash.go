package digestmd5

import (
	"crypto/md5"
	"encoding/hex"
)

// Method strings that prefix A2 (RFC 2831 §2.1.2.1 and §2.1.3): the client's
// response uses "AUTHENTICATE", the server's rspauth uses the empty string.
const (
	methodResponse = "AUTHENTICATE"
	methodRspauth  = ""
)

// digestInput is everything the response-value of RFC 2831 §2.1.2.1 depends
// on, with qop fixed to "auth".
type digestInput struct {
	// user, realm and password are the bytes hashed in H(user:realm:passwd),
	// already converted by hashForm.
	user, realm, password []byte
	// nonce, cnonce, nc and digestURI are hashed as they travel on the wire.
	nonce, cnonce, nc, digestURI []byte
	// authzid is appended to A1 when non-nil (present in the response, even
	// if empty).
	authzid []byte
}

// responseValue computes RFC 2831's response-value with qop "auth":
//
//	HEX( KD( HEX(H(A1)), nonce ":" nc ":" cnonce ":" "auth" ":" HEX(H(A2)) ) )
//	A1 = H(user ":" realm ":" passwd) ":" nonce ":" cnonce [":" authzid]
//	A2 = method ":" digest-uri
//
// method is methodResponse for the client's response and methodRspauth for
// the server's rspauth. The result is 32 lower-case hex digits.
func responseValue(in *digestInput, method string) []byte {
	key := md5.New()
	key.Write(in.user)
	key.Write([]byte{':'})
	key.Write(in.realm)
	key.Write([]byte{':'})
	key.Write(in.password)

	a1 := md5.New()
	a1.Write(key.Sum(nil))
	a1.Write([]byte{':'})
	a1.Write(in.nonce)
	a1.Write([]byte{':'})
	a1.Write(in.cnonce)
	if in.authzid != nil {
		a1.Write([]byte{':'})
		a1.Write(in.authzid)
	}

	a2 := md5.New()
	a2.Write([]byte(method))
	a2.Write([]byte{':'})
	a2.Write(in.digestURI)

	kd := md5.New()
	kd.Write(hexSum(a1.Sum(nil)))
	kd.Write([]byte{':'})
	kd.Write(in.nonce)
	kd.Write([]byte{':'})
	kd.Write(in.nc)
	kd.Write([]byte{':'})
	kd.Write(in.cnonce)
	kd.Write([]byte(":auth:"))
	kd.Write(hexSum(a2.Sum(nil)))
	return hexSum(kd.Sum(nil))
}

// hexSum is HEX of RFC 2831: lower-case hexadecimal.
func hexSum(sum []byte) []byte {
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// hashForm returns the bytes that represent the user name, realm or password
// s inside H(user:realm:passwd). RFC 2831 §2.1.2.1 (and the JDK, which always
// offers charset=utf-8): if every character of s is in ISO 8859-1, s is hashed
// in ISO 8859-1, one byte a character; otherwise it is hashed in UTF-8. A
// string that is not valid UTF-8 has no characters to convert and is hashed as
// its bytes (ranging over it yields U+FFFD, which does not fit).
func hashForm(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			return []byte(s)
		}
		out = append(out, byte(r))
	}
	return out
}
