package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestZooCfgClientPortFromServerLine: a peer's own server line gives its
// client port, as ZooKeeper 3.5 and later read it; a clientPort that names
// another address is refused, as ZooKeeper refuses it.
func TestZooCfgClientPortFromServerLine(t *testing.T) {
	const servers = "server.1=127.0.0.1:2888:3888;%s\nserver.2=127.0.0.1:2889:3889;2182\n"
	line := func(client string) string { return strings.Replace(servers, "%s", client, 1) }
	for _, tc := range []struct {
		static, client string
		port           int
		addr           string
	}{
		{"", "2181", 2181, ""},
		{"", "127.0.0.1:2181", 2181, "127.0.0.1"},
		{"", "0.0.0.0:2181", 2181, ""},
		{"", "[::1]:2181", 2181, "::1"},
		{"clientPort=2181\n", "2181", 2181, ""},                    // the same, twice
		{"clientPort=2181\n", "127.0.0.1:2181", 2181, "127.0.0.1"}, // a wildcard static address takes the line's
		{"clientPort=2181\nclientPortAddress=127.0.0.1\n", "127.0.0.1:2181", 2181, "127.0.0.1"},
		{"clientPort=2181\nclientPortAddress=127.0.0.1\n", "", 2181, "127.0.0.1"},               // no client in the line: the static one
		{"clientPort=2181\nclientPortAddress=localhost\n", "127.0.0.1:2181", 2181, "127.0.0.1"}, // resolved, as ZooKeeper compares them
	} {
		text := "dataDir=/d\n" + tc.static
		if tc.client != "" {
			text += line(tc.client)
		} else {
			text += "server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\n"
		}
		cfg, _, err := ParseZooCfg(strings.NewReader(text), []byte("1"))
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if cfg.ClientPort != tc.port || cfg.ClientPortAddress != tc.addr {
			t.Errorf("%q: client port %d on %q, want %d on %q", text, cfg.ClientPort, cfg.ClientPortAddress, tc.port, tc.addr)
		}
	}
	// Server 2's line names 2182: server 1 does not take it.
	if cfg, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\nserver.1=h:1:2\nserver.2=h:3:4;2182\n"), []byte("1")); err != nil || cfg.ClientPort != 0 {
		t.Errorf("another server's client port: %d, %v", cfg.ClientPort, err)
	}
	for _, bad := range []string{
		"clientPort=2180\n" + line("2181"),
		"clientPort=2181\nclientPortAddress=127.0.0.2\n" + line("127.0.0.1:2181"),
		"clientPort=2181\nclientPortAddress=localhost\n" + line("127.0.0.2:2181"),
		"clientPort=2181\nclientPortAddress=127.0.0.1\n" + line("2181"), // ZooKeeper: 127.0.0.1:2181 is not 0.0.0.0:2181
		line("x"),
		line("127.0.0.1:99999"),
	} {
		if _, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\n"+bad), []byte("1")); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%q: %v, want ErrInvalidConfig", bad, err)
		}
	}
}

// TestZooCfgStandaloneEnabled: one voting server runs standalone unless
// standaloneEnabled=false, as ZooKeeper's QuorumPeerMain decides; false
// also lets a reconfig leave one participant (StandaloneDisabled).
func TestZooCfgStandaloneEnabled(t *testing.T) {
	for _, tc := range []struct {
		lines   string
		servers int
	}{
		{"server.1=h:1:2;2181\n", 0},
		{"standaloneEnabled=false\nserver.1=h:1:2;2181\n", 1},
		{"standaloneEnabled=FALSE\nserver.1=h:1:2;2181\n", 1},
		{"standaloneEnabled=false\nserver.1=h:1:2;2181\nserver.2=h:3:4:observer\n", 2},
		{"server.1=h:1:2;2181\nserver.2=h:3:4\n", 2},
		{"reconfigEnabled=true\nserver.1=h:1:2;2181\n", 1}, // a quorum of one that reconfig may grow
	} {
		cfg, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\n"+tc.lines), []byte("1"))
		if err != nil {
			t.Fatalf("%q: %v", tc.lines, err)
		}
		if len(cfg.Servers) != tc.servers || cfg.ClientPort != 2181 {
			t.Errorf("%q: %d servers, client port %d; want %d servers and 2181", tc.lines, len(cfg.Servers), cfg.ClientPort, tc.servers)
		}
		if want := strings.Contains(strings.ToLower(tc.lines), "standaloneenabled=false"); cfg.StandaloneDisabled != want {
			t.Errorf("%q: StandaloneDisabled %v", tc.lines, cfg.StandaloneDisabled)
		}
	}
	// What ZooKeeper's parseDynamicConfig refuses.
	for _, bad := range []string{
		"standaloneEnabled=maybe\n",
		"server.1=h:1:2;2181\nserver.2=h:3:4:observer\n", // observers without a quorum
		"server.1=h:1:2:observer;2181\n",                 // without participants
		"clientPortAddress=127.0.0.1\n",                  // and no clientPort
		"clientPort=2181\nserver.2=h:3:4\n",              // removed by a shrink to server 2
	} {
		if _, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\n"+bad), []byte("1")); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%q: %v, want ErrInvalidConfig", bad, err)
		}
	}
}

// TestLoadZooCfgMyID: LoadZooCfg reads the myid file of zoo.cfg's dataDir
// first, so that the server line's client port and the standalone rule see
// the peer's id; an empty myid file is refused, as ZooKeeper refuses it.
func TestLoadZooCfgMyID(t *testing.T) {
	write := func(dir, name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	dir := t.TempDir()
	cfgPath := write(dir, "zoo.cfg", "dataDir="+dir+"\nserver.1=h1:1:2;2181\nserver.2=h2:3:4;2182\nserver.3=h3:5:6;2183\n")
	write(dir, "myid", "2\n")
	cfg, _, err := LoadZooCfg(cfgPath)
	if err != nil || cfg.ID != 2 || cfg.ClientPort != 2182 || len(cfg.Servers) != 3 {
		t.Fatalf("id %d, client port %d, %d servers, %v; want 2, 2182, 3", cfg.ID, cfg.ClientPort, len(cfg.Servers), err)
	}
	write(dir, "myid", " \n")
	if _, _, err := LoadZooCfg(cfgPath); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("an empty myid: %v, want ErrInvalidConfig", err)
	}
	alone := t.TempDir()
	cfg, _, err = LoadZooCfg(write(alone, "zoo.cfg", "dataDir="+alone+"\nclientPort=2181\n"))
	if err != nil || cfg.ID != 0 || cfg.ClientPort != 2181 {
		t.Errorf("no myid: id %d, client port %d, %v", cfg.ID, cfg.ClientPort, err)
	}
}

// TestQuorumAddrIPv6: a server line with a bracketed IPv6 host gives an
// address the TCP transport can listen on and dial ([::1]:2888, not
// ::1:2888).
func TestQuorumAddrIPv6(t *testing.T) {
	cfg, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\nserver.1=[::1]:2888:3888\nserver.2=127.0.0.1:2889:3889\n"), []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Servers[0].QuorumAddr(); got != "[::1]:2888" {
		t.Errorf("IPv6: %q", got)
	}
	if got := cfg.Servers[1].QuorumAddr(); got != "127.0.0.1:2889" {
		t.Errorf("IPv4: %q", got)
	}
}

// TestZooBool: every boolean key of zoo.cfg reads true and false in any
// case (Java's Boolean.parseBoolean) and refuses anything else, which
// ZooKeeper would silently take as false.
func TestZooBool(t *testing.T) {
	for _, line := range []string{"sslQuorum=False", "reconfigEnabled=True", "enforceQuota=FALSE", "readonlymode.enabled=true"} {
		if _, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\nclientPort=2181\n"+line+"\n"), nil); err != nil {
			t.Errorf("%q: %v", line, err)
		}
	}
	for _, line := range []string{"reconfigEnabled=1", "standaloneEnabled=t", "metricsProvider.exportJvmInfo=yes", "enforceQuota=", "sslQuorum=on"} {
		if _, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\nclientPort=2181\n"+line+"\n"), nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%q: %v, want ErrInvalidConfig", line, err)
		}
	}
	cfg, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\nclientPort=2181\nreconfigEnabled=TRUE\n"), nil)
	if err != nil || !cfg.ReconfigEnabled {
		t.Errorf("reconfigEnabled=TRUE: %v %v", cfg.ReconfigEnabled, err)
	}
	// sslQuorum=TRUE turns quorum TLS on: it then needs its stores.
	if _, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\nclientPort=2181\nsslQuorum=TRUE\n"), nil); err == nil || !strings.Contains(err.Error(), "needs ssl.quorum") {
		t.Errorf("sslQuorum=TRUE without stores: %v", err)
	}
}
