package engine

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/embedzk/zk/znode"
)

// mustDigest is DigestAuthWith, failing the test on an error.
func mustDigest(t *testing.T, alg, user, password string) string {
	t.Helper()
	id, err := DigestAuthWith(alg, user, password)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestDigestAlgSHA256: with DigestAlg SHA-256, as ZooKeeper with
// zookeeper.DigestAuthenticationProvider.digestAlg=SHA-256, an addauth
// digest identity is "user:" + base64(sha256(credential)): it opens a
// digest ACL of that id, a wrong password does not, the SHA-1 id of the
// right password does not either, "auth" ACLs expand to it, and the super
// digest is a SHA-256 one.
func TestDigestAlgSHA256(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 1)
	cfg.DigestAlg = "sha-256"
	cfg.SuperDigest = mustDigest(t, "SHA256", "super", "secret")
	e := openTest(t, cfg)
	t.Cleanup(func() { e.Close() })
	ctx := testCtx(t)
	alice := mustDigest(t, "SHA-256", "alice", "pw")
	if alice != "alice:"+"uoe2aAb9LQtvXhepi1lfNPruBxd4qoF/snHQYhTtJPk=" { // Java's MessageDigest SHA-256
		t.Fatalf("DigestAuthWith(SHA-256) = %q", alice)
	}
	owner := newSession(t, e)
	mustCreate(t, owner, "/a", "x", WithACL(ACL{Perms: PermRead, Scheme: "digest", ID: alice}))
	mustCreate(t, owner, "/sha1", "x", WithACL(DigestACL(PermRead, "alice", "pw")))
	for _, c := range []struct {
		auth string
		a    error // reading /a
		sha1 error // reading /sha1
	}{
		{"", ErrNoAuth, ErrNoAuth},
		{"alice:wrong", ErrNoAuth, ErrNoAuth},
		{"alice:pw", nil, ErrNoAuth},
		{"super:secret", nil, nil},
	} {
		s := newSession(t, e)
		if c.auth != "" {
			if err := s.AddAuth(ctx, "digest", []byte(c.auth)); err != nil {
				t.Fatalf("AddAuth %q: %v", c.auth, err)
			}
		}
		if _, _, err := s.Get(ctx, "/a"); !errors.Is(err, c.a) || (c.a == nil) != (err == nil) {
			t.Errorf("%q: Get /a: %v, want %v", c.auth, err, c.a)
		}
		if _, _, err := s.Get(ctx, "/sha1"); !errors.Is(err, c.sha1) || (c.sha1 == nil) != (err == nil) {
			t.Errorf("%q: Get /sha1: %v, want %v", c.auth, err, c.sha1)
		}
	}
	s := newSession(t, e)
	if err := s.AddAuth(ctx, "digest", []byte("alice:pw")); err != nil {
		t.Fatal(err)
	}
	if ids := s.Identities(); !slices.Contains(ids, Identity{Scheme: "digest", ID: alice}) {
		t.Errorf("Identities %+v, want the SHA-256 id %s", ids, alice)
	}
	mustCreate(t, s, "/mine", "", WithACL(CreatorAllACL()...))
	if acl, _, err := s.GetACL(ctx, "/mine"); err != nil || len(acl) != 1 || acl[0].ID != alice {
		t.Errorf("GetACL of a CREATOR_ALL_ACL node: %+v, %v; want %s", acl, err, alice)
	}
}

// TestNoDigestAuth: with NoDigestAuth, as ZooKeeper with
// zookeeper.DigestAuthenticationProvider.enabled=false (no digest provider
// registered): addauth digest fails with AUTHFAILED, even the super
// digest's; an ACL with a digest entry is an invalid ACL for a create (even
// under a missing parent: fixupACL comes first) and a setACL (even of a
// missing node), and a multi fails at its op; CREATOR_ALL_ACL has no
// identity to expand to. Other schemes are untouched.
func TestNoDigestAuth(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 1)
	cfg.NoDigestAuth = true
	cfg.SuperDigest = DigestAuth("super", "secret")
	e := openTest(t, cfg)
	t.Cleanup(func() { e.Close() })
	ctx := testCtx(t)
	s := newSession(t, e, WithClientAddr("10.0.0.7"))
	for _, auth := range []string{"alice:pw", "super:secret"} {
		if err := s.AddAuth(ctx, "digest", []byte(auth)); !errors.Is(err, ErrAuthFailed) {
			t.Errorf("AddAuth digest %q: %v, want ErrAuthFailed", auth, err)
		}
	}
	if ids := s.Identities(); len(ids) != 1 || ids[0].Scheme != "ip" {
		t.Errorf("Identities %+v, want the ip one alone", ids)
	}
	digest := DigestACL(PermAll, "alice", "pw")
	for _, path := range []string{"/a", "/no/parent"} {
		if _, err := s.Create(ctx, path, nil, WithACL(digest)); !errors.Is(err, ErrInvalidACL) {
			t.Errorf("Create %s with a digest ACL: %v, want ErrInvalidACL", path, err)
		}
	}
	if _, err := s.Create(ctx, "/a", nil, WithACL(CreatorAllACL()...)); !errors.Is(err, ErrInvalidACL) {
		t.Errorf("Create with CREATOR_ALL_ACL: %v, want ErrInvalidACL", err)
	}
	mustCreate(t, s, "/a", "", WithACL(ACL{Perms: PermAll, Scheme: "ip", ID: "10.0.0.0/8"}))
	for _, path := range []string{"/a", "/none"} {
		if _, err := s.SetACL(ctx, path, []ACL{digest}, -1); !errors.Is(err, ErrInvalidACL) {
			t.Errorf("SetACL %s to a digest ACL: %v, want ErrInvalidACL", path, err)
		}
	}
	res, err := s.Multi(ctx, CreateOp("/b", nil), CreateOp("/c", nil, WithACL(digest)))
	if !errors.Is(err, ErrInvalidACL) || len(res) != 2 || !errors.Is(res[1].Err, ErrInvalidACL) {
		t.Errorf("Multi with a digest ACL at op 1: %+v, %v; want ErrInvalidACL there", res, err)
	}
	if _, _, err := s.Get(ctx, "/a"); err != nil {
		t.Errorf("Get of an ip ACL node: %v", err)
	}
}

// TestDigestConfigRefused: an unknown DigestAlg (as ZooKeeper's static
// initializer refuses it), a super digest of another hash than DigestAlg's,
// and "digest" enforced with NoDigestAuth (as AuthenticationHelper refuses
// a scheme with no provider) fail NewEnsemble naming the field, and leave
// no data directory behind.
func TestDigestConfigRefused(t *testing.T) {
	for _, c := range []struct {
		name  string
		set   func(*Config)
		field string
	}{
		{"unknown", func(c *Config) { c.DigestAlg = "SHA-257" }, "DigestAlg"},
		{"MD2", func(c *Config) { c.DigestAlg = "MD2" }, "DigestAlg"},
		{"spaces", func(c *Config) { c.DigestAlg = " SHA1" }, "DigestAlg"},
		{"SHA-1 super digest", func(c *Config) { c.DigestAlg, c.SuperDigest = "SHA-256", DigestAuth("super", "x") }, "SuperDigest"},
		{"enforced", func(c *Config) { c.NoDigestAuth, c.EnforceAuthSchemes = true, []string{"sasl", "digest"} }, "EnforceAuthSchemes"},
	} {
		fs := vfs.NewMem()
		cfg := testConfig(fs, 1)
		c.set(&cfg)
		_, err := NewEnsemble(cfg)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), ": "+c.field+": ") {
			t.Errorf("%s: NewEnsemble: %v, want ErrInvalidConfig naming %s", c.name, err, c.field)
		}
		if names, _ := fs.List("/"); slices.Contains(names, "zk") {
			t.Errorf("%s: the refused start left %v", c.name, names)
		}
	}
	if _, err := DigestAuthWith("SHA-257", "a", "b"); !errors.Is(err, ErrBadArguments) {
		t.Errorf("DigestAuthWith(SHA-257): %v, want ErrBadArguments", err)
	}
	if id, err := DigestAuthWith("", "a", "b"); err != nil || id != znode.DigestID("a", "b") {
		t.Errorf("DigestAuthWith(\"\") = %q, %v; want the SHA-1 id", id, err)
	}
	ok := Config{DataDir: "d", DigestAlg: "SHA3-256", SuperDigest: mustDigest(t, "SHA3-256", "super", "x"), EnforceAuthSchemes: []string{"digest"}}
	if err := ok.Validate(); err != nil {
		t.Errorf("a SHA3-256 super digest with DigestAlg SHA3-256: %v", err)
	}
}

// TestZooCfgDigestKeys: zoo.cfg's DigestAuthenticationProvider.digestAlg
// and .enabled, which ZooKeeper passes on as the system properties
// zookeeper.DigestAuthenticationProvider.*, set DigestAlg and NoDigestAuth
// and are not returned as ignored; enabled is read as Java's
// Boolean.parseBoolean (only "true", in any case, is true); a digestAlg
// Java's MessageDigest (or zk) lacks, even empty, is an error.
func TestZooCfgDigestKeys(t *testing.T) {
	for _, c := range []struct {
		text, alg string
		off       bool
	}{
		{"tickTime=2000\n", "", false},
		{"DigestAuthenticationProvider.digestAlg=SHA-256\n", "SHA-256", false},
		{"DigestAuthenticationProvider.digestAlg = sha3-512 \n", "sha3-512", false},
		{"DigestAuthenticationProvider.enabled=false\n", "", true},
		{"DigestAuthenticationProvider.enabled=no\n", "", true},
		{"DigestAuthenticationProvider.enabled=TRUE\n", "", false},
		{"DigestAuthenticationProvider.enabled=true\nDigestAuthenticationProvider.digestAlg=MD5\n", "MD5", false},
	} {
		cfg, ignored, err := ParseZooCfg(strings.NewReader(c.text), nil)
		if err != nil || len(ignored) != 0 || cfg.DigestAlg != c.alg || cfg.NoDigestAuth != c.off {
			t.Errorf("%q: DigestAlg %q, NoDigestAuth %v, ignored %v, %v; want %q, %v", c.text, cfg.DigestAlg, cfg.NoDigestAuth, ignored, err, c.alg, c.off)
		}
	}
	for _, bad := range []string{"DigestAuthenticationProvider.digestAlg=SHA-257\n", "DigestAuthenticationProvider.digestAlg=\n", "DigestAuthenticationProvider.digestAlg=MD2\n"} {
		_, _, err := ParseZooCfg(strings.NewReader(bad), nil)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "DigestAuthenticationProvider.digestAlg") {
			t.Errorf("%q: %v, want ErrInvalidConfig naming the key", bad, err)
		}
	}
}
