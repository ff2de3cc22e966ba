package engine

import (
	"crypto/tls"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestZooCfgAdmin reads the AdminServer's zoo.cfg keys as ZooKeeper 3.8
// does: on at 8080 by default, off only with admin.enableServer=false.
func TestZooCfgAdmin(t *testing.T) {
	for _, tc := range []struct {
		lines     string
		port      int
		addr, url string
		idle      time.Duration
		ignored   []string
	}{
		{lines: "", port: 8080, addr: "0.0.0.0"},
		{lines: "admin.serverPort=0\n", port: -1, addr: "0.0.0.0"}, // any free port, as Jetty
		{lines: "admin.enableServer=false\nadmin.serverPort=9090\n", port: 0},
		{lines: "admin.enableServer=no\n", port: 8080, addr: "0.0.0.0"}, // only "false" turns it off, as in ZooKeeper
		{lines: "admin.enableServer=true\nadmin.serverPort=9090\nadmin.serverAddress=127.0.0.1\nadmin.commandURL=/zk\nadmin.idleTimeout=5000\n",
			port: 9090, addr: "127.0.0.1", url: "/zk", idle: 5 * time.Second},
		{lines: "admin.httpVersion=11\n", port: 8080, addr: "0.0.0.0", ignored: []string{"admin.httpVersion"}},
	} {
		cfg, ignored, err := ParseZooCfg(strings.NewReader("dataDir=/d\nclientPort=2181\n"+tc.lines), nil)
		if err != nil {
			t.Fatalf("%q: %v", tc.lines, err)
		}
		if cfg.AdminServerPort != tc.port || cfg.AdminServerAddress != tc.addr || cfg.AdminCommandURL != tc.url || cfg.AdminIdleTimeout != tc.idle {
			t.Errorf("%q: port %d address %q URL %q idle %v", tc.lines, cfg.AdminServerPort, cfg.AdminServerAddress, cfg.AdminCommandURL, cfg.AdminIdleTimeout)
		}
		if strings.Join(ignored, ",") != strings.Join(tc.ignored, ",") {
			t.Errorf("%q: ignored %v, want %v", tc.lines, ignored, tc.ignored)
		}
		cfg.ID = 1
		if err := cfg.validateAdmin(); err != nil {
			t.Errorf("%q: %v", tc.lines, err)
		}
	}
	for _, bad := range []string{"admin.serverPort=http", "admin.serverPort=-1", "admin.serverPort=70000", "admin.commandURL=commands", "admin.idleTimeout=-1", "admin.idleTimeout=30s"} {
		if _, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\n"+bad+"\n"), nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, c := range []Config{{AdminServerPort: -2}, {AdminServerPort: 65536}, {AdminCommandURL: "x"}, {AdminCommandURL: "/a b"}, {AdminIdleTimeout: -time.Second}} {
		if err := c.validateAdmin(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// TestZooCfgAdminHTTPS: admin.forceHttps and admin.portUnification serve
// the AdminServer over HTTPS with the quorum's key store, as ZooKeeper's,
// whether or not sslQuorum is set.
func TestZooCfgAdminHTTPS(t *testing.T) {
	dir, err := filepath.Abs("../keystore/testdata")
	if err != nil {
		t.Fatal(err)
	}
	stores := fmt.Sprintf("ssl.quorum.keyStore.location=%[1]s/server.jks\nssl.quorum.keyStore.password=zksecret\n"+
		"ssl.quorum.trustStore.location=%[1]s/trust.jks\nssl.quorum.trustStore.password=zksecret\n", dir)
	for _, tc := range []struct {
		lines         string
		https, unify  bool
		ignoredStores bool
	}{
		{lines: "admin.forceHttps=true\n", https: true},
		{lines: "admin.forceHttps=TRUE\n", https: true}, // Java's Boolean.getBoolean
		{lines: "admin.portUnification=true\n", https: true, unify: true},
		{lines: "admin.forceHttps=yes\n", ignoredStores: true},
		{lines: "admin.enableServer=false\nadmin.forceHttps=true\n", ignoredStores: true},
	} {
		cfg, ignored, err := ParseZooCfg(strings.NewReader("dataDir=/d\nclientPort=2181\n"+stores+tc.lines), nil)
		if err != nil {
			t.Fatalf("%q: %v", tc.lines, err)
		}
		if (cfg.AdminTLS != nil) != tc.https || cfg.AdminPortUnification != tc.unify {
			t.Errorf("%q: AdminTLS %v, AdminPortUnification %v", tc.lines, cfg.AdminTLS != nil, cfg.AdminPortUnification)
		}
		if tc.https && (len(cfg.AdminTLS.Certificates) != 1 || cfg.AdminTLS.ClientCAs == nil || cfg.AdminTLS.ClientAuth != tls.NoClientCert) {
			t.Errorf("%q: AdminTLS %+v", tc.lines, cfg.AdminTLS)
		}
		if got := slices.Contains(ignored, "ssl.quorum.keyStore.location"); got != tc.ignoredStores {
			t.Errorf("%q: ignored %v", tc.lines, ignored)
		}
		if err := cfg.validateAdmin(); err != nil {
			t.Errorf("%q: %v", tc.lines, err)
		}
	}
	for _, bad := range []string{
		"admin.forceHttps=true\n", // no key store
		"admin.portUnification=true\nssl.quorum.keyStore.location=" + dir + "/server.jks\nssl.quorum.keyStore.password=wrong\n",
	} {
		if _, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\n"+bad), nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%q: %v, want ErrInvalidConfig", bad, err)
		}
	}
	if err := (Config{AdminPortUnification: true}).validateAdmin(); err == nil {
		t.Error("AdminPortUnification without AdminTLS accepted")
	}
	if err := (Config{AdminTLS: &tls.Config{}}).validateAdmin(); err == nil {
		t.Error("AdminTLS without a certificate accepted")
	}
}
