package transport

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := newBackoff(Backoff{Min: 10 * time.Millisecond, Max: 80 * time.Millisecond}, 7, 1)
	// Each wait is jittered to [cur/2, cur]; cur doubles up to Max.
	for i, cur := range []time.Duration{10, 20, 40, 80, 80, 80} {
		cur *= time.Millisecond
		if d := b.next(); d < cur/2 || d > cur {
			t.Fatalf("wait %d: %v, want within [%v, %v]", i, d, cur/2, cur)
		}
	}
	b.reset()
	if d := b.next(); d < 5*time.Millisecond || d > 10*time.Millisecond {
		t.Fatalf("after reset: %v", d)
	}
	// The same seed and stream give the same jitter; streams differ.
	x, y, z := newBackoff(Backoff{Min: time.Second, Max: time.Minute}, 7, 1),
		newBackoff(Backoff{Min: time.Second, Max: time.Minute}, 7, 1),
		newBackoff(Backoff{Min: time.Second, Max: time.Minute}, 7, 2)
	same, differ := true, false
	for range 10 {
		a, b, c := x.next(), y.next(), z.next()
		same = same && a == b
		differ = differ || a != c
	}
	if !same || !differ {
		t.Fatalf("seeded jitter: same seed equal %v, other stream differs %v", same, differ)
	}
}
