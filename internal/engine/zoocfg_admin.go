package engine

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// zoo.cfg's AdminServer keys, as ZooKeeper 3.8 reads them (the system
// properties zookeeper.admin.*, which its zoo.cfg sets): the AdminServer
// is on, at 0.0.0.0:8080/commands, unless admin.enableServer=false.
// ZooKeeper's HTTPS keys for it (admin.portUnification, admin.forceHttps)
// and admin.httpVersion are returned as ignored.
const (
	keyAdminEnable  = "admin.enableServer"
	keyAdminAddress = "admin.serverAddress"
	keyAdminPort    = "admin.serverPort"
	keyAdminURL     = "admin.commandURL"
	keyAdminIdle    = "admin.idleTimeout"

	// DefaultZooCfgAdminPort is the AdminServer's port when zoo.cfg does
	// not set admin.serverPort, as ZooKeeper's.
	DefaultZooCfgAdminPort = 8080
)

// zooAdmin collects the AdminServer keys while zoo.cfg is parsed.
type zooAdmin struct {
	off     bool
	address string
	port    int
	url     string
	idle    time.Duration
}

// set records key if it is an AdminServer key. As in ZooKeeper, only
// "false" turns the server off; malformed numbers are errors here
// (ZooKeeper falls back to its defaults).
func (a *zooAdmin) set(key, value string) (known bool, err error) {
	switch key {
	case keyAdminEnable:
		a.off = value == "false"
	case keyAdminAddress:
		a.address = value
	case keyAdminPort:
		p, err := strconv.Atoi(value)
		if err != nil || p < 1 || p > 65535 {
			return true, fmt.Errorf("%q is not a port (1..65535)", value)
		}
		a.port = p
	case keyAdminURL:
		if !strings.HasPrefix(value, "/") {
			return true, fmt.Errorf("%q is not a URL path (/commands)", value)
		}
		a.url = value
	case keyAdminIdle:
		ms, err := strconv.Atoi(value)
		if err != nil || ms < 0 {
			return true, fmt.Errorf("%q is not a number of milliseconds", value)
		}
		a.idle = time.Duration(ms) * time.Millisecond
	default:
		return false, nil
	}
	return true, nil
}

// apply sets cfg's AdminServer fields unless it is off.
func (a *zooAdmin) apply(cfg *Config) {
	if a.off {
		return
	}
	cfg.AdminServerPort = a.port
	if a.port == 0 {
		cfg.AdminServerPort = DefaultZooCfgAdminPort
	}
	cfg.AdminServerAddress, cfg.AdminCommandURL, cfg.AdminIdleTimeout = a.address, a.url, a.idle
}
