package engine

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// clientPortFromServerLine takes the client port from this peer's own
// server line ("server.N=host:quorum:election;[host:]port"), as ZooKeeper
// 3.5 and later do (QuorumPeerConfig's setupClientPort): a zoo.cfg or a
// dynamic configuration file that names the client port there needs no
// clientPort. A clientPort (and clientPortAddress) that names another
// address is an error, as in ZooKeeper; one that agrees changes nothing.
// It runs once the peer's id is known.
func (c *Config) clientPortFromServerLine() error {
	var spec string
	for _, s := range c.Servers {
		if s.ID == c.ID {
			spec = s.ClientAddr
		}
	}
	if spec == "" || c.ID == 0 {
		return nil
	}
	norm, err := clientSpec(spec)
	if err != nil {
		return fmt.Errorf("%w: zoo.cfg: server.%d: %v", ErrInvalidConfig, c.ID, err)
	}
	host, portText, _ := net.SplitHostPort(norm)
	port, _ := strconv.Atoi(portText) // clientSpec checked it
	if c.ClientPort > 0 {
		static := c.ClientPortAddress
		wildcard := static == "" || net.ParseIP(static).IsUnspecified()
		if wildcard && c.ClientPort != port || !wildcard && (c.ClientPort != port || !sameHost(static, host)) {
			return fmt.Errorf("%w: zoo.cfg: the client address of server %d is %s in clientPort (and clientPortAddress), %s in its server line",
				ErrInvalidConfig, c.ID, net.JoinHostPort(orAny(static), strconv.Itoa(c.ClientPort)), spec)
		}
	}
	c.ClientPort = port
	if net.ParseIP(host).IsUnspecified() {
		host = ""
	}
	c.ClientPortAddress = host
	return nil
}

// sameHost reports whether two hosts name the same address, as ZooKeeper
// compares them once InetAddress.getByName has resolved each: equal names,
// equal IPs however written, or names whose first addresses are equal.
func sameHost(a, b string) bool {
	if a == b {
		return true
	}
	ia, ib := firstAddr(a), firstAddr(b)
	return ia != nil && ib != nil && ia.Equal(ib)
}

// firstAddr is host's IP, or the first address it resolves to within
// resolveWait, an IPv4 one before IPv6 ones as Java prefers by default (nil
// if it resolves to none).
func firstAddr(host string) net.IP {
	if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")); ip != nil {
		return ip
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveWait)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return nil
	}
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip
		}
	}
	return ips[0]
}

// resolveWait bounds the name lookup of a zoo.cfg client address.
const resolveWait = 5 * time.Second

func orAny(host string) string {
	if host == "" {
		return "0.0.0.0"
	}
	return host
}

// zooStandalone is zoo.cfg's standaloneEnabled (default true): with it, a
// configuration of one voting server runs standalone, as ZooKeeper's
// QuorumPeerMain runs it (isDistributed), unless reconfig is enabled.
type zooStandalone struct{ enabled bool }

func (z *zooStandalone) set(key, value string) (known bool, err error) {
	if key != "standaloneEnabled" {
		return false, nil
	}
	z.enabled, err = zooBool(value)
	return true, err
}

// zooBool reads a zoo.cfg boolean: true or false in any case, as Java's
// Boolean.parseBoolean reads true; anything else, which ZooKeeper would
// take as false, is an error here.
func zooBool(value string) (bool, error) {
	switch strings.ToLower(value) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", value)
}

// soleVoter returns the id of the first voter of servers.
func soleVoter(servers []Server) int64 {
	for _, s := range servers {
		if !s.Observer {
			return s.ID
		}
	}
	return 0
}

// apply drops the membership of a one-voter configuration when standalone
// mode is enabled (after the server line gave the client port), and
// refuses what ZooKeeper's parseDynamicConfig refuses: observers without a
// quorum, no participant at all. A configuration that enables reconfig
// keeps its one voter: zk's quorum of one can grow by reconfig (ZooKeeper's
// standalone server cannot), and a peer grown so must restart as the
// member it became (its zoo.cfg still lists the one server). Beyond
// ZooKeeper, a one-voter configuration that would run standalone but names
// another server than myid's is refused. standaloneEnabled=false also lets
// a reconfig leave one participant (Config.StandaloneDisabled).
func (z *zooStandalone) apply(cfg *Config) error {
	voters := 0
	for _, s := range cfg.Servers {
		if !s.Observer {
			voters++
		}
	}
	observers := len(cfg.Servers) - voters
	switch {
	case len(cfg.Servers) == 0:
	case voters == 0:
		return fmt.Errorf("%w: zoo.cfg: observers without participants is an invalid configuration", ErrInvalidConfig)
	case voters == 1 && z.enabled && observers > 0:
		return fmt.Errorf("%w: zoo.cfg: observers without a quorum is an invalid configuration (with standaloneEnabled=true)", ErrInvalidConfig)
	case voters == 1 && z.enabled && !cfg.ReconfigEnabled:
		if s := soleVoter(cfg.Servers); cfg.ID != 0 && s != cfg.ID {
			// A reconfig that shrank the ensemble to s removed this
			// server (its dynamic file lists s alone): standalone, it
			// would serve its old tree as a second writable one.
			return fmt.Errorf("%w: zoo.cfg: the one participant is server %d, not this server (myid %d): a server a reconfig removed, or a zoo.cfg meant for another server (an ensemble that may shrink to one needs standaloneEnabled=false on every server)", ErrInvalidConfig, s, cfg.ID)
		}
		cfg.Servers, cfg.Groups, cfg.Weights = nil, nil, nil
	}
	cfg.StandaloneDisabled = !z.enabled
	return nil
}
