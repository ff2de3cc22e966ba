package transport

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"time"
)

// backoff yields the waits between dials to one peer. Not safe for
// concurrent use: each dial loop owns its own.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
	rng      *rand.Rand
}

func newBackoff(b Backoff, seed, stream uint64) *backoff {
	return &backoff{min: b.Min, max: b.Max, cur: b.Min, rng: rand.New(rand.NewPCG(seed, stream))}
}

// next returns the wait before the next dial, jittered to [cur/2, cur], and
// doubles cur up to max.
func (b *backoff) next() time.Duration {
	d := b.cur
	b.cur = min(2*b.cur, b.max)
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + time.Duration(b.rng.Int64N(int64(d-half)+1))
}

// reset goes back to the minimum wait after a successful handshake.
func (b *backoff) reset() { b.cur = b.min }

// randomSeed draws a seed from crypto/rand.
func randomSeed() uint64 {
	var b [8]byte
	if _, err := crand.Read(b[:]); err != nil {
		// crypto/rand never fails on supported platforms; a fixed seed
		// only makes the jitter predictable, never wrong.
		return 1
	}
	return binary.LittleEndian.Uint64(b[:])
}
