package wire

import (
	"testing"

	"github.com/embedzk/zk/internal/engine"
)

// TestGlobalLimit: the global outstanding limit as ZooKeeper's servers
// apply it: the default 1000, divided by the voters less one on a voter of
// more than two voters (LeaderZooKeeperServer, FollowerZooKeeperServer),
// whole on a standalone peer, an observer, or a voter of two; never below
// one.
func TestGlobalLimit(t *testing.T) {
	servers := func(n int, observers ...int64) []engine.Server {
		var out []engine.Server
		for id := int64(1); id <= int64(n); id++ {
			out = append(out, engine.Server{ID: id})
		}
		for _, o := range observers {
			out = append(out, engine.Server{ID: o, Observer: true})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		cfg  engine.Config
		want int64
	}{
		{"standalone", engine.Config{ID: 1}, 1000},
		{"3 voters", engine.Config{ID: 2, Servers: servers(3)}, 500},
		{"5 voters", engine.Config{ID: 1, Servers: servers(5)}, 250},
		{"2 voters", engine.Config{ID: 1, Servers: servers(2)}, 1000},
		{"an observer of 3 voters", engine.Config{ID: 4, Servers: servers(3, 4)}, 1000},
		{"3 voters, 90", engine.Config{ID: 1, Servers: servers(3), GlobalOutstandingLimit: 90}, 45},
		{"3 voters, 1", engine.Config{ID: 1, Servers: servers(3), GlobalOutstandingLimit: 1}, 1},
	} {
		if got := globalLimit(tc.cfg); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
