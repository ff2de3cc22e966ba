package transport

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	mrand "math/rand/v2"
	"strings"
	"testing"
)

// weakSecrets are secrets TCPConfig (and the engine's Config) must refuse,
// with the reason the error gives.
var weakSecrets = []struct {
	name, secret, reason string
}{
	{"empty but set", "x", "too short"},
	{"15 bytes", "0123456789abcde", "too short"},
	{"16 zero bytes", string(make([]byte, 16)), "every byte is 0x00"},
	{"constant", strings.Repeat("A", 32), "every byte is 0x41"},
	{"repeated word", "passwordpassword", "repeats a 8-byte pattern"},
	{"repeated pair", strings.Repeat("ab", 12), "repeats a 2-byte pattern"},
	{"counting bytes", string([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}), "constant step"},
	{"alphabet", "abcdefghijklmnopqrstuvwxyz", "constant step"},
	{"two runs", "aaaaaaaabbbbbbbb", "too little variety"},
	{"nearly constant", "000000000000000000000001", "too little variety"},
}

func TestCheckSecretRefusesWeakSecrets(t *testing.T) {
	for _, c := range weakSecrets {
		err := CheckSecret([]byte(c.secret))
		if !errors.Is(err, ErrWeakSecret) || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s: %v, want ErrWeakSecret saying %q", c.name, err, c.reason)
		}
	}
}

// TestTCPConfigRefusesWeakSecrets: NewTCP refuses a weak secret, naming
// the field.
func TestTCPConfigRefusesWeakSecrets(t *testing.T) {
	for _, c := range weakSecrets {
		cfg := TCPConfig{ID: 1, Listen: "127.0.0.1:0", Peers: map[int64]string{2: "127.0.0.1:1"}, Secret: []byte(c.secret)}
		tr, err := NewTCP(cfg)
		if err == nil {
			tr.Close()
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "TCPConfig.Secret") {
			t.Errorf("%s: %v, want ErrConfig naming TCPConfig.Secret", c.name, err)
		}
	}
}

// TestCheckSecretAcceptsGeneratedSecrets: secrets made the usual ways pass,
// and so do the readable ones the project's tests use.
func TestCheckSecretAcceptsGeneratedSecrets(t *testing.T) {
	seed := [32]byte{}
	if _, err := rand.Read(seed[:]); err != nil {
		t.Fatal(err)
	}
	rng := mrand.NewChaCha8(seed)
	random := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		return b
	}
	gens := map[string]func() []byte{
		"16 random bytes":       func() []byte { return random(16) },
		"32 random bytes":       func() []byte { return random(32) },
		"hex of 8 random bytes": func() []byte { return []byte(hex.EncodeToString(random(8))) },
		"hex of 32":             func() []byte { return []byte(hex.EncodeToString(random(32))) },
		"base64 of 12":          func() []byte { return []byte(base64.StdEncoding.EncodeToString(random(12))) },
	}
	for name, gen := range gens {
		for range 2000 {
			if s := gen(); CheckSecret(s) != nil {
				t.Fatalf("%s (seed %x): %x refused: %v", name, seed, s, CheckSecret(s))
			}
		}
	}
	for _, s := range []string{
		string(testSecret), "tcp-cluster-test-secret", "proctest-secret-1",
		"examples/bench shared secret", "0123456789abcdef", "correct horse battery staple",
	} {
		if err := CheckSecret([]byte(s)); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if err := CheckSecret(bytes.Repeat([]byte{1, 2, 3}, 5)); err == nil {
		t.Error("a 15-byte secret accepted")
	}
}
