package digestmd5

import (
	"errors"
	"regexp"
	"testing"
)

var rspauthRE = regexp.MustCompile(`^rspauth=[0-9a-f]{32}$`)

// FuzzStep feeds arbitrary digest-responses to a server that issued the
// seeds' nonce. Nothing may panic; a server whose every password is wrong must
// refuse everything; every refusal must be a nil token and ErrAuthFailed; an
// acceptance must return a well-formed rspauth for a known user.
func FuzzStep(f *testing.F) {
	_, nonce := seedRand()
	for _, c := range append(append([]respCase(nil), successCases...), refusalCases...) {
		_, tok := c.build(nonce)
		f.Add(tok)
	}
	f.Add([]byte(rfcDigestResponse))
	f.Fuzz(func(t *testing.T, tok []byte) {
		r, _ := seedRand()
		wrong := NewServer(testProtocol, testServerName, func(string) (string, bool) {
			return "not-the-password", true
		}, r)
		if _, _, err := wrong.Step(nil); err != nil {
			t.Fatal(err)
		}
		out, done, err := wrong.Step(tok)
		if err == nil || done || out != nil || wrong.User() != "" {
			t.Fatalf("wrong password accepted: out %q, done %v, err %v", out, done, err)
		}
		if !errors.Is(err, ErrAuthFailed) {
			t.Fatalf("err %v does not wrap ErrAuthFailed", err)
		}

		r, _ = seedRand()
		srv := NewServer(testProtocol, testServerName, lookup, r)
		if _, _, err := srv.Step(nil); err != nil {
			t.Fatal(err)
		}
		out, done, err = srv.Step(tok)
		if err != nil {
			if !errors.Is(err, ErrAuthFailed) || out != nil || done || srv.User() != "" {
				t.Fatalf("refusal: out %q, done %v, err %v, user %q", out, done, err, srv.User())
			}
			return
		}
		if !done || !rspauthRE.Match(out) {
			t.Fatalf("acceptance: out %q, done %v", out, done)
		}
		if _, ok := testUsers[srv.User()]; !ok {
			t.Fatalf("accepted unknown user %q", srv.User())
		}
		if _, _, err := srv.Step(tok); !errors.Is(err, ErrAuthFailed) {
			t.Fatalf("Step after done: err %v", err)
		}
	})
}
