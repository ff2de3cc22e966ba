package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/embedzk/zk/zab/transport"
)

// TestValidateRefusesWeakPeerSecrets: a secret that would authenticate
// nobody worth the name is refused, naming the field and the reason.
func TestValidateRefusesWeakPeerSecrets(t *testing.T) {
	three := []Server{
		{ID: 1, Host: "127.0.0.1", QuorumPort: 2888},
		{ID: 2, Host: "127.0.0.1", QuorumPort: 2889},
		{ID: 3, Host: "127.0.0.1", QuorumPort: 2890},
	}
	cases := map[string]struct {
		secret []byte
		reason string
	}{
		"16 zero bytes": {make([]byte, 16), "every byte is 0x00"},
		"constant":      {[]byte(strings.Repeat("x", 40)), "every byte is 0x78"},
		"repeated word": {[]byte("zookeeperzookeeper"), "repeats a 9-byte pattern"},
		"counting":      {[]byte("abcdefghijklmnop"), "constant step"},
		"two runs":      {[]byte("aaaaaaaaaaaaaaaabbbbbbbb"), "too little variety"},
		"short":         {[]byte("0123456789"), "too short"},
	}
	for name, c := range cases {
		err := Config{DataDir: "d", ID: 1, Servers: three, PeerSecret: c.secret}.Validate()
		if !errors.Is(err, ErrInvalidConfig) || !errors.Is(err, transport.ErrWeakSecret) ||
			!strings.Contains(err.Error(), ": PeerSecret: ") || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s: %v, want ErrInvalidConfig naming PeerSecret and saying %q", name, err, c.reason)
		}
	}
	good := Config{DataDir: "d", ID: 1, Servers: three, PeerSecret: []byte("7f3c9a0e51d2b8466e0c1f9a3b5d7e20")}
	if err := good.Validate(); err != nil {
		t.Fatalf("a random secret refused: %v", err)
	}
}
