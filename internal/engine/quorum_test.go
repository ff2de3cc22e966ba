package engine

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/embedzk/zk/zab/transport"
)

// nineServers returns voters 1..9 (and observer 10 if observer).
func nineServers(observer bool) []Server {
	var s []Server
	for i := 1; i <= 9; i++ {
		s = append(s, Server{ID: int64(i), Host: "127.0.0.1", QuorumPort: 2880 + i, ElectionPort: 3880 + i})
	}
	if observer {
		s = append(s, Server{ID: 10, Host: "127.0.0.1", QuorumPort: 2890, ElectionPort: 3890, Observer: true})
	}
	return s
}

func TestConfigQuorumValidation(t *testing.T) {
	secret := []byte("0123456789abcdef")
	three := [][]int64{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}
	base := func(groups [][]int64, weights map[int64]int64) Config {
		return Config{DataDir: "d", ID: 1, PeerSecret: secret, Servers: nineServers(true), Groups: groups, Weights: weights}
	}
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string
		msg   string
	}{
		{"weights without groups", base(nil, map[int64]int64{1: 2}), "Weights", "weights need Groups"},
		{"standalone with groups", Config{DataDir: "d", Groups: [][]int64{{1}}}, "Groups", "need Servers"},
		{"unknown server in a group", base([][]int64{{1, 2, 3}, {4, 5, 6}, {7, 8, 9, 11}}, nil), "Groups[2]", "server 11 is not among Servers"},
		{"observer in a group", base([][]int64{{1, 2, 3}, {4, 5, 6}, {7, 8, 9, 10}}, nil), "Groups[2]", "server.10 is an observer"},
		{"voter in no group", base([][]int64{{1, 2, 3}, {4, 5, 6}, {7, 8}}, nil), "Groups", "voter server.9 is in no group"},
		{"voter in two groups", base([][]int64{{1, 2, 3}, {3, 4, 5, 6}, {7, 8, 9}}, nil), "Groups", "server 3 is in groups 0 and 1"},
		{"empty group", base([][]int64{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {}}, nil), "Groups", "group 3 has no members"},
		{"weight of an unknown server", base(three, map[int64]int64{12: 1}), "Weights", "server 12 is not among Servers"},
		{"weight of an observer", base(three, map[int64]int64{10: 1}), "Weights", "server.10 is an observer"},
		{"negative weight", base(three, map[int64]int64{4: -1}), "Groups", "weight of server 4 is -1"},
		{"every weight 0", base([][]int64{{1, 2, 3, 4, 5, 6, 7, 8, 9}}, map[int64]int64{1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0}), "Groups", "every voter weighs 0"},
	} {
		err := tc.cfg.Validate()
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), ": "+tc.field+": ") || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: got %v, want ErrInvalidConfig naming %s: %q", tc.name, err, tc.field, tc.msg)
		}
	}
	ok := base(three, map[int64]int64{1: 2, 9: 0})
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid hierarchical config rejected: %v", err)
	}
	// Config is cloned: changing the caller's groups or weights afterwards
	// changes nothing in a copy made by withDefaults.
	c := ok.withDefaults()
	ok.Groups[0][0], ok.Weights[1] = 9, 5
	if c.Groups[0][0] != 1 || c.Weights[1] != 2 {
		t.Fatalf("withDefaults shares groups or weights: %v %v", c.Groups, c.Weights)
	}
}

func TestParseZooCfgQuorum(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "server.%d=127.0.0.1:%d:%d\n", i, 2880+i, 3880+i)
	}
	b.WriteString("server.10=127.0.0.1:2890:3890:observer\n")
	// Group numbers are any distinct numbers; Groups follows their order.
	b.WriteString("group.10=7:8:9\ngroup.2=4:5:6\ngroup.1=1 : 2:3\n")
	b.WriteString("weight.1=2\nweight.9=0\n")
	cfg, ignored, err := ParseZooCfg(strings.NewReader(b.String()), []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ignored) != 0 {
		t.Fatalf("ignored %v", ignored)
	}
	if want := [][]int64{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}; !slices.EqualFunc(cfg.Groups, want, slices.Equal) {
		t.Fatalf("Groups %v, want %v", cfg.Groups, want)
	}
	if want := map[int64]int64{1: 2, 9: 0}; !maps.Equal(cfg.Weights, want) {
		t.Fatalf("Weights %v, want %v", cfg.Weights, want)
	}
	cfg.DataDir, cfg.PeerSecret = "d", []byte("0123456789abcdef")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	q, err := cfg.quorum()
	if err != nil || q == nil || !q.HasQuorum([]int64{1, 3, 4, 5}) || q.HasQuorum([]int64{1, 4, 5}) || q.HasQuorum([]int64{2, 3, 4, 7, 8}) || q.Weight(9) != 0 {
		t.Fatalf("quorum from zoo.cfg: %v, %v", q, err)
	}

	for _, bad := range []string{
		"group.x=1:2",
		"group.1=1:two",
		"group.1=1::2",
		"group.1=",
		"weight.x=1",
		"weight.1=heavy",
	} {
		if _, _, err := ParseZooCfg(strings.NewReader(bad), nil); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "zoo.cfg line") {
			t.Errorf("%q: got %v, want ErrInvalidConfig naming the line", bad, err)
		}
	}
}

// TestClusterWeightedQuorum: of 3 voters in one group, peer 1 weighs 3 and
// the others 1 (5 in all). Peer 1 alone holds more than half of the weight:
// it keeps serving writes with both others stopped, while 2 and 3 together,
// a majority of the voters, weigh 2 and never serve without it.
func TestClusterWeightedQuorum(t *testing.T) {
	c := newClusterWith(t, 3, 0, 61, transport.NetworkOptions{}, func(cfg *Config) {
		cfg.Groups, cfg.Weights = [][]int64{{1, 2, 3}}, map[int64]int64{1: 3}
	})
	c.waitFor("a serving ensemble", 400, c.allServing)
	c.stop(2)
	c.stop(3)
	c.waitFor("peer 1 leading alone", 400, func() bool { return c.leader() == 1 })
	s := c.session(1)
	if err := c.create(s, "/alone"); err != nil {
		t.Fatalf("write on the heavy peer alone: %v", err)
	}
	c.start(2)
	c.start(3)
	c.waitFor("all serving", 400, c.allServing)
	c.sameTrees()
	c.stop(1)
	c.waitFor("2 and 3 to stop serving", c.syncLimitTicks()+40, func() bool {
		return !c.ens[2].Status().Serving && !c.ens[3].Status().Serving
	})
	for i := 0; i < 300; i++ {
		c.tick()
		if c.ens[2].Status().Serving || c.ens[3].Status().Serving {
			t.Fatalf("a majority of weight 2 of 5 serves: %s", c.describe())
		}
	}
	c.start(1)
	c.waitFor("all serving again", 400, c.allServing)
	c.sameTrees()
}
