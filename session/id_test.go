package session

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestInitialIDMatchesZooKeeper(t *testing.T) {
	for _, tc := range []struct {
		peer, now int64
		want      uint64
	}{
		{1, 0, 0x01_0000000000_0000},
		{1, 0x1234, 0x01_0000001234_0000},
		{3, 1<<45 | 0xabcdef, 0x03_0000abcdef_0000}, // only the low 40 bits of the clock
		{254, 0xffffffffff, 0xfe_ffffffffff_0000},
		{128, 1 << 40, 0x80_0000000000_0001}, // would be the container marker
		{7, -1, 0x07_ffffffffff_0000},
	} {
		if got := InitialID(tc.peer, tc.now); uint64(got) != tc.want {
			t.Errorf("InitialID(%d, %#x) = %#x, want %#x", tc.peer, tc.now, uint64(got), tc.want)
		}
	}
}

func TestBadPeerPanics(t *testing.T) {
	for _, peer := range []int64{0, -1, 255, 256, 1 << 40} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("peer %d: no panic", peer)
				}
			}()
			NewIDGen(peer, 1)
		}()
	}
}

func TestIDGenRandomized(t *testing.T) {
	const seed = 0x5e55101
	rng := rand.New(rand.NewPCG(seed, 1))
	for round := 0; round < 300; round++ {
		peer := int64(1 + rng.IntN(254))
		now := rng.Int64()
		if round%3 == 0 {
			now = int64(rng.IntN(1 << 20))
		}
		g := NewIDGen(peer, now)
		seen := make(map[int64]bool)
		first := InitialID(peer, now)
		for i := 0; i < 2000; i++ {
			id := g.Next()
			if i == 0 && id != first {
				t.Fatalf("seed %d round %d: first id %#x, InitialID %#x", seed, round, id, first)
			}
			if id == 0 || id == math.MinInt64 || PeerOf(id) != peer || seen[id] {
				t.Fatalf("seed %d round %d: bad id %#x (peer %d, now %#x, seen %v)", seed, round, id, peer, now, seen[id])
			}
			seen[id] = true
		}
	}
}

func TestIDGenExhaustion(t *testing.T) {
	g := NewIDGen(9, 0xffffffffff) // the last 65,536 ids of peer 9
	prev := int64(0)
	for i := 0; i < 1<<16; i++ {
		id := g.Next()
		if PeerOf(id) != 9 || id <= prev {
			t.Fatalf("id %d: %#x after %#x", i, id, prev)
		}
		prev = id
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Next after the last id did not panic")
		}
	}()
	g.Next()
}

func TestIDGenSkipsContainerMarker(t *testing.T) {
	g := &IDGen{high: 128 << lowBits, low: 0}
	if id := g.Next(); id == math.MinInt64 || PeerOf(id) != 128 {
		t.Fatalf("Next = %#x", uint64(id))
	}
}

func TestPeerOf(t *testing.T) {
	for peer := int64(1); peer <= 254; peer++ {
		if got := PeerOf(InitialID(peer, 12345)); got != peer {
			t.Fatalf("PeerOf(InitialID(%d)) = %d", peer, got)
		}
	}
}
