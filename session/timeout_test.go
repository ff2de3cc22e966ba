package session

import "testing"

func TestNegotiateTimeout(t *testing.T) {
	min, max := DefaultTimeoutBounds(2000)
	if min != 4000 || max != 40000 {
		t.Fatalf("DefaultTimeoutBounds(2000) = %d, %d", min, max)
	}
	for _, tc := range []struct{ req, min, max, want int32 }{
		{0, 4000, 40000, 4000},
		{-5, 4000, 40000, 4000},
		{3999, 4000, 40000, 4000},
		{4000, 4000, 40000, 4000},
		{10000, 4000, 40000, 10000},
		{40000, 4000, 40000, 40000},
		{40001, 4000, 40000, 40000},
		{5000, 6000, 3000, 3000}, // min > max: max wins, as in ZooKeeper
	} {
		if got := NegotiateTimeout(tc.req, tc.min, tc.max); got != tc.want {
			t.Errorf("NegotiateTimeout(%d, %d, %d) = %d, want %d", tc.req, tc.min, tc.max, got, tc.want)
		}
	}
}

func TestTimeoutTicks(t *testing.T) {
	for _, tc := range []struct {
		ms, tick int32
		want     int
	}{
		{4000, 2000, 2}, {4001, 2000, 3}, {1, 2000, 1}, {0, 2000, 0}, {-1, 2000, 0}, {100, 0, 0},
		{1<<31 - 1, 1, 1<<31 - 1},
	} {
		if got := TimeoutTicks(tc.ms, tc.tick); got != tc.want {
			t.Errorf("TimeoutTicks(%d, %d) = %d, want %d", tc.ms, tc.tick, got, tc.want)
		}
	}
}
