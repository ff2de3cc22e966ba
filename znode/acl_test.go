package znode

import (
	"errors"
	"fmt"
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/google/go-cmp/cmp"
)

func TestDigestIDMatchesZooKeeper(t *testing.T) {
	// Values from ZooKeeper's DigestAuthenticationProvider.generateDigest.
	for _, c := range []struct{ user, pw, want string }{
		{"super", "test", "super:D/InIHSb7yEEbrWz8b9l71RjZJU="},
		{"alice", "secret", "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="},
		{"a", "b:c", "a:cLzgnoJ6mP5qz3w+mwvPE2vDgu0="},
		{"a:b", "c", "a:cLzgnoJ6mP5qz3w+mwvPE2vDgu0="},
	} {
		if got := DigestID(c.user, c.pw); got != c.want {
			t.Errorf("DigestID(%q, %q) = %q, want %q", c.user, c.pw, got, c.want)
		}
	}
}

func TestCheckACL(t *testing.T) {
	alice := Identity{SchemeDigest, DigestID("alice", "pw")}
	bob := Identity{SchemeDigest, DigestID("bob", "pw")}
	local := Identity{SchemeIP, "10.1.2.3"}
	acl := []ACL{
		{PermRead, SchemeWorld, IDAnyone},
		{PermWrite | PermDelete, SchemeDigest, alice.ID},
		{PermCreate, SchemeIP, "10.1.0.0/16"},
		{PermWrite, SchemeSASL, "carol"},
		{PermDelete, SchemeX509, "CN=bob,O=zk-test"},
	}
	for _, c := range []struct {
		perm Perm
		ids  []Identity
		want bool
	}{
		{PermRead, nil, true},
		{PermWrite, nil, false},
		{PermWrite, []Identity{alice}, true},
		{PermDelete, []Identity{bob, alice}, true},
		{PermWrite, []Identity{bob}, false},
		{PermAdmin, []Identity{alice}, false},
		{PermCreate, []Identity{local}, true},
		{PermCreate, []Identity{{SchemeIP, "10.2.0.1"}}, false},
		{PermCreate, []Identity{{SchemeDigest, "10.1.2.3"}}, false},
		{PermAdmin, []Identity{{SchemeSuper, ""}}, true},
		{PermWrite, []Identity{{SchemeSASL, "carol"}}, true},
		{PermWrite, []Identity{{SchemeSASL, "dave"}}, false},
		{PermWrite, []Identity{{SchemeDigest, "carol"}}, false},
		// SASLAuthenticationProvider.matches: the SASL user "super" matches
		// every sasl entry, and no other scheme's.
		{PermWrite, []Identity{{SchemeSASL, "super"}}, true},
		{PermAdmin, []Identity{{SchemeSASL, "super"}}, false},
		{PermDelete, []Identity{{SchemeX509, "CN=bob,O=zk-test"}}, true},
		{PermDelete, []Identity{{SchemeX509, "CN=bob,O=other"}}, false},
		{PermWrite, []Identity{{SchemeX509, "carol"}}, false},
	} {
		if got := CheckACL(acl, c.perm, c.ids); got != c.want {
			t.Errorf("CheckACL(%v, %v) = %v, want %v", c.perm, c.ids, got, c.want)
		}
	}
	if !CheckACL(nil, PermAdmin, nil) {
		t.Error("an empty ACL must allow everything, as in ZooKeeper")
	}
}

func TestIPMatches(t *testing.T) {
	for _, c := range []struct {
		id, expr string
		want     bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.2", "127.0.0.1", false},
		{"127.0.0.2", "127.0.0.1/31", false},
		{"127.0.0.1", "127.0.0.0/31", true},
		{"192.168.5.77", "192.168.0.0/16", true},
		{"192.169.5.77", "192.168.0.0/16", false},
		{"1.2.3.4", "0.0.0.0/0", true},
		{"1.2.3.4", "1.2.3.4/33", false},
		{"1.2.3.4", "1.2.3.4/", false},
		{"1.2.3", "1.2.3.0/24", false},
		{"256.1.1.1", "0.0.0.0/0", false},
		{"::1", "::1", true},
		{"0:0:0:0:0:0:0:1", "::1", true},
		{"fe80::1:2", "fe80::/16", true},
		{"fe81::1", "fe80::/16", false},
		{"2001:db8::1", "2001:db8::/32", true},
		{"1.2.3.4", "::/0", false}, // address families differ
		{"1:2:3:4:5:6:7:8:9", "::/0", false},
		{"1::2::3", "::/0", false},
		{"12345::", "::/0", false},
		{"g::", "::/0", false},
		{"1:2:3:4:5:6:7::", "::/0", true},   // seven segments and "::" is fine
		{"1:2:3:4::5:6:7:8", "::/0", false}, // eight and "::" is not
	} {
		if got := ipMatches(c.id, c.expr); got != c.want {
			t.Errorf("ipMatches(%q, %q) = %v, want %v", c.id, c.expr, got, c.want)
		}
	}
}

// TestExpandACL states the first half of PrepRequestProcessor.fixupACL:
// duplicates go, "auth" becomes one entry per digest or sasl identity, and
// nothing fails here (an "auth" with no such identity stays, for
// validateACL).
func TestExpandACL(t *testing.T) {
	alice := Identity{SchemeDigest, DigestID("alice", "pw")}
	bob := Identity{SchemeDigest, DigestID("bob", "pw")}
	carol := Identity{SchemeSASL, "carol"}
	dave := Identity{SchemeX509, "CN=dave"}
	ids := []Identity{{SchemeIP, "127.0.0.1"}, alice, {SchemeSuper, ""}, carol, dave, bob}
	got := ExpandACL([]ACL{
		{PermAll, SchemeWorld, IDAnyone},
		{PermAll, SchemeWorld, IDAnyone},
		{PermRead, SchemeAuth, "ignored"},
		{PermWrite, SchemeIP, "10.0.0.0/8"},
		{PermAdmin, SchemeDigest, "bob:xyz="},
		{PermAll, SchemeWorld, "someone"}, // invalid, but not refused here
	}, ids)
	want := []ACL{
		{PermAll, SchemeWorld, IDAnyone},
		{PermRead, SchemeDigest, alice.ID},
		{PermRead, SchemeSASL, carol.ID},
		{PermRead, SchemeX509, dave.ID},
		{PermRead, SchemeDigest, bob.ID},
		{PermWrite, SchemeIP, "10.0.0.0/8"},
		{PermAdmin, SchemeDigest, "bob:xyz="},
		{PermAll, SchemeWorld, "someone"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("ExpandACL (-want +got):\n%s", diff)
	}
	// Without a digest identity (an ip one does not count), "auth" stays
	// and validation refuses it.
	kept := ExpandACL(CreatorAllACL(), []Identity{{SchemeIP, "1.1.1.1"}})
	if diff := cmp.Diff(CreatorAllACL(), kept); diff != "" {
		t.Fatalf("auth without identities (-want +got):\n%s", diff)
	}
	if err := validateACL(kept, false); !errors.Is(err, zkerr.ErrInvalidACL) {
		t.Fatalf("validateACL(unexpanded auth) = %v, want ErrInvalidACL", err)
	}
}

// TestExpandACLPlain: an ACL with nothing to expand or drop comes back as
// it is, without an allocation; duplicates are still dropped in ACLs too
// long for the quick scan, and in short ones.
func TestExpandACLPlain(t *testing.T) {
	open := []ACL{{PermAll, SchemeWorld, IDAnyone}}
	if got := ExpandACL(open, nil); &got[0] != &open[0] {
		t.Fatalf("ExpandACL(world:anyone) = a copy, want the ACL itself")
	}
	if n := testing.AllocsPerRun(100, func() { ExpandACL(open, nil) }); n != 0 {
		t.Fatalf("ExpandACL(world:anyone) allocates %v times, want 0", n)
	}
	for _, n := range []int{2, maxPlainACL, maxPlainACL + 1, 50} {
		var acl, want []ACL
		for i := range n {
			a := ACL{PermRead, SchemeIP, fmt.Sprintf("10.0.0.%d", i)}
			want = append(want, a)
			acl = append(acl, a)
		}
		if diff := cmp.Diff(want, ExpandACL(acl, nil)); diff != "" {
			t.Fatalf("%d distinct entries (-want +got):\n%s", n, diff)
		}
		acl = append(acl, acl[n-1], acl[0]) // twice each
		if diff := cmp.Diff(want, ExpandACL(acl, nil)); diff != "" {
			t.Fatalf("%d entries and two again (-want +got):\n%s", n, diff)
		}
	}
}

// TestValidateACL states the second half of fixupACL: what ZooKeeper's
// providers accept (world:anyone, digest ids that Java's split(":") cuts in
// two, IPv4 addresses with optional bits) and that permission bits are
// never checked: ZooKeeper stores any int32.
func TestValidateACL(t *testing.T) {
	for name, bad := range map[string][]ACL{
		"empty":           nil,
		"auth unexpanded": CreatorAllACL(),
		"world other":     {{PermAll, SchemeWorld, "x"}},
		"unknown scheme":  {{PermAll, "kerberos", "x"}},
		"x509 no =":       {{PermAll, SchemeX509, "bob"}},
		"x509 empty":      {{PermAll, SchemeX509, " "}},
		"x509 empty rdn":  {{PermAll, SchemeX509, "CN=a,,O=b"}},
		"sasl two @":      {{PermAll, SchemeSASL, "a@b@c"}},
		"sasl / in realm": {{PermAll, SchemeSASL, "a@b/c"}},
		"sasl two /":      {{PermAll, SchemeSASL, "a/b/c@R"}},
		"super in acl":    {{PermAll, SchemeSuper, ""}},
		"digest no colon": {{PermAll, SchemeDigest, "abc"}},
		"digest 3 parts":  {{PermAll, SchemeDigest, "a:b:c"}},
		"digest trailing": {{PermAll, SchemeDigest, "a:"}},
		"ip bad":          {{PermAll, SchemeIP, "1.2.3"}},
		"ip bad bits":     {{PermAll, SchemeIP, "1.2.3.4/40"}},
		"ip no family":    {{PermAll, SchemeIP, "localhost"}},
		"one bad of two":  {{PermAll, SchemeWorld, IDAnyone}, {PermAll, SchemeDigest, "abc"}},
	} {
		if err := validateACL(bad, false); !errors.Is(err, zkerr.ErrInvalidACL) {
			t.Errorf("%s: validateACL = %v, want ErrInvalidACL", name, err)
		}
	}
	for name, good := range map[string][]ACL{
		// Java's split drops trailing empty strings: "a:b:" has two parts.
		"digest a:b:":    {{PermAll, SchemeDigest, "a:b:"}},
		"perms 0":        {{0, SchemeWorld, IDAnyone}},
		"perms over all": {{PermAll + 1, SchemeWorld, IDAnyone}},
		"perms 0x7f":     {{0x7f, SchemeWorld, IDAnyone}},
		"perms -1":       {{-1, SchemeWorld, IDAnyone}},
		"perms 1<<30":    {{1 << 30, SchemeIP, "10.0.0.0/8"}},
		// KerberosName: any name without '@', or name[/host]@realm.
		"sasl name":       {{PermAll, SchemeSASL, "bob"}},
		"sasl empty":      {{PermAll, SchemeSASL, ""}},
		"sasl slashes":    {{PermAll, SchemeSASL, "a/b/c"}},
		"sasl principal":  {{PermAll, SchemeSASL, "zookeeper/host.example@EXAMPLE.COM"}},
		"sasl user@realm": {{PermAll, SchemeSASL, "bob@EXAMPLE.COM"}},
		"x509 dn":         {{PermAll, SchemeX509, "CN=bob,O=zk-test"}},
		"x509 escaped":    {{PermAll, SchemeX509, `CN=a\,b,O=c`}},
	} {
		if err := validateACL(good, false); err != nil {
			t.Errorf("%s: validateACL = %v, want nil (ZooKeeper stores it)", name, err)
		}
	}
}

// TestDigestCredential states DigestAuthenticationProvider's digest of an
// addauth credential; the expected ids were read back from ZooKeeper 3.8
// (addauth digest, then a create with the "auth" ACL and getACL).
func TestDigestCredential(t *testing.T) {
	for _, c := range []struct {
		auth []byte
		want string
	}{
		{[]byte("alice"), "alice:UisnajVr3zkBPfq+os1D4UHsyeg="},
		{[]byte(""), ":2jmj7l5rSw0yVb/vlWAYkK/YBwk="},
		{[]byte(":pw"), ":krPDEYdCl854cFNT6IXnoMv+VVA="},
		// Not UTF-8: Java decodes E2 82 (one maximal subpart) and FF to
		// one U+FFFD each before hashing.
		{[]byte{'u', ':', 0xe2, 0x82, 'A', 0xff, 'b'}, "u:69+J2Y1DDGrRoTDXRJdHikyZg+o="},
	} {
		if got := DigestCredential(c.auth); got != c.want {
			t.Errorf("DigestCredential(%q) = %q, want %q", c.auth, got, c.want)
		}
	}
	if DigestCredential([]byte("super:secret")) != DigestID("super", "secret") {
		t.Error("DigestID(user, password) must be the digest of user:password")
	}
}

// TestPermLetters: ZooKeeper's letters, in its order, for the bits set.
func TestPermLetters(t *testing.T) {
	for p, want := range map[Perm]string{0: "", PermAll: "cdrwa", PermRead | PermAdmin: "ra",
		PermWrite | PermCreate: "cw", PermDelete | 1<<7: "d"} {
		if got := p.Letters(); got != want {
			t.Errorf("%d: %q, want %q", p, got, want)
		}
	}
}
