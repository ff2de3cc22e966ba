package election

import (
	"errors"
	"testing"
)

func TestMajority(t *testing.T) {
	for _, tc := range []struct {
		voters    []int64
		threshold int
	}{{[]int64{1}, 1}, {[]int64{1, 2}, 2}, {[]int64{3, 1, 2}, 2}, {[]int64{1, 2, 3, 4}, 3}, {[]int64{1, 2, 3, 4, 5}, 3}} {
		m, err := NewMajority(tc.voters)
		if err != nil {
			t.Fatal(err)
		}
		if m.Threshold() != tc.threshold {
			t.Fatalf("%v: threshold %d, want %d", tc.voters, m.Threshold(), tc.threshold)
		}
		if got := m.Voters(); got[0] != 1 || len(got) != len(tc.voters) {
			t.Fatalf("voters not sorted: %v", got)
		}
	}
	m, _ := NewMajority([]int64{1, 2, 3})
	for _, tc := range []struct {
		ids  []int64
		want bool
	}{
		{nil, false}, {[]int64{1}, false}, {[]int64{1, 1}, false}, {[]int64{1, 9}, false},
		{[]int64{1, 2}, true}, {[]int64{3, 2, 1}, true}, {[]int64{2, 9, 3}, true},
	} {
		if got := m.HasQuorum(tc.ids); got != tc.want {
			t.Errorf("HasQuorum(%v) = %v, want %v", tc.ids, got, tc.want)
		}
	}
	for _, bad := range [][]int64{nil, {0}, {255}, {1, 1}} {
		if _, err := NewMajority(bad); !errors.Is(err, ErrBadQuorum) {
			t.Errorf("NewMajority(%v): %v", bad, err)
		}
	}
}

func TestCommittedIndex(t *testing.T) {
	m, _ := NewMajority([]int64{1, 2, 3, 4, 5})
	for _, tc := range []struct {
		acks map[int64]int64
		want int64
	}{
		{map[int64]int64{}, 0},
		{map[int64]int64{1: 10}, 0},
		{map[int64]int64{1: 10, 2: 7, 3: 5}, 5},
		{map[int64]int64{1: 10, 2: 7, 3: 5, 4: 9}, 7},
		{map[int64]int64{1: 10, 2: 10, 3: 10, 9: 20, 8: 20}, 10}, // non-voters ignored
		{map[int64]int64{1: 3, 2: 3, 3: 3, 4: 3, 5: 3}, 3},
	} {
		if got := CommittedIndex(m, tc.acks); got != tc.want {
			t.Errorf("CommittedIndex(%v) = %d, want %d", tc.acks, got, tc.want)
		}
	}
}
