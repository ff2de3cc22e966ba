package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseJAAS reads the Server section's DigestLoginModule users, as
// ZooKeeper's DigestLoginModule takes them from a JAAS file, and refuses
// what Java's ConfigFile or zk refuses.
func TestParseJAAS(t *testing.T) {
	text := `
// the Client section is another program's
Client {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    username="bob" password="bobsecret";
};
/* ZooKeeper's server
   section */
Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_super="super secret"
    user_bob=bobsecret
    user_q="a\"b"
    other_option="x";
};`
	got, err := ParseJAAS(text)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"super": "super secret", "bob": "bobsecret", "q": `a"b`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("users (-want +got):\n%s", diff)
	}
	if got, err := ParseJAAS("Client { m required; };"); err != nil || len(got) != 0 {
		t.Fatalf("no Server section: %v, %v; want no users", got, err)
	}
	for name, bad := range map[string]string{
		"kerberos":        "Server { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true; };",
		"bad flag":        "Server { org.apache.zookeeper.server.auth.DigestLoginModule mandatory user_a=\"b\"; };",
		"no semicolon":    "Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_a=\"b\" };",
		"no closing":      "Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_a=\"b\";",
		"open quote":      "Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_a=\"b; };",
		"open comment":    "/* Server {",
		"no value":        "Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_a=; };",
		"section no name": "{ m required; };",
	} {
		if _, err := ParseJAAS(bad); err == nil {
			t.Errorf("%s: accepted %q", name, bad)
		}
	}
	path := filepath.Join(t.TempDir(), "jaas.conf")
	if err := os.WriteFile(path, []byte("Server { x required; };"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadJAAS(path); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "DIGEST-MD5") {
		t.Fatalf("LoadJAAS of a Kerberos-only file: %v", err)
	}
}

// TestZooCfgSASLKeys: superUser sets the SASL super user; an authProvider
// key naming ZooKeeper's SASL provider is known (zk always serves the
// sasl scheme), another is returned as ignored.
func TestZooCfgSASLKeys(t *testing.T) {
	cfg, ignored, err := ParseZooCfg(strings.NewReader(
		"dataDir=/tmp/x\nsuperUser=root\nauthProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\nauthProvider.2=com.example.Other\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SASLSuperUser != "root" {
		t.Fatalf("SASLSuperUser %q, want root", cfg.SASLSuperUser)
	}
	if diff := cmp.Diff([]string{"authProvider.2"}, ignored); diff != "" {
		t.Fatalf("ignored (-want +got):\n%s", diff)
	}
	cfg.SASLUsers = map[string]string{"": "x"}
	if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "SASLUsers") {
		t.Fatalf("a SASL user with no name: %v", err)
	}
}

// TestZooCfgEnforceAuth reads ZooKeeper's enforce.auth keys as its
// AuthenticationHelper does.
func TestZooCfgEnforceAuth(t *testing.T) {
	for text, want := range map[string][]string{
		"enforce.auth.enabled=true\nenforce.auth.schemes=sasl, digest\n":                              {"sasl", "digest"},
		"enforce.auth.enabled=false\nenforce.auth.schemes=sasl\n":                                     nil,
		"sessionRequireClientSASLAuth=true\nenforce.auth.enabled=true\nenforce.auth.schemes=digest\n": {"sasl"},
		"enforce.auth.enabled=TRUE\nenforce.auth.schemes=x509\n":                                      {"x509"},
		"enforce.auth.enabled=yes\nenforce.auth.schemes=x509\n":                                       nil,
	} {
		cfg, ignored, err := ParseZooCfg(strings.NewReader("dataDir=/tmp/x\n"+text), nil)
		if err != nil || len(ignored) > 0 {
			t.Fatalf("%q: %v, ignored %v", text, err, ignored)
		}
		if diff := cmp.Diff(want, cfg.EnforceAuthSchemes); diff != "" {
			t.Errorf("%q (-want +got):\n%s", text, diff)
		}
	}
	for _, bad := range []string{"enforce.auth.enabled=true\n", "enforce.auth.enabled=true\nenforce.auth.schemes=sasl,\n"} {
		if _, _, err := ParseZooCfg(strings.NewReader("dataDir=/tmp/x\n"+bad), nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%q: %v, want ErrInvalidConfig", bad, err)
		}
	}
	cfg := Config{DataDir: "/tmp/x", EnforceAuthSchemes: []string{"kerberos"}}
	if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "EnforceAuthSchemes") {
		t.Fatalf("an unknown scheme: %v", err)
	}
}
