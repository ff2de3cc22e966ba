package engine

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/embedzk/zk/internal/zkerr"
)

// ParseReconfig turns the three strings of ZooKeeper's reconfig request
// (zkCli's reconfig -add, -remove and -members; the client protocol's
// joiningServers, leavingServers and newMembers) into a ReconfigRequest,
// checking them as ZooKeeper's leader does (PrepRequestProcessor):
//   - members, if not empty, is the whole new configuration: server.N,
//     group.N and weight.N lines (and an ignored version line) separated
//     by commas or newlines; joining and leaving are then ignored.
//   - joining is a comma-separated list of
//     server.N=host:quorumPort:electionPort[:role];[clientHost:]clientPort
//     (or N=...): the client port is required, as ZooKeeper requires it of
//     a joiner.
//   - leaving is a comma-separated list of server ids.
//
// A client address given as a bare port becomes 0.0.0.0:port, as
// ZooKeeper writes it in /zookeeper/config. Anything malformed fails with
// ErrBadArguments, a server id that is not a number too (ZooKeeper's
// leader answers that one with MARSHALLINGERROR, from an uncaught
// NumberFormatException).
func ParseReconfig(joining, leaving, members string) (ReconfigRequest, error) {
	if members != "" {
		return parseMembers(members)
	}
	var req ReconfigRequest
	for _, l := range splitList(leaving) {
		id, err := strconv.ParseInt(l, 10, 64)
		if err != nil {
			return ReconfigRequest{}, fmt.Errorf("%w: reconfig: leaving server id %q is not a number", zkerr.ErrBadArguments, l)
		}
		req.Remove = append(req.Remove, id)
	}
	for _, j := range splitList(joining) {
		s, err := parseJoiner(j)
		if err != nil {
			return ReconfigRequest{}, err
		}
		req.Add = append(req.Add, s)
	}
	return req, nil
}

// splitList splits a comma-separated list, trimming its items and dropping
// the empty ones (ZooKeeper's StringUtils.split).
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// parseJoiner parses one "server.N=spec" (or "N=spec") of a joining list.
func parseJoiner(joiner string) (Server, error) {
	parts := strings.Split(joiner, "=")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return Server{}, fmt.Errorf("%w: reconfig: %q: wrong format of server string", zkerr.ErrBadArguments, joiner)
	}
	key := parts[0][strings.LastIndexByte(parts[0], '.')+1:]
	id, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		return Server{}, fmt.Errorf("%w: reconfig: server id %q is not a number", zkerr.ErrBadArguments, key)
	}
	s, err := parseServerSpec(id, parts[1])
	if err == nil && s.ClientAddr == "" {
		err = fmt.Errorf("wrong format of server string - each server should have at least 3 ports specified")
	}
	if err != nil {
		return Server{}, fmt.Errorf("%w: reconfig: %q: %v", zkerr.ErrBadArguments, joiner, err)
	}
	return s, nil
}

// parseServerSpec parses host:quorumPort:electionPort[:role][;[clientHost:]clientPort]
// as ZooKeeper's QuorumServer does (without its multi-address form).
func parseServerSpec(id int64, spec string) (Server, error) {
	addr, client, hasClient := strings.Cut(spec, ";")
	switch {
	case strings.Contains(client, ";"):
		return Server{}, fmt.Errorf("more than one ';'")
	case strings.Contains(addr, "|"):
		return Server{}, fmt.Errorf("multiple addresses are not supported")
	}
	s, err := parseServerLine("server."+strconv.FormatInt(id, 10), addr)
	if err != nil {
		return Server{}, err
	}
	if s.QuorumPort == s.ElectionPort {
		return Server{}, fmt.Errorf("the quorum and election ports must differ")
	}
	if hasClient {
		if s.ClientAddr, err = clientSpec(client); err != nil {
			return Server{}, err
		}
	}
	return s, nil
}

// clientSpec normalizes "[host:]port" to host:port, the host 0.0.0.0 when
// absent, as ZooKeeper prints a server's client address.
func clientSpec(spec string) (string, error) {
	spec = strings.TrimSpace(spec)
	host, port := "0.0.0.0", spec
	if strings.Contains(spec, ":") {
		h, p, err := net.SplitHostPort(spec)
		if err != nil {
			return "", fmt.Errorf("client address %q: %v", spec, err)
		}
		host, port = h, p
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("client port %q is not a port", port)
	}
	return net.JoinHostPort(host, port), nil
}

// parseMembers parses a non-incremental reconfig's new member list.
func parseMembers(members string) (ReconfigRequest, error) {
	text := strings.ReplaceAll(members, ",", "\n")
	for _, l := range strings.Split(text, "\n") {
		key, _, _ := strings.Cut(l, "=")
		if key = strings.TrimSpace(key); !strings.HasPrefix(key, "server.") {
			continue
		}
		if _, err := strconv.ParseInt(strings.TrimPrefix(key, "server."), 10, 64); err != nil {
			return ReconfigRequest{}, fmt.Errorf("%w: reconfig: server id in %q is not a number", zkerr.ErrBadArguments, key)
		}
	}
	c, err := ParseClusterConfig([]byte(text))
	if err != nil {
		return ReconfigRequest{}, fmt.Errorf("%w: reconfig: %v", zkerr.ErrBadArguments, err)
	}
	if len(c.Servers) == 0 {
		return ReconfigRequest{}, fmt.Errorf("%w: reconfig: the new member list has no server", zkerr.ErrBadArguments)
	}
	for i, s := range c.Servers {
		if s.QuorumPort == s.ElectionPort {
			return ReconfigRequest{}, fmt.Errorf("%w: reconfig: server.%d: the quorum and election ports must differ", zkerr.ErrBadArguments, s.ID)
		}
		if s.ClientAddr == "" {
			continue
		}
		if c.Servers[i].ClientAddr, err = clientSpec(s.ClientAddr); err != nil {
			return ReconfigRequest{}, fmt.Errorf("%w: reconfig: server.%d: %v", zkerr.ErrBadArguments, s.ID, err)
		}
	}
	return ReconfigRequest{Members: c.Servers, Groups: c.Groups, Weights: c.Weights}, nil
}
