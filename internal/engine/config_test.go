package engine

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{DataDir: "/d"}.withDefaults()
	if c.ID != 1 || c.TickTime != 2*time.Second || c.InitLimit != 10 || c.SyncLimit != 5 {
		t.Fatalf("defaults: %+v", c)
	}
	if c.MinSessionTimeout != 4*time.Second || c.MaxSessionTimeout != 40*time.Second {
		t.Fatalf("session timeouts: %v %v", c.MinSessionTimeout, c.MaxSessionTimeout)
	}
	if c.DataLogDir != "/d/log" || c.SnapRetainCount != 3 || c.JuteMaxBuffer != 1<<20-1 || c.FS == nil {
		t.Fatalf("defaults: %+v", c)
	}
	if err := (Config{DataDir: "/d"}).Validate(); err != nil {
		t.Fatalf("a data dir alone must be valid: %v", err)
	}
}

func TestConfigValidateNamesTheField(t *testing.T) {
	three := []Server{
		{ID: 1, Host: "127.0.0.1", QuorumPort: 2888, ElectionPort: 3888},
		{ID: 2, Host: "127.0.0.1", QuorumPort: 2889, ElectionPort: 3889},
		{ID: 3, Host: "127.0.0.1", QuorumPort: 2890, ElectionPort: 3890},
	}
	secret := []byte("0123456789abcdef")
	cases := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"no data dir", Config{}, "DataDir"},
		{"id out of range", Config{DataDir: "d", ID: 255}, "ID"},
		{"tiny tick", Config{DataDir: "d", TickTime: time.Millisecond}, "TickTime"},
		{"negative init limit", Config{DataDir: "d", InitLimit: -1}, "InitLimit"},
		{"max below min", Config{DataDir: "d", MinSessionTimeout: time.Minute, MaxSessionTimeout: time.Second}, "MaxSessionTimeout"},
		{"retain < 3", Config{DataDir: "d", SnapRetainCount: 2}, "SnapRetainCount"},
		{"snap count", Config{DataDir: "d", SnapCount: 1}, "SnapCount"},
		{"request size", Config{DataDir: "d", JuteMaxBuffer: -1}, "JuteMaxBuffer"},
		{"request size over the ceiling", Config{DataDir: "d", JuteMaxBuffer: MaxJuteMaxBuffer + 1}, "JuteMaxBuffer"},
		{"super digest", Config{DataDir: "d", SuperDigest: "nocolon"}, "SuperDigest"},
		{"id missing", Config{DataDir: "d", ID: 4, Servers: three, PeerSecret: secret}, "ID"},
		{"duplicate id", Config{DataDir: "d", ID: 1, PeerSecret: secret, Servers: append(three[:2:2], Server{ID: 2, Host: "h", QuorumPort: 1})}, "Servers[2]"},
		{"duplicate address", Config{DataDir: "d", ID: 1, PeerSecret: secret, Servers: append(three[:2:2], Server{ID: 3, Host: "127.0.0.1", QuorumPort: 2888})}, "Servers[2]"},
		{"no voters", Config{DataDir: "d", ID: 1, PeerSecret: secret, Servers: []Server{{ID: 1, Host: "h", QuorumPort: 1, Observer: true}}}, "Servers"},
		{"no auth", Config{DataDir: "d", ID: 1, Servers: three}, "PeerSecret"},
		{"bad port", Config{DataDir: "d", ID: 1, PeerSecret: secret, Servers: []Server{{ID: 1, Host: "h", QuorumPort: 70000}}}, "Servers[0]"},
		{"short secret", Config{DataDir: "d", ID: 1, PeerSecret: []byte("short"), Servers: three}, "PeerSecret"},
		{"negative block cache", Config{DataDir: "d", TreeCacheSize: -1}, "TreeCacheSize"},
		{"negative memtable", Config{DataDir: "d", TreeMemTableSize: -1}, "TreeMemTableSize"},
		{"tiny memtable", Config{DataDir: "d", TreeMemTableSize: 4096}, "TreeMemTableSize"},
	}
	for _, tc := range cases {
		err := tc.cfg.Validate()
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: got %v, want ErrInvalidConfig", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), ": "+tc.field+": ") {
			t.Errorf("%s: %q does not name field %s", tc.name, err, tc.field)
		}
	}
	ok := Config{DataDir: "d", ID: 2, Servers: three, PeerSecret: secret}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid replicated config rejected: %v", err)
	}
}

func TestParseZooCfg(t *testing.T) {
	cfg := `
# a typical zoo.cfg
tickTime=2000
initLimit=10
syncLimit=5
dataDir=/var/lib/zookeeper
dataLogDir=/var/log/zookeeper
clientPort=2181
maxClientCnxns=60
minSessionTimeout=4000
maxSessionTimeout=40000
autopurge.snapRetainCount=5
autopurge.purgeInterval=24
snapCount=50000
preAllocSize=16384
admin.enableServer=false
admin.httpVersion=11
server.1=zk1.example.com:2888:3888
server.2=zk2.example.com:2888:3888;2181
server.3=[::1]:2888:3888:participant
server.4=zk4.example.com:2888:3888:observer
`
	got, ignored, err := ParseZooCfg(strings.NewReader(cfg), []byte("2\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ID: 2, TickTime: 2 * time.Second, InitLimit: 10, SyncLimit: 5,
		DataDir: "/var/lib/zookeeper", DataLogDir: "/var/log/zookeeper",
		MaxClientCnxns: 60, MinSessionTimeout: 4 * time.Second, MaxSessionTimeout: 40 * time.Second,
		SnapRetainCount: 5, PurgeInterval: 24 * time.Hour, SnapCount: 50000, ClientPort: 2181,
		PreAllocSize: 16 << 20,
		Servers: []Server{
			{ID: 1, Host: "zk1.example.com", QuorumPort: 2888, ElectionPort: 3888},
			{ID: 2, Host: "zk2.example.com", QuorumPort: 2888, ElectionPort: 3888, ClientAddr: "2181"},
			{ID: 3, Host: "::1", QuorumPort: 2888, ElectionPort: 3888},
			{ID: 4, Host: "zk4.example.com", QuorumPort: 2888, ElectionPort: 3888, Observer: true},
		},
	}
	if got.InitialConfig != cfg {
		t.Fatalf("InitialConfig %q, want the text read", got.InitialConfig)
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Config{}), cmpopts.IgnoreFields(Config{}, "Listener", "InitialConfig")); diff != "" {
		t.Fatalf("parsed config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"admin.httpVersion"}, ignored); diff != "" {
		t.Fatalf("ignored keys (-want +got):\n%s", diff)
	}
}

func TestParseZooCfgErrors(t *testing.T) {
	for _, bad := range []string{
		"tickTime=fast",
		`clientPort=\u12`, // a malformed escape
		"server.x=h:1:2",
		"server.1=h:1",
		"server.1=h:1:2:leader",
		"server.1=[::1:1:2",
		"minSessionTimeout=-5",
		"preAllocSize=64M",
	} {
		if _, _, err := ParseZooCfg(strings.NewReader(bad), nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%q: got %v, want ErrInvalidConfig", bad, err)
		}
	}
	if _, _, err := ParseZooCfg(strings.NewReader("tickTime=2000"), []byte("two")); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("bad myid: got %v", err)
	}
	cfg, _, err := ParseZooCfg(strings.NewReader("autopurge.purgeInterval=0"), nil)
	if err != nil || cfg.PurgeInterval >= 0 {
		t.Errorf("purgeInterval=0 must disable purging: %v %v", cfg.PurgeInterval, err)
	}
	cfg, _, err = ParseZooCfg(strings.NewReader("preAllocSize=0"), nil)
	if err != nil || cfg.PreAllocSize >= 0 {
		t.Errorf("preAllocSize=0 must turn padding off: %v %v", cfg.PreAllocSize, err)
	}
}

// TestZooCfgJavaProperties: zoo.cfg is read with java.util.Properties'
// rules, as ZooKeeper reads it: blank or ':' separators, '!' comments,
// continued lines, escapes, and a key given twice takes its last value
// (also a server or group line); a bare word is a key with no value,
// which zk, as ZooKeeper, does not use.
func TestZooCfgJavaProperties(t *testing.T) {
	text := "tickTime 2500\n! a comment\n  clientPort:2181\n4lw.commands.whitelist=ruok,\\\n    stat, mntr\n" +
		"initLimit = 5\ninitLimit=7\ndataDir=/var/zk\\\\data\nsyncLimit\\u003d3=4\nbareword\n" +
		"dataLogDir=\\\n\\\n#log\rautopurge.snapRetainCount=5\r\n"
	cfg, ignored, err := ParseZooCfg(strings.NewReader(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TickTime != 2500*time.Millisecond || cfg.ClientPort != 2181 || cfg.InitLimit != 7 || cfg.DataDir != `/var/zk\data` {
		t.Errorf("tickTime %v, clientPort %d, initLimit %d, dataDir %q", cfg.TickTime, cfg.ClientPort, cfg.InitLimit, cfg.DataDir)
	}
	if got := strings.Join(cfg.FourLetterWords, ","); got != "ruok,stat,mntr" {
		t.Errorf("whitelist %q, want ruok,stat,mntr", got)
	}
	if cfg.SnapRetainCount != 5 || cfg.DataLogDir != "#log" {
		t.Errorf("snapRetainCount %d after a line ended by a lone CR; dataLogDir %q, want #log (a continued line is no comment)",
			cfg.SnapRetainCount, cfg.DataLogDir)
	}
	if !slices.Contains(ignored, "bareword") || !slices.Contains(ignored, "syncLimit=3") {
		t.Errorf("ignored %q, want bareword and the escaped key syncLimit=3", ignored)
	}
	three := "server.1=h1:1:2\nserver.2=h2:1:2\nserver.3=h3:1:2\nserver.2=h9:1:2\n"
	if cfg, _, err = ParseZooCfg(strings.NewReader(three), []byte("1")); err != nil || len(cfg.Servers) != 3 || cfg.Servers[1].Host != "h9" {
		t.Errorf("a server line given twice: %+v, %v; want the last one", cfg.Servers, err)
	}
}

// TestZooCfgValuesAsZooKeeper: values ZooKeeper 3.8 corrects rather than
// refuses start the peer with ZooKeeper's value: a snapshot retain count
// below 3 is 3, a snapCount below 2 is 2, a session timeout bound of -1 is
// the default, a negative maxClientCnxns is no limit, and a server line's
// role is read in any case.
func TestZooCfgValuesAsZooKeeper(t *testing.T) {
	text := "autopurge.snapRetainCount=1\nsnapCount=1\nminSessionTimeout=-1\nmaxSessionTimeout=-1\nmaxClientCnxns=-1\n" +
		"server.1=h1:1:2\nserver.2=h2:1:2:PARTICIPANT\nserver.3=h3:1:2:Observer\nserver.4=h4:1:2\n"
	cfg, _, err := ParseZooCfg(strings.NewReader(text), []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SnapRetainCount != 3 || cfg.SnapCount != 2 || cfg.MinSessionTimeout != 0 || cfg.MaxSessionTimeout != 0 || cfg.MaxClientCnxns != 0 {
		t.Errorf("snapRetainCount %d snapCount %d session timeouts %v %v maxClientCnxns %d",
			cfg.SnapRetainCount, cfg.SnapCount, cfg.MinSessionTimeout, cfg.MaxSessionTimeout, cfg.MaxClientCnxns)
	}
	if len(cfg.Servers) != 4 || cfg.Servers[1].Observer || !cfg.Servers[2].Observer {
		t.Errorf("roles: %+v", cfg.Servers)
	}
}

// TestZooCfgMaxClientCnxnsDefault: ZooKeeper limits a client IP to 60
// connections unless zoo.cfg says otherwise, and maxClientCnxns=0 lifts
// the limit; a Config's zero value has no limit.
func TestZooCfgMaxClientCnxnsDefault(t *testing.T) {
	for text, want := range map[string]int{"tickTime=2000\n": 60, "maxClientCnxns=0\n": 0, "maxClientCnxns=7\n": 7} {
		cfg, _, err := ParseZooCfg(strings.NewReader(text), nil)
		if err != nil || cfg.MaxClientCnxns != want {
			t.Errorf("%q: MaxClientCnxns %d, %v; want %d", text, cfg.MaxClientCnxns, err, want)
		}
	}
	if (Config{}).withDefaults().MaxClientCnxns != 0 {
		t.Error("a Config's zero MaxClientCnxns got a limit")
	}
}

// TestZooCfgSystemPropertyKeys: maxCnxns, globalOutstandingLimit and
// skipACL, which ZooKeeper takes from zoo.cfg as system properties: a
// negative maxCnxns is no limit, a globalOutstandingLimit below 1 is 1
// (ZooKeeper's 0 throttles a connection as soon as anything is in
// flight, as 1 does), and only skipACL=yes turns the checks off, as
// ZooKeeper compares the property with "yes".
func TestZooCfgSystemPropertyKeys(t *testing.T) {
	for _, tc := range []struct {
		text          string
		cnxns, global int
		skip          bool
	}{
		{"tickTime=2000\n", 0, 0, false},
		{"maxCnxns=5\nglobalOutstandingLimit=200\nskipACL=yes\n", 5, 200, true},
		{"maxCnxns=-3\nglobalOutstandingLimit=0\nskipACL=true\n", 0, 1, false},
		{"skipACL=YES\n", 0, 0, false},
	} {
		cfg, ignored, err := ParseZooCfg(strings.NewReader(tc.text), nil)
		if err != nil || len(ignored) != 0 || cfg.MaxCnxns != tc.cnxns || cfg.GlobalOutstandingLimit != tc.global || cfg.SkipACL != tc.skip {
			t.Errorf("%q: MaxCnxns %d GlobalOutstandingLimit %d SkipACL %v, ignored %v, %v; want %d %d %v",
				tc.text, cfg.MaxCnxns, cfg.GlobalOutstandingLimit, cfg.SkipACL, ignored, err, tc.cnxns, tc.global, tc.skip)
		}
	}
	if _, _, err := ParseZooCfg(strings.NewReader("maxCnxns=many\n"), nil); err == nil {
		t.Error("maxCnxns=many was accepted")
	}
	for _, c := range []Config{{MaxCnxns: -1}, {GlobalOutstandingLimit: -1}} {
		c.ID, c.DataDir = 1, "/d"
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: Validate %v", c, err)
		}
	}
}

// TestZooCfgForceSync: forceSync, which ZooKeeper takes from zoo.cfg as
// the system property zookeeper.forceSync and turns off only when it
// equals "no" (case and all), sets NoForceSync; absent, or any other
// value, keeps ZooKeeper's default (sync).
func TestZooCfgForceSync(t *testing.T) {
	for _, tc := range []struct {
		text   string
		noSync bool
	}{
		{"tickTime=2000\n", false},
		{"forceSync=no\n", true},
		{"forceSync = no \n", true},
		{"forceSync=yes\n", false},
		{"forceSync=NO\n", false},
		{"forceSync=false\n", false},
		{"forceSync=no\nforceSync=yes\n", false}, // the last value counts
	} {
		cfg, ignored, err := ParseZooCfg(strings.NewReader(tc.text), nil)
		if err != nil || len(ignored) != 0 || cfg.NoForceSync != tc.noSync {
			t.Errorf("%q: NoForceSync %v, ignored %v, %v; want %v", tc.text, cfg.NoForceSync, ignored, err, tc.noSync)
		}
	}
}

// TestZooCfgLeaderServes: leaderServes, which ZooKeeper takes from zoo.cfg
// as the system property zookeeper.leaderServes and turns off only when it
// equals "no" (case and all), sets NoLeaderServes; absent, or any other
// value, keeps ZooKeeper's default (the leader serves).
func TestZooCfgLeaderServes(t *testing.T) {
	for _, tc := range []struct {
		text      string
		noServing bool
	}{
		{"tickTime=2000\n", false},
		{"leaderServes=no\n", true},
		{"leaderServes:no\n", true},
		{"leaderServes=yes\n", false},
		{"leaderServes=No\n", false},
		{"leaderServes=0\n", false},
		{"leaderServes=yes\nleaderServes=no\n", true}, // the last value counts
	} {
		cfg, ignored, err := ParseZooCfg(strings.NewReader(tc.text), nil)
		if err != nil || len(ignored) != 0 || cfg.NoLeaderServes != tc.noServing {
			t.Errorf("%q: NoLeaderServes %v, ignored %v, %v; want %v", tc.text, cfg.NoLeaderServes, ignored, err, tc.noServing)
		}
	}
}
