package digestmd5

import (
	"bytes"
	crand "crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrAuthFailed is wrapped (with %w and a reason) by every failure.
var ErrAuthFailed = errors.New("digestmd5: authentication failed")

const (
	// maxResponse is RFC 2831 §2.1.2's limit on a digest-response; the JDK
	// refuses any token longer than this.
	maxResponse = 4096
	// nonceBytes is how much randomness goes into a nonce: the JDK's 30,
	// which base64-encodes to 40 characters with no padding.
	nonceBytes = 30
	// ncOne is the only nonce-count accepted: no subsequent authentication.
	ncOne = "00000001"
)

type state int

const (
	stateStart      state = iota // waiting for the client's empty initial token
	stateChallenged              // challenge sent, waiting for the digest-response
	stateDone                    // authenticated
	stateFailed                  // refused; the exchange is over
)

// Server is one exchange. Not safe for concurrent use.
type Server struct {
	protocol   string
	serverName string
	password   func(user string) (pw string, ok bool)
	rand       io.Reader

	state state
	nonce []byte
	user  string
}

// NewServer starts an exchange. protocol and serverName make the digest-uri the
// client must send (protocol + "/" + serverName) and serverName is the realm offered.
// password looks a user up (ok false: unknown user). rand supplies the nonce's randomness
// (crypto/rand.Reader in production; tests pass a fixed reader).
//
// A nil password knows no user; a nil rand means crypto/rand.Reader.
func NewServer(protocol, serverName string, password func(user string) (pw string, ok bool), rand io.Reader) *Server {
	if rand == nil {
		rand = crand.Reader
	}
	return &Server{protocol: protocol, serverName: serverName, password: password, rand: rand}
}

// Step takes the client's next token and returns the server's next token.
//   - 1st call: the client's initial token, which for DIGEST-MD5 is empty (the JDK client and
//     pure-sasl both send an empty token first). Returns the challenge; done false.
//     A non-empty first token: error (DIGEST-MD5 has no initial response).
//   - 2nd call: the client's digest-response. Verify it; on success return "rspauth=<32 hex>"
//     and done true. On any failure return a nil token and an error wrapping ErrAuthFailed.
//   - Any call after done or after an error: error.
//
// Every error wraps ErrAuthFailed and ends the exchange.
func (s *Server) Step(token []byte) (out []byte, done bool, err error) {
	switch s.state {
	case stateStart:
		out, err = s.challenge(token)
		if err != nil {
			s.state = stateFailed
			return nil, false, err
		}
		s.state = stateChallenged
		return out, false, nil
	case stateChallenged:
		out, err = s.verify(token)
		if err != nil {
			s.state = stateFailed
			return nil, false, err
		}
		s.state = stateDone
		return out, true, nil
	case stateDone:
		return nil, false, failf("exchange already complete")
	default:
		return nil, false, failf("exchange already failed")
	}
}

// User returns the authenticated user name (the digest-response's username) once done, else "".
func (s *Server) User() string {
	if s.state != stateDone {
		return ""
	}
	return s.user
}

func failf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrAuthFailed, fmt.Sprintf(format, args...))
}

// challenge answers the client's initial token with the digest-challenge of
// RFC 2831 §2.1.1.
func (s *Server) challenge(token []byte) ([]byte, error) {
	if len(token) != 0 {
		return nil, failf("unexpected initial response of %d bytes: DIGEST-MD5 has none", len(token))
	}
	raw := make([]byte, nonceBytes)
	if _, err := io.ReadFull(s.rand, raw); err != nil {
		return nil, fmt.Errorf("%w: generating nonce: %w", ErrAuthFailed, err)
	}
	s.nonce = make([]byte, base64.StdEncoding.EncodedLen(len(raw)))
	base64.StdEncoding.Encode(s.nonce, raw)

	var b bytes.Buffer
	b.WriteString(`realm="`)
	b.WriteString(quoteValue(s.serverName))
	b.WriteString(`",nonce="`)
	b.Write(s.nonce)
	b.WriteString(`",qop="auth",charset=utf-8,algorithm=md5-sess`)
	return b.Bytes(), nil
}

// quoteValue escapes s for a quoted-string as the JDK does: a backslash
// before '"', '\\', DEL and control characters other than CR, LF and HT.
func quoteValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' || c == 0x7F || (c < 0x20 && c != '\r' && c != '\n' && c != '\t') {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// digestResponse holds the checked fields of a client's digest-response.
type digestResponse struct {
	user      string
	cnonce    []byte
	digestURI []byte
	response  []byte
	authzid   []byte // nil when absent
}

// verify checks the client's digest-response (RFC 2831 §2.1.2) and returns
// the response-auth of §2.1.3.
func (s *Server) verify(token []byte) ([]byte, error) {
	if len(token) > maxResponse {
		return nil, failf("digest-response of %d bytes exceeds %d", len(token), maxResponse)
	}
	d, err := parseDirectives(token)
	if err != nil {
		return nil, failf("malformed digest-response: %v", err)
	}
	r, err := s.checkDirectives(d)
	if err != nil {
		return nil, err
	}
	var pw string
	ok := false
	if s.password != nil {
		pw, ok = s.password(r.user)
	}
	if !ok {
		return nil, failf("unknown user %q", r.user)
	}
	in := digestInput{
		user:      hashForm(r.user),
		realm:     hashForm(s.serverName),
		password:  hashForm(pw),
		nonce:     s.nonce,
		cnonce:    r.cnonce,
		nc:        []byte(ncOne),
		digestURI: r.digestURI,
		authzid:   r.authzid,
	}
	want := responseValue(&in, methodResponse)
	if subtle.ConstantTimeCompare(want, r.response) != 1 {
		return nil, failf("wrong response for user %q", r.user)
	}
	s.user = r.user
	return append([]byte("rspauth="), responseValue(&in, methodRspauth)...), nil
}

// checkDirectives applies every check of the digest-response that does not
// need the password.
func (s *Server) checkDirectives(d map[string][]byte) (*digestResponse, error) {
	if cs, ok := d["charset"]; ok && string(cs) != "utf-8" {
		return nil, failf("charset %q is not utf-8", cs)
	}
	user, ok := d["username"]
	if !ok {
		return nil, failf("missing username")
	}
	// The JDK server decodes the username as UTF-8 whether or not the client
	// sent charset=utf-8, because it offered utf-8.
	if !utf8.Valid(user) {
		return nil, failf("username is not valid UTF-8")
	}
	realm, ok := d["realm"]
	if !ok {
		return nil, failf("missing realm")
	}
	if string(realm) != s.serverName {
		return nil, failf("realm %q was not offered", realm)
	}
	if nonce, ok := d["nonce"]; !ok {
		return nil, failf("missing nonce")
	} else if !bytes.Equal(nonce, s.nonce) {
		return nil, failf("nonce does not match the challenge's")
	}
	cnonce, ok := d["cnonce"]
	if !ok {
		return nil, failf("missing cnonce")
	}
	if nc, ok := d["nc"]; !ok {
		return nil, failf("missing nc")
	} else if string(nc) != ncOne {
		return nil, failf("nc %q is not %s", nc, ncOne)
	}
	if qop, ok := d["qop"]; ok && string(qop) != "auth" {
		return nil, failf("qop %q is not auth", qop)
	}
	uri, err := s.checkDigestURI(d)
	if err != nil {
		return nil, err
	}
	resp, ok := d["response"]
	if !ok {
		return nil, failf("missing response")
	}
	if !isHex32(resp) {
		return nil, failf("response is not 32 hex digits")
	}
	if err := checkMaxbuf(d); err != nil {
		return nil, err
	}
	return &digestResponse{
		user:      string(user),
		cnonce:    cnonce,
		digestURI: uri,
		response:  resp,
		authzid:   d["authzid"],
	}, nil
}

// checkDigestURI requires the digest-uri to be protocol/serverName, compared
// case-insensitively as the JDK does; the client's spelling is the one hashed.
func (s *Server) checkDigestURI(d map[string][]byte) ([]byte, error) {
	uri, ok := d["digest-uri"]
	if !ok {
		return nil, failf("missing digest-uri")
	}
	if !utf8.Valid(uri) || !strings.EqualFold(string(uri), s.protocol+"/"+s.serverName) {
		return nil, failf("digest-uri %q is not %s/%s", uri, s.protocol, s.serverName)
	}
	return uri, nil
}

// checkMaxbuf refuses a maxbuf that is not a decimal number the JDK could
// parse. Its value has no use without a security layer.
func checkMaxbuf(d map[string][]byte) error {
	mb, ok := d["maxbuf"]
	if !ok {
		return nil
	}
	for _, c := range mb {
		if c < '0' || c > '9' {
			return failf("maxbuf %q is not a number", mb)
		}
	}
	if _, err := strconv.ParseInt(string(mb), 10, 32); err != nil {
		return failf("maxbuf %q is out of range", mb)
	}
	return nil
}

func isHex32(b []byte) bool {
	if len(b) != 32 {
		return false
	}
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
