package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/embedzk/zk/internal/zkerr"
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

// ParseClusterConfig parses Text's format (and a dynamic configuration
// file's: blank lines and # comments are skipped, version= may be absent).
func ParseClusterConfig(text []byte) (ClusterConfig, error) {
	var c ClusterConfig
	var q zooQuorum
	sc := bufio.NewScanner(bytes.NewReader(text))
	for line := 1; sc.Scan(); line++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		key, value, ok := strings.Cut(l, "=")
		if !ok {
			return ClusterConfig{}, fmt.Errorf("%w: configuration line %d: %q is not key=value", ErrInvalidConfig, line, l)
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
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

// ParseReconfig builds a ReconfigRequest from ZooKeeper's reconfig
// arguments, as its client and the wire protocol give them: joining and
// members are comma-separated server.N=host:port:port[:role][;client]
// lines (or id=... without "server."), leaving a comma-separated list of
// ids, fromConfig the expected version (-1: none). Members excludes
// joining and leaving.
func ParseReconfig(joining, leaving, members string, fromConfig int64) (ReconfigRequest, error) {
	bad := func(format string, a ...any) (ReconfigRequest, error) {
		return ReconfigRequest{}, fmt.Errorf("%w: reconfig: %s", zkerr.ErrBadArguments, fmt.Sprintf(format, a...))
	}
	servers := func(list string) ([]Server, error) {
		var out []Server
		for _, item := range strings.Split(list, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			key, value, ok := strings.Cut(item, "=")
			if !ok {
				return nil, fmt.Errorf("%q is not server.N=host:port:port", item)
			}
			if !strings.HasPrefix(key, "server.") {
				key = "server." + key
			}
			s, err := parseServerLine(strings.TrimSpace(key), strings.TrimSpace(value))
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	var req ReconfigRequest
	var err error
	if strings.TrimSpace(members) != "" {
		if strings.TrimSpace(joining) != "" || strings.TrimSpace(leaving) != "" {
			return bad("members with joining or leaving servers")
		}
		if req.Members, err = servers(members); err != nil {
			return bad("%v", err)
		}
		if req.Members == nil {
			req.Members = []Server{}
		}
	} else {
		if req.Add, err = servers(joining); err != nil {
			return bad("%v", err)
		}
		for _, item := range strings.Split(leaving, ",") {
			if item = strings.TrimSpace(item); item == "" {
				continue
			}
			id, err := strconv.ParseInt(item, 10, 64)
			if err != nil {
				return bad("%q is not a server id", item)
			}
			req.Remove = append(req.Remove, id)
		}
	}
	if fromConfig > 0 {
		req.FromConfig = fromConfig
	}
	return req, nil
}
