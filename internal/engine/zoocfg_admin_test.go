package engine

import (
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
		{lines: "", port: 8080},
		{lines: "admin.enableServer=false\nadmin.serverPort=9090\n", port: 0},
		{lines: "admin.enableServer=no\n", port: 8080}, // only "false" turns it off, as in ZooKeeper
		{lines: "admin.enableServer=true\nadmin.serverPort=9090\nadmin.serverAddress=127.0.0.1\nadmin.commandURL=/zk\nadmin.idleTimeout=5000\n",
			port: 9090, addr: "127.0.0.1", url: "/zk", idle: 5 * time.Second},
		{lines: "admin.forceHttps=true\nadmin.portUnification=true\n", port: 8080, ignored: []string{"admin.forceHttps", "admin.portUnification"}},
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
	for _, bad := range []string{"admin.serverPort=http", "admin.serverPort=0", "admin.serverPort=70000", "admin.commandURL=commands", "admin.idleTimeout=-1", "admin.idleTimeout=30s"} {
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
