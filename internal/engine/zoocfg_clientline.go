package engine

import (
	"fmt"
	"net"
	"strconv"
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
			return fmt.Errorf("%w: zoo.cfg: the client address of server %d is %s:%d in clientPort and clientPortAddress, %s in its server line",
				ErrInvalidConfig, c.ID, orAny(static), c.ClientPort, spec)
		}
	}
	c.ClientPort = port
	if net.ParseIP(host).IsUnspecified() {
		host = ""
	}
	c.ClientPortAddress = host
	return nil
}

// sameHost reports whether two hosts name the same address (equal names,
// or equal IPs however written).
func sameHost(a, b string) bool {
	if a == b {
		return true
	}
	ia, ib := net.ParseIP(a), net.ParseIP(b)
	return ia != nil && ib != nil && ia.Equal(ib)
}

func orAny(host string) string {
	if host == "" {
		return "0.0.0.0"
	}
	return host
}
