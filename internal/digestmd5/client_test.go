package digestmd5

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

// This file is the test-side DIGEST-MD5 client. It computes responses on its
// own (crypto/md5 and encoding/hex, never the package's hash helpers), so a
// mistake in the package's hashing cannot cancel out in the tests.

const (
	testProtocol   = "zookeeper"
	testServerName = "zk-sasl-md5"
	testURI        = "zookeeper/zk-sasl-md5"
)

// testUsers is the password table every test server uses.
var testUsers = map[string]string{
	"alice":  "secret",
	"josé":   "pässwörd",     // Latin-1 user and password
	"日本":     "パスワード",        // neither fits in Latin-1
	"müller": "密码",           // Latin-1 user, non-Latin-1 password
	`a"b\c`:  "quoted\"pw\\", // needs escaping on the wire
}

func lookup(user string) (string, bool) {
	pw, ok := testUsers[user]
	return pw, ok
}

// seedRand returns a reader of the 30 bytes 0, 1, …, 29 and the nonce a
// server reading them must send.
func seedRand() (*bytes.Reader, string) {
	seed := make([]byte, 30)
	for i := range seed {
		seed[i] = byte(i)
	}
	return bytes.NewReader(seed), base64.StdEncoding.EncodeToString(seed)
}

// fields describes one digest-response the test client sends. The hash*
// fields are the exact bytes the client hashes; the others are the exact
// bytes it sends.
type fields struct {
	user, realm, nonce, cnonce, nc, qop, uri, charset string
	authzid                                           string
	withAuthzid                                       bool
	hashUser, hashRealm, hashPass, hashURI            string
	hashNC, hashQop                                   string
}

// defaultFields is alice's correct response to nonce.
func defaultFields(nonce string) fields {
	return fields{
		user: "alice", realm: testServerName, nonce: nonce, cnonce: "Y2xpZW50LW5vbmNl",
		nc: "00000001", qop: "auth", uri: testURI, charset: "utf-8",
		hashUser: "alice", hashRealm: testServerName, hashPass: "secret", hashURI: testURI,
		hashNC: "00000001", hashQop: "auth",
	}
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// digest is RFC 2831 §2.1.2.1's response-value, method "AUTHENTICATE" for
// the client's response and "" for the server's rspauth.
func (f fields) digest(method string) string {
	key := md5.Sum([]byte(f.hashUser + ":" + f.hashRealm + ":" + f.hashPass))
	a1 := string(key[:]) + ":" + f.nonce + ":" + f.cnonce
	if f.withAuthzid {
		a1 += ":" + f.authzid
	}
	a2 := method + ":" + f.hashURI
	return md5Hex(md5Hex(a1) + ":" + f.nonce + ":" + f.hashNC + ":" + f.cnonce + ":" +
		f.hashQop + ":" + md5Hex(a2))
}

// kv is one directive as it appears on the wire: value is sent verbatim.
type kv struct{ name, value string }

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// directives lays the response out in the JDK client's order.
func (f fields) directives() []kv {
	var d []kv
	if f.charset != "" {
		d = append(d, kv{"charset", f.charset})
	}
	d = append(d,
		kv{"username", quote(f.user)},
		kv{"realm", quote(f.realm)},
		kv{"nonce", quote(f.nonce)},
		kv{"nc", f.nc},
		kv{"cnonce", quote(f.cnonce)},
		kv{"digest-uri", quote(f.uri)},
		kv{"maxbuf", "65536"},
		kv{"response", f.digest("AUTHENTICATE")},
		kv{"qop", f.qop},
	)
	if f.withAuthzid {
		d = append(d, kv{"authzid", quote(f.authzid)})
	}
	return d
}

func render(d []kv) []byte {
	parts := make([]string, len(d))
	for i, p := range d {
		parts[i] = p.name + "=" + p.value
	}
	return []byte(strings.Join(parts, ","))
}

func without(name string) func([]kv) []kv {
	return func(d []kv) []kv {
		var out []kv
		for _, p := range d {
			if p.name != name {
				out = append(out, p)
			}
		}
		return out
	}
}

func set(name, value string) func([]kv) []kv {
	return func(d []kv) []kv {
		out := append([]kv(nil), d...)
		for i := range out {
			if out[i].name == name {
				out[i].value = value
			}
		}
		return out
	}
}

// duplicate repeats the directive name right after itself.
func duplicate(name string) func([]kv) []kv {
	return func(d []kv) []kv {
		var out []kv
		for _, p := range d {
			out = append(out, p)
			if p.name == name {
				out = append(out, p)
			}
		}
		return out
	}
}

func appendKV(name, value string) func([]kv) []kv {
	return func(d []kv) []kv { return append(append([]kv(nil), d...), kv{name, value}) }
}

var nonceRE = regexp.MustCompile(`nonce="([^"]*)"`)

// startExchange makes a server over testUsers, sends the empty initial
// token and returns the server and its nonce.
func startExchange(t testing.TB) (*Server, string) {
	t.Helper()
	r, _ := seedRand()
	srv := NewServer(testProtocol, testServerName, lookup, r)
	ch, done, err := srv.Step(nil)
	if err != nil || done {
		t.Fatalf("first Step: done %v, err %v", done, err)
	}
	m := nonceRE.FindSubmatch(ch)
	if m == nil {
		t.Fatalf("no nonce in challenge %q", ch)
	}
	return srv, string(m[1])
}
