package digestmd5

import (
	"bytes"
	crand "crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
)

// RFC 2831 §4's example.
const (
	rfcUser     = "chris"
	rfcRealm    = "elwood.innosoft.com"
	rfcPassword = "secret"
	rfcNonce    = "OA6MG9tEQGm2hh"
	rfcCnonce   = "OA6MHXh6VqTrRk"
	rfcURI      = "imap/elwood.innosoft.com"
	rfcResponse = "d388dad90d4bbd760a152321f2143af7"
	rfcRspauth  = "ea40f60335c427b5527b84dbabcdfffd"
	// rfcDigestResponse is the client's message of §4, on one line.
	rfcDigestResponse = `charset=utf-8,username="chris",realm="elwood.innosoft.com",` +
		`nonce="OA6MG9tEQGm2hh",nc=00000001,cnonce="OA6MHXh6VqTrRk",` +
		`digest-uri="imap/elwood.innosoft.com",` +
		`response=d388dad90d4bbd760a152321f2143af7,qop=auth`
)

func TestRFC2831ExampleHash(t *testing.T) {
	in := digestInput{
		user: []byte(rfcUser), realm: []byte(rfcRealm), password: []byte(rfcPassword),
		nonce: []byte(rfcNonce), cnonce: []byte(rfcCnonce), nc: []byte("00000001"),
		digestURI: []byte(rfcURI),
	}
	if got := string(responseValue(&in, methodResponse)); got != rfcResponse {
		t.Errorf("response = %s, want %s", got, rfcResponse)
	}
	if got := string(responseValue(&in, methodRspauth)); got != rfcRspauth {
		t.Errorf("rspauth = %s, want %s", got, rfcRspauth)
	}
	// The test-side client must agree too, or the other tests prove nothing.
	f := fields{
		hashUser: rfcUser, hashRealm: rfcRealm, hashPass: rfcPassword, hashURI: rfcURI,
		nonce: rfcNonce, cnonce: rfcCnonce, hashNC: "00000001", hashQop: "auth",
	}
	if got := f.digest("AUTHENTICATE"); got != rfcResponse {
		t.Errorf("test client response = %s, want %s", got, rfcResponse)
	}
	if got := f.digest(""); got != rfcRspauth {
		t.Errorf("test client rspauth = %s, want %s", got, rfcRspauth)
	}
}

// TestRFC2831ExampleExchange feeds §4's digest-response, verbatim, to a
// server that issued §4's nonce.
func TestRFC2831ExampleExchange(t *testing.T) {
	pw := func(u string) (string, bool) { return rfcPassword, u == rfcUser }
	srv := NewServer("imap", rfcRealm, pw, crand.Reader)
	if _, _, err := srv.Step(nil); err != nil {
		t.Fatal(err)
	}
	srv.nonce = []byte(rfcNonce) // the RFC's nonce is not one base64 of 30 bytes can make
	out, done, err := srv.Step([]byte(rfcDigestResponse))
	if err != nil || !done {
		t.Fatalf("Step: done %v, err %v", done, err)
	}
	if got := string(out); got != "rspauth="+rfcRspauth {
		t.Errorf("out = %q, want rspauth=%s", got, rfcRspauth)
	}
	if srv.User() != rfcUser {
		t.Errorf("User() = %q, want %q", srv.User(), rfcUser)
	}
}

func TestChallenge(t *testing.T) {
	r, nonce := seedRand()
	srv := NewServer(testProtocol, testServerName, lookup, r)
	ch, done, err := srv.Step([]byte{})
	if err != nil || done {
		t.Fatalf("Step: done %v, err %v", done, err)
	}
	want := `realm="zk-sasl-md5",nonce="` + nonce + `",qop="auth",charset=utf-8,algorithm=md5-sess`
	if string(ch) != want {
		t.Errorf("challenge\n got %s\nwant %s", ch, want)
	}
	if srv.User() != "" {
		t.Errorf("User() before done = %q", srv.User())
	}
}

func TestNonceIsFreshAndSafe(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		srv := NewServer(testProtocol, testServerName, lookup, crand.Reader)
		ch, _, err := srv.Step(nil)
		if err != nil {
			t.Fatal(err)
		}
		m := nonceRE.FindSubmatch(ch)
		if m == nil {
			t.Fatalf("no nonce in %q", ch)
		}
		n := string(m[1])
		if strings.ContainsAny(n, "\",\\") {
			t.Errorf("nonce %q needs quoting", n)
		}
		raw, err := base64.StdEncoding.DecodeString(n)
		if err != nil || len(raw) < 16 {
			t.Errorf("nonce %q: %d random bytes, err %v", n, len(raw), err)
		}
		if seen[n] {
			t.Errorf("nonce %q repeated", n)
		}
		seen[n] = true
	}
}

// TestQuotedRealm checks that a realm needing escapes is sent escaped.
func TestQuotedRealm(t *testing.T) {
	r, _ := seedRand()
	srv := NewServer("p", `a"b\c`, lookup, r)
	ch, _, err := srv.Step(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(ch, []byte(`realm="a\"b\\c",`)) {
		t.Errorf("challenge %q", ch)
	}
}

func wantRefused(t *testing.T, srv *Server, out []byte, done bool, err error) {
	t.Helper()
	if !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("err = %v, want ErrAuthFailed", err)
	}
	if out != nil || done {
		t.Errorf("refusal returned out %q, done %v", out, done)
	}
	if srv.User() != "" {
		t.Errorf("User() after refusal = %q", srv.User())
	}
	out, done, err = srv.Step(nil)
	if !errors.Is(err, ErrAuthFailed) || out != nil || done {
		t.Errorf("Step after refusal: out %q, done %v, err %v", out, done, err)
	}
}

func TestExchange(t *testing.T) {
	for _, c := range append(append([]respCase(nil), successCases...), refusalCases...) {
		t.Run(c.name, func(t *testing.T) {
			srv, nonce := startExchange(t)
			f, tok := c.build(nonce)
			out, done, err := srv.Step(tok)
			if !c.ok {
				if err == nil || !strings.Contains(err.Error(), c.reason) {
					t.Errorf("err = %v, want one saying %q", err, c.reason)
				}
				wantRefused(t, srv, out, done, err)
				// Not even a correct response may follow a refusal.
				_, good := respCase{}.build(nonce)
				if out, done, err := srv.Step(good); err == nil || done || out != nil {
					t.Errorf("correct response after a refusal: out %q, done %v, err %v", out, done, err)
				}
				return
			}
			if err != nil || !done {
				t.Fatalf("token %q: done %v, err %v", tok, done, err)
			}
			if want := "rspauth=" + f.digest(""); string(out) != want {
				t.Errorf("out = %q, want %q", out, want)
			}
			if srv.User() != f.user {
				t.Errorf("User() = %q, want %q", srv.User(), f.user)
			}
			out, done, err = srv.Step(nil)
			if !errors.Is(err, ErrAuthFailed) || out != nil || done {
				t.Errorf("Step after done: out %q, done %v, err %v", out, done, err)
			}
			if srv.User() != f.user {
				t.Errorf("User() after a further Step = %q", srv.User())
			}
		})
	}
}

func TestInitialResponseRefused(t *testing.T) {
	r, _ := seedRand()
	srv := NewServer(testProtocol, testServerName, lookup, r)
	out, done, err := srv.Step([]byte("username=alice"))
	wantRefused(t, srv, out, done, err)
}

type failingReader struct{}

var errNoEntropy = errors.New("no entropy")

func (failingReader) Read([]byte) (int, error) { return 0, errNoEntropy }

func TestRandFailure(t *testing.T) {
	for name, r := range map[string]io.Reader{
		"error": failingReader{},
		"short": bytes.NewReader(make([]byte, 10)),
	} {
		t.Run(name, func(t *testing.T) {
			srv := NewServer(testProtocol, testServerName, lookup, r)
			out, done, err := srv.Step(nil)
			wantRefused(t, srv, out, done, err)
			if name == "error" && !errors.Is(err, errNoEntropy) {
				t.Errorf("err = %v, want it to wrap the reader's error", err)
			}
		})
	}
}

func TestNilLookupAndRand(t *testing.T) {
	srv := NewServer(testProtocol, testServerName, nil, nil)
	ch, _, err := srv.Step(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, tok := respCase{}.build(string(nonceRE.FindSubmatch(ch)[1]))
	out, done, err := srv.Step(tok)
	wantRefused(t, srv, out, done, err)
}

func TestHashForm(t *testing.T) {
	for in, want := range map[string]string{
		"":            "",
		"alice":       "alice",
		"josé":        "jos\xe9",
		"\u00ff":      "\xff",
		"\u0100":      "\xc4\x80",
		"josé日":       "josé日", // one non-Latin-1 character: all of it in UTF-8
		"日本":          "日本",
		"bad\xffutf8": "bad\xffutf8",
	} {
		if got := string(hashForm(in)); got != want {
			t.Errorf("hashForm(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseDirectives(t *testing.T) {
	good := map[string]map[string]string{
		``:                           {},
		` , ,`:                       {},
		`username="a\"b\\c\d"`:       {"username": `a"b\cd`},
		`USERNAME = "x" , Realm=r`:   {"username": "x", "realm": "r"},
		"qop=auth,\r\n\tnc=00000001": {"qop": "auth", "nc": "00000001"},
		`x=1,x="2",username=""`:      {"username": ""},
		`realm="a,b=c"`:              {"realm": "a,b=c"},
	}
	for in, want := range good {
		got, err := parseDirectives([]byte(in))
		if err != nil {
			t.Errorf("parseDirectives(%q): %v", in, err)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("parseDirectives(%q) = %q, want %q", in, got, want)
		}
		for k, v := range want {
			if g, ok := got[k]; !ok || string(g) != v {
				t.Errorf("parseDirectives(%q)[%s] = %q, want %q", in, k, g, v)
			}
		}
	}
	for _, in := range []string{
		`username`, `=x`, `username=`, `username="x`, `username="x\`, `username="x"y`,
		`a b=c`, `a=b c=d`, `nonce=1,NONCE=1`, `a=b"c`, "a=b\x01", `a(b=c`, `a=,b=c`,
	} {
		if got, err := parseDirectives([]byte(in)); err == nil {
			t.Errorf("parseDirectives(%q) = %q, want an error", in, got)
		}
	}
}

// TestConcurrentServers runs independent exchanges at once, for -race.
func TestConcurrentServers(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv := NewServer(testProtocol, testServerName, lookup, crand.Reader)
			ch, _, err := srv.Step(nil)
			if err != nil {
				t.Error(err)
				return
			}
			c := successCases[i%len(successCases)]
			_, tok := c.build(string(nonceRE.FindSubmatch(ch)[1]))
			if _, done, err := srv.Step(tok); err != nil || !done {
				t.Errorf("%s: done %v, err %v", c.name, done, err)
			}
		}()
	}
	wg.Wait()
}
