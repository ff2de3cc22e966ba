package transport

import (
	"errors"
	"fmt"
	"math"
)

// ErrWeakSecret reports a shared secret that CheckSecret refuses.
var ErrWeakSecret = errors.New("transport: weak secret")

// MinSecretLen is the shortest shared secret accepted, in bytes.
const MinSecretLen = 16

// minSecretBits is the least variety a secret must show, measured as its
// length times the Shannon entropy of its byte frequencies. Random secrets
// made the usual ways are above it (16 random bytes: 49 bits or more; the
// hex of 8 random bytes: 36 or more but for about 1 in 200,000 below 32,
// none in 20 million below 25, so the bound is 24 and such a secret is
// never refused); degenerate ones are far below ("aaaaaaaabbbbbbbb": 16).
const minSecretBits = 24

// CheckSecret reports why secret is too weak to authenticate peers, or nil.
// It refuses a secret shorter than MinSecretLen, one whose bytes are all
// the same (16 zero bytes: a buffer never filled), one that repeats a
// shorter pattern, one that counts up or down with a constant step, and one
// with too little variety in its bytes. These are cheap checks against
// obvious mistakes, not a strength meter: a secret should be random bytes,
// 32 of them from crypto/rand, or the output of `openssl rand -hex 32`.
func CheckSecret(secret []byte) error {
	n := len(secret)
	if n < MinSecretLen {
		return fmt.Errorf("%w: %d bytes is too short (at least %d)", ErrWeakSecret, n, MinSecretLen)
	}
	if p := period(secret); p == 1 {
		return fmt.Errorf("%w: every byte is %#02x", ErrWeakSecret, secret[0])
	} else if p > 0 {
		return fmt.Errorf("%w: it repeats a %d-byte pattern", ErrWeakSecret, p)
	}
	if constantStep(secret) {
		return fmt.Errorf("%w: its bytes follow each other with a constant step", ErrWeakSecret)
	}
	if bits := frequencyBits(secret); bits < minSecretBits {
		return fmt.Errorf("%w: too little variety: its byte frequencies carry about %.0f bits, want at least %d",
			ErrWeakSecret, bits, minSecretBits)
	}
	return nil
}

// period returns the shortest p <= len(b)/2 such that b repeats its first
// p bytes (a last repetition may be cut short), or 0 if there is none.
func period(b []byte) int {
	for p := 1; p <= len(b)/2; p++ {
		repeats := true
		for i := p; i < len(b) && repeats; i++ {
			repeats = b[i] == b[i-p]
		}
		if repeats {
			return p
		}
	}
	return 0
}

// constantStep reports whether every byte differs from the one before by
// the same amount (modulo 256): 0x00 0x01 0x02..., "abcdef...".
func constantStep(b []byte) bool {
	step := b[1] - b[0]
	for i := 2; i < len(b); i++ {
		if b[i]-b[i-1] != step {
			return false
		}
	}
	return true
}

// frequencyBits is len(b) times the Shannon entropy, in bits, of the
// frequencies of b's byte values.
func frequencyBits(b []byte) float64 {
	var counts [256]int
	for _, x := range b {
		counts[x]++
	}
	n := float64(len(b))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h * n
}
