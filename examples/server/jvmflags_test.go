package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk"
)

// TestJVMFlags: the properties come from JVMFLAGS, then SERVER_JVMFLAGS
// (later wins, as on zkServer.sh's java command line); the JAAS file is
// read; -jaas wins over the property.
func TestJVMFlags(t *testing.T) {
	dir := t.TempDir()
	jaas := filepath.Join(dir, "a.jaas")
	other := filepath.Join(dir, "b.jaas")
	for path, user := range map[string]string{jaas: "alice", other: "bob"} {
		text := "Server {\n org.apache.zookeeper.server.auth.DigestLoginModule required\n user_" + user + "=\"pw\";\n};\n"
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"JVMFLAGS": "-Xmx1g -Dzookeeper.superUser=first -Djava.security.auth.login.config=" + other,
		"SERVER_JVMFLAGS": "-Dzookeeper.superUser=root -Djava.security.auth.login.config=" + jaas + " -Dzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU= -Dnot=used" +
			" -Dzookeeper.enforce.auth.enabled=True -Dzookeeper.enforce.auth.schemes=sasl,x509",
	}
	p := readJVMFlags(func(k string) string { return env[k] })
	var cfg zk.Config
	if err := p.apply(&cfg, ""); err != nil {
		t.Fatal(err)
	}
	if cfg.SASLUsers["alice"] != "pw" || len(cfg.SASLUsers) != 1 || cfg.SASLSuperUser != "root" || cfg.SuperDigest != "super:D/InIHSb7yEEbrWz8b9l71RjZJU=" {
		t.Fatalf("from the flags: users %v, super user %q, super digest %q", cfg.SASLUsers, cfg.SASLSuperUser, cfg.SuperDigest)
	}
	if err := p.apply(&cfg, other); err != nil || cfg.SASLUsers["bob"] != "pw" || len(cfg.SASLUsers) != 1 {
		t.Fatalf("-jaas: users %v, %v", cfg.SASLUsers, err)
	}
	if want := []string{"sasl", "x509"}; !slices.Equal(cfg.EnforceAuthSchemes, want) {
		t.Fatalf("enforced schemes %v, want %v", cfg.EnforceAuthSchemes, want)
	}
	fromCfg := zk.Config{SASLSuperUser: "cfg", SuperDigest: "cfg:x"}
	if err := p.apply(&fromCfg, ""); err != nil || fromCfg.SASLSuperUser != "cfg" || fromCfg.SuperDigest != "cfg:x" {
		t.Fatalf("zoo.cfg's values must win over the flags: %q, %q, %v", fromCfg.SASLSuperUser, fromCfg.SuperDigest, err)
	}
	if err := p.apply(&cfg, filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing JAAS file was accepted")
	}
}

// adminWithFlags parses the zoo.cfg text, then applies the admin
// properties of SERVER_JVMFLAGS=flags to it, as examples/server does.
func adminWithFlags(t *testing.T, flags, text string) zk.Config {
	t.Helper()
	cfg, _, err := zk.ParseZooCfg(strings.NewReader(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := readJVMFlags(func(k string) string { return map[string]string{"SERVER_JVMFLAGS": flags}[k] })
	if err := p.applyAdmin(&cfg, []byte(text)); err != nil {
		t.Fatalf("%s with %q: %v", flags, text, err)
	}
	return cfg
}

// TestJVMFlagsAdmin: the AdminServer's properties apply where zoo.cfg
// does not set the same key, as ZooKeeper's zoo.cfg overrides them.
func TestJVMFlagsAdmin(t *testing.T) {
	for _, tc := range []struct {
		flags, zooCfg string
		port          int
		addr          string
	}{
		{"-Dzookeeper.admin.enableServer=false", "", 0, ""},
		{"-Dzookeeper.admin.enableServer=false", "admin.enableServer=true\n", 8080, "0.0.0.0"},
		{"-Dzookeeper.admin.serverPort=9090 -Dzookeeper.admin.serverAddress=127.0.0.1", "", 9090, "127.0.0.1"},
		{"-Dzookeeper.admin.serverPort=9090 -Dzookeeper.admin.serverAddress=127.0.0.1", "admin.serverPort=9191\n", 9191, "127.0.0.1"},
		{"-Dzookeeper.admin.serverPort=9090", "admin.enableServer=false\n", 0, ""},
		{"-Xmx1g", "admin.serverPort=9191\n", 9191, "0.0.0.0"}, // no admin property: zoo.cfg's as parsed
	} {
		cfg := adminWithFlags(t, tc.flags, "dataDir=/d\nclientPort=2181\n"+tc.zooCfg)
		if cfg.AdminServerPort != tc.port || cfg.AdminServerAddress != tc.addr {
			t.Errorf("%s with %q: port %d on %q, want %d on %q", tc.flags, tc.zooCfg, cfg.AdminServerPort, cfg.AdminServerAddress, tc.port, tc.addr)
		}
	}
	p := readJVMFlags(func(k string) string { return map[string]string{"JVMFLAGS": "-Dzookeeper.admin.serverPort=http"}[k] })
	var cfg zk.Config
	if err := p.applyAdmin(&cfg, nil); err == nil {
		t.Error("a malformed admin.serverPort property accepted")
	}
}

// TestJVMFlagsAdminHTTPS: -Dzookeeper.admin.forceHttps and
// portUnification turn HTTPS on with zoo.cfg's quorum key stores, unless
// zoo.cfg sets the same key.
func TestJVMFlagsAdminHTTPS(t *testing.T) {
	dir, err := filepath.Abs("../../internal/keystore/testdata")
	if err != nil {
		t.Fatal(err)
	}
	stores := fmt.Sprintf("ssl.quorum.keyStore.location=%[1]s/server.jks\nssl.quorum.keyStore.password=zksecret\n"+
		"ssl.quorum.trustStore.location=%[1]s/trust.jks\nssl.quorum.trustStore.password=zksecret\n", dir)
	for _, tc := range []struct {
		flags, zooCfg string
		https, unify  bool
	}{
		{"-Dzookeeper.admin.forceHttps=true", "", true, false},
		{"-Dzookeeper.admin.portUnification=true", "", true, true},
		{"-Dzookeeper.admin.forceHttps=true", "admin.forceHttps=false\n", false, false},
		{"-Dzookeeper.admin.serverPort=9090", "", false, false},
	} {
		cfg := adminWithFlags(t, tc.flags, "dataDir=/d\nclientPort=2181\n"+stores+tc.zooCfg)
		if (cfg.AdminTLS != nil) != tc.https || cfg.AdminPortUnification != tc.unify {
			t.Errorf("%s with %q: AdminTLS %v, AdminPortUnification %v", tc.flags, tc.zooCfg, cfg.AdminTLS != nil, cfg.AdminPortUnification)
		}
		if tc.https && len(cfg.AdminTLS.Certificates) != 1 {
			t.Errorf("%s: AdminTLS without the key store's certificate", tc.flags)
		}
	}
}

// TestJVMFlagsZooKeys: -D properties that are zoo.cfg keys for zk (the
// four-letter words, jute.maxbuffer, read-only mode, snapCount, the
// container sweep, skipACL, maxCnxns, globalOutstandingLimit) apply as
// lines before zoo.cfg's, so zoo.cfg's own win.
func TestJVMFlagsZooKeys(t *testing.T) {
	env := map[string]string{"SERVER_JVMFLAGS": "-Dzookeeper.4lw.commands.whitelist=ruok,mntr -Djute.maxbuffer=2000000 " +
		"-Dreadonlymode.enabled=true -Dzookeeper.snapCount=5000 -Dznode.container.checkIntervalMs=7000 -Dother=1" +
		" -Dzookeeper.skipACL=yes -Dzookeeper.maxCnxns=30 -Dzookeeper.globalOutstandingLimit=300"}
	p := readJVMFlags(func(k string) string { return env[k] })
	dir := t.TempDir()
	path := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(path, []byte("dataDir="+dir+"\nsnapCount=9000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := loadZooCfg(path, p.zooLines)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.FourLetterWords, ",") != "ruok,mntr" || cfg.JuteMaxBuffer != 2000000 || !cfg.ReadOnlyMode ||
		cfg.SnapCount != 9000 || cfg.ContainerCheckInterval != 7*time.Second || !cfg.SkipACL || cfg.MaxCnxns != 30 ||
		cfg.GlobalOutstandingLimit != 300 {
		t.Errorf("words %v, jute.maxbuffer %d, read-only %v, snapCount %d (zoo.cfg's 9000 wins), container check %v, "+
			"skipACL %v, maxCnxns %d, globalOutstandingLimit %d", cfg.FourLetterWords, cfg.JuteMaxBuffer, cfg.ReadOnlyMode,
			cfg.SnapCount, cfg.ContainerCheckInterval, cfg.SkipACL, cfg.MaxCnxns, cfg.GlobalOutstandingLimit)
	}
	if cfg.InitialConfig != "dataDir="+dir+"\nsnapCount=9000\n" {
		t.Errorf("InitialConfig %q, want the file as read", cfg.InitialConfig)
	}
}

// TestJVMFlagsNoKeys: -Dzookeeper.forceSync=no and
// -Dzookeeper.leaderServes=no in SERVER_JVMFLAGS or JVMFLAGS act as the
// zoo.cfg lines of the same keys (only "no", case and all, turns them
// off), and zoo.cfg's own line wins over the flag.
func TestJVMFlagsNoKeys(t *testing.T) {
	for key, set := range map[string]func(zk.Config) bool{
		"forceSync":    func(c zk.Config) bool { return c.NoForceSync },
		"leaderServes": func(c zk.Config) bool { return c.NoLeaderServes },
	} {
		d := "-Dzookeeper." + key
		for _, tc := range []struct {
			env, file string
			off       bool
		}{
			{"", "", false},
			{"SERVER_JVMFLAGS=" + d + "=no", "", true},
			{"JVMFLAGS=" + d + "=no", "", true},
			{"SERVER_JVMFLAGS=" + d + "=NO", "", false},
			{"SERVER_JVMFLAGS=" + d + "=false", "", false},
			{"JVMFLAGS=" + d + "=no", key + "=yes\n", false},
			{"SERVER_JVMFLAGS=" + d + "=yes", key + "=no\n", true},
		} {
			if cfg, _ := cfgWithFlags(t, tc.env, tc.file); set(cfg) != tc.off {
				t.Errorf("%s, zoo.cfg %q: %s turned off %v, want %v", tc.env, tc.file, key, set(cfg), tc.off)
			}
		}
	}
}

// cfgWithFlags loads a zoo.cfg holding dataDir and the lines of file, with
// the environment variable env ("SERVER_JVMFLAGS=-D..."; "" for none),
// and returns the Config and the keys it did not use.
func cfgWithFlags(t *testing.T, env, file string) (zk.Config, []string) {
	t.Helper()
	name, flags, _ := strings.Cut(env, "=")
	p := readJVMFlags(func(k string) string {
		if k == name {
			return flags
		}
		return ""
	})
	dir := t.TempDir()
	path := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(path, []byte("dataDir="+dir+"\n"+file), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, ignored, err := loadZooCfg(path, p.zooLines)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, ignored
}

// TestJVMFlagsDigest: -Dzookeeper.DigestAuthenticationProvider.digestAlg
// and .enabled in SERVER_JVMFLAGS or JVMFLAGS act as the zoo.cfg lines of
// the same keys, which zoo.cfg's own lines win over; neither is then a key
// zk does not use. A hash zk lacks fails the start, naming the property.
func TestJVMFlagsDigest(t *testing.T) {
	const d = "-Dzookeeper.DigestAuthenticationProvider."
	for _, tc := range []struct {
		env, file, alg string
		off            bool
	}{
		{"", "", "", false},
		{"SERVER_JVMFLAGS=" + d + "digestAlg=SHA-256", "", "SHA-256", false},
		{"JVMFLAGS=" + d + "enabled=false " + d + "digestAlg=sha3-256", "", "sha3-256", true},
		{"SERVER_JVMFLAGS=" + d + "enabled=False", "", "", true},
		{"SERVER_JVMFLAGS=" + d + "enabled=TRUE", "", "", false},
		{"SERVER_JVMFLAGS=" + d + "enabled=false", "DigestAuthenticationProvider.enabled=true\n", "", false},
		{"JVMFLAGS=" + d + "digestAlg=SHA-256", "DigestAuthenticationProvider.digestAlg=MD5\n", "MD5", false},
	} {
		cfg, ignored := cfgWithFlags(t, tc.env, tc.file)
		if cfg.DigestAlg != tc.alg || cfg.NoDigestAuth != tc.off || len(ignored) != 0 {
			t.Errorf("%s, zoo.cfg %q: DigestAlg %q, NoDigestAuth %v, unused %v; want %q, %v",
				tc.env, tc.file, cfg.DigestAlg, cfg.NoDigestAuth, ignored, tc.alg, tc.off)
		}
	}
	p := readJVMFlags(func(k string) string {
		if k == "SERVER_JVMFLAGS" {
			return d + "digestAlg=SHA-257"
		}
		return ""
	})
	dir := t.TempDir()
	path := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(path, []byte("dataDir="+dir+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadZooCfg(path, p.zooLines); err == nil || !strings.Contains(err.Error(), "DigestAuthenticationProvider.digestAlg=SHA-257") {
		t.Errorf("a digestAlg zk lacks: %v, want an error naming it", err)
	}
}
