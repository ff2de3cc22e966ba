package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

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
