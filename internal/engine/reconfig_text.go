package engine

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/embedzk/zk/zab"
)

// ClusterConfig is one configuration of the ensemble: its servers, the
// hierarchical quorum's groups and weights if any, and its version (the
// zxid of the reconfig that made it; 0 for the static configuration).
type ClusterConfig struct {
	Servers []Server
	Groups  [][]int64
	Weights map[int64]int64
	Version int64
}

// Text is the configuration in ZooKeeper's dynamic configuration format,
// as /zookeeper/config and the dynamic configuration file hold it: one
// server.N=host:quorumPort:electionPort:role[;clientAddr] line per server
// in id order, group.N and weight.N lines, then version=<hex>.
func (c ClusterConfig) Text() string {
	var b strings.Builder
	for _, s := range sortedServers(c.Servers) {
		role := "participant"
		if s.Observer {
			role = "observer"
		}
		host := s.Host
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		fmt.Fprintf(&b, "server.%d=%s:%d:%d:%s", s.ID, host, s.QuorumPort, s.ElectionPort, role)
		if s.ClientAddr != "" {
			fmt.Fprintf(&b, ";%s", s.ClientAddr)
		}
		b.WriteByte('\n')
	}
	for i, g := range c.Groups {
		ids := make([]string, len(g))
		for j, id := range g {
			ids[j] = strconv.FormatInt(id, 10)
		}
		fmt.Fprintf(&b, "group.%d=%s\n", i+1, strings.Join(ids, ":"))
	}
	for _, id := range slices.Sorted(maps.Keys(c.Weights)) {
		fmt.Fprintf(&b, "weight.%d=%d\n", id, c.Weights[id])
	}
	fmt.Fprintf(&b, "version=%x", c.Version)
	return b.String()
}

func sortedServers(servers []Server) []Server {
	out := slices.Clone(servers)
	slices.SortFunc(out, func(a, b Server) int { return int(a.ID - b.ID) })
	return out
}

// ParseClusterConfig parses Text's format, and a dynamic configuration
// file's, with java.util.Properties' rules as ZooKeeper reads both (as
// zoo.cfg, internal/props): comments, continued lines, a key given twice
// takes its last value; version= may be absent.
func ParseClusterConfig(text []byte) (ClusterConfig, error) {
	var c ClusterConfig
	var q zooQuorum
	entries, err := readProps(bytes.NewReader(text), "configuration")
	if err != nil {
		return ClusterConfig{}, err
	}
	for _, e := range entries {
		key, value, line := e.Key, e.Value, e.Line
		var err error
		switch {
		case key == "version":
			c.Version, err = strconv.ParseInt(value, 16, 64)
		case strings.HasPrefix(key, "server."):
			var s Server
			if s, err = parseServerLine(key, value); err == nil {
				c.Servers = append(c.Servers, s)
			}
		default:
			var known bool
			if known, err = q.set(key, value); !known {
				err = fmt.Errorf("unknown key %q", key)
			}
		}
		if err != nil {
			return ClusterConfig{}, fmt.Errorf("%w: configuration line %d: %v", ErrInvalidConfig, line, err)
		}
	}
	var cfg Config
	q.apply(&cfg)
	c.Groups, c.Weights = cfg.Groups, cfg.Weights
	return c, nil
}

// membership is c as the protocol core sees it.
func (c ClusterConfig) membership() zab.Membership {
	var m zab.Membership
	for _, s := range sortedServers(c.Servers) {
		if s.Observer {
			m.Observers = append(m.Observers, s.ID)
		} else {
			m.Voters = append(m.Voters, s.ID)
		}
	}
	m.Groups, m.Weights = cloneGroups(c.Groups), maps.Clone(c.Weights)
	if m.Weights != nil && m.Groups == nil {
		m.Groups = [][]int64{slices.Clone(m.Voters)}
	}
	return m
}

// server returns c's server id.
func (c ClusterConfig) server(id int64) (Server, bool) {
	for _, s := range c.Servers {
		if s.ID == id {
			return s, true
		}
	}
	return Server{}, false
}

// staticConfig is the configuration cfg describes.
func staticConfig(cfg Config) ClusterConfig {
	return ClusterConfig{Servers: slices.Clone(cfg.Servers), Groups: cloneGroups(cfg.Groups), Weights: maps.Clone(cfg.Weights)}
}
