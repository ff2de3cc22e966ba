package wire

import (
	"sync"
	"testing"
)

// TestRoundHalfUp4: the mean srvr prints is Java's
// BigDecimal(v).setScale(4, HALF_UP) of the double, printed as a double.
func TestRoundHalfUp4(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0.0"}, {4, "4.0"}, {0.26385, "0.2638"}, // 0.26385 is 0.263849999... in binary
		{0.26395, "0.264"}, {2.0 / 3, "0.6667"}, {1.00005, "1.0001"}, {12345.5, "12345.5"},
	} {
		if got := javaDouble(roundHalfUp4(c.v)); got != c.want {
			t.Errorf("%v: %s, want %s", c.v, got, c.want)
		}
	}
}

// TestLatencyConcurrentAdds: the server's latency takes adds from every
// connection at once; min, max, count and total come out exact.
func TestLatencyConcurrentAdds(t *testing.T) {
	l := newLatency()
	if lo, avg, hi := l.read(); lo != "0" || avg != "0.0" || hi != "0" {
		t.Fatalf("empty: %s/%s/%s", lo, avg, hi)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				l.add(int64(g*1000 + i + 1))
			}
		}()
	}
	wg.Wait()
	if lo, avg, hi := l.read(); lo != "1" || avg != "4000.5" || hi != "8000" {
		t.Errorf("after 8000 adds: %s/%s/%s", lo, avg, hi)
	}
	l.reset()
	l.add(3)
	if lo, avg, hi := l.read(); lo != "3" || avg != "3.0" || hi != "3" {
		t.Errorf("after a reset and one add: %s/%s/%s", lo, avg, hi)
	}
}
