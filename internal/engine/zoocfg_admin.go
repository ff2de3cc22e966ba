package engine

import (
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// zoo.cfg's AdminServer keys, as ZooKeeper 3.8 reads them (the system
// properties zookeeper.admin.*, which its zoo.cfg sets): the AdminServer
// is on, at 0.0.0.0:8080/commands, unless admin.enableServer=false.
// admin.forceHttps=true serves it over HTTPS only, admin.portUnification=true
// over HTTPS and HTTP on one port, both with the quorum's key store
// (ssl.quorum.keyStore.*; its trust store is read too, if set), as
// ZooKeeper's JettyAdminServer. admin.httpVersion is returned as ignored.
const (
	keyAdminEnable  = "admin.enableServer"
	keyAdminAddress = "admin.serverAddress"
	keyAdminPort    = "admin.serverPort"
	keyAdminURL     = "admin.commandURL"
	keyAdminIdle    = "admin.idleTimeout"
	keyAdminHTTPS   = "admin.forceHttps"
	keyAdminUnify   = "admin.portUnification"

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
	https   bool // admin.forceHttps
	unify   bool // admin.portUnification
}

// set records key if it is an AdminServer key. As in ZooKeeper, only
// "false" turns the server off and port 0 is any free port; malformed
// numbers are errors here (ZooKeeper falls back to its defaults), and an
// idle timeout of 0 is the default (Jetty's is none).
func (a *zooAdmin) set(key, value string) (known bool, err error) {
	switch key {
	case keyAdminEnable:
		a.off = value == "false"
	case keyAdminAddress:
		a.address = value
	case keyAdminPort:
		p, err := strconv.Atoi(value)
		if err != nil || p < 0 || p > 65535 {
			return true, fmt.Errorf("%q is not a port (0..65535)", value)
		}
		a.port = p
		if p == 0 {
			a.port = -1 // Jetty binds a free port
		}
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
	case keyAdminHTTPS:
		a.https = strings.EqualFold(value, "true") // Java's Boolean.getBoolean
	case keyAdminUnify:
		a.unify = strings.EqualFold(value, "true")
	default:
		return false, nil
	}
	return true, nil
}

// usesQuorumStores reports whether the AdminServer serves HTTPS, with the
// quorum's key and trust stores.
func (a *zooAdmin) usesQuorumStores() bool { return !a.off && (a.https || a.unify) }

// loadTLS sets cfg's AdminTLS from the quorum's stores when HTTPS is asked
// for. ZooKeeper runs without its AdminServer when they cannot be read;
// zk refuses the configuration.
func (a *zooAdmin) loadTLS(cfg *Config, auth *zooAuth) error {
	if !a.usesQuorumStores() {
		return nil
	}
	v := auth.values
	if v[keyKeyStore] == "" {
		return fmt.Errorf("%w: zoo.cfg: %s or %s needs %s (the AdminServer's HTTPS uses the quorum's key store, as in ZooKeeper)",
			ErrInvalidConfig, keyAdminHTTPS, keyAdminUnify, keyKeyStore)
	}
	cert, err := loadKeyStore(v, auth.fail, keyKeyStore, keyKeyStoreType, keyKeyStorePass, keyKeyStorePath)
	if err != nil {
		return err
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if v[keyTrustStore] != "" { // read as ZooKeeper reads it; clients' certificates are not asked for
		if tc.ClientCAs, err = loadTrustStore(v, auth.fail, keyTrustStore, keyTrustStoreTyp, keyTrustStorePas, keyTrustStorePth); err != nil {
			return err
		}
	}
	cfg.AdminTLS, cfg.AdminPortUnification = tc, a.unify
	return nil
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
	if a.address == "" {
		cfg.AdminServerAddress = "0.0.0.0" // IPv4's every address, as Jetty binds ZooKeeper's
	}
}
