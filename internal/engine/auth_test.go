package engine

import (
	"errors"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/embedzk/zk/znode"
)

// TestAddAuthDigestAcceptsWhatZooKeeperAccepts states
// DigestAuthenticationProvider.handleAuthentication: every credential is
// accepted, with or without a colon, even empty or not UTF-8, and its
// identity is user (before the first colon) + ":" + base64(sha1(all of
// it)). The ids below were read back from ZooKeeper 3.8 after the same
// addauth calls and a create with the "auth" ACL.
func TestAddAuthDigestAcceptsWhatZooKeeperAccepts(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	creds := []struct {
		auth []byte
		id   string
	}{
		{[]byte("alice"), "alice:UisnajVr3zkBPfq+os1D4UHsyeg="},
		{[]byte(""), ":2jmj7l5rSw0yVb/vlWAYkK/YBwk="},
		{[]byte(":pw"), ":krPDEYdCl854cFNT6IXnoMv+VVA="},
		{[]byte{'u', ':', 0xe2, 0x82, 'A', 0xff, 'b'}, "u:69+J2Y1DDGrRoTDXRJdHikyZg+o="},
	}
	for _, c := range creds {
		if err := s.AddAuth(ctx, "digest", c.auth); err != nil {
			t.Fatalf("AddAuth(digest, %q): %v", c.auth, err)
		}
	}
	mustCreate(t, s, "/auth", "", WithACL(CreatorAllACL()...))
	acl, _, err := s.GetACL(ctx, "/auth")
	if err != nil || len(acl) != len(creds) {
		t.Fatalf("GetACL: %+v, %v", acl, err)
	}
	for i, c := range creds {
		if acl[i] != (ACL{Perms: PermAll, Scheme: "digest", ID: c.id}) {
			t.Errorf("entry %d: %+v, want digest %s", i, acl[i], c.id)
		}
	}
	// Such an identity opens what a digest ACL of it protects.
	mustCreate(t, s, "/alice", "", WithACL(ACL{Perms: PermRead, Scheme: "digest", ID: creds[0].id}))
	other := newSession(t, e)
	if _, _, err := other.Get(ctx, "/alice"); !errors.Is(err, ErrNoAuth) {
		t.Fatalf("without the credential: %v", err)
	}
	if err := other.AddAuth(ctx, "digest", []byte("alice")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.Get(ctx, "/alice"); err != nil {
		t.Fatalf("with the credential: %v", err)
	}
	if err := other.AddAuth(ctx, "sasl", []byte("x")); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("a scheme ZooKeeper has no provider for: %v", err)
	}
}

// TestACLPermissionBitsStoredAsGiven states PrepRequestProcessor.fixupACL:
// permission bits are not validated, any int32 is stored and read back as
// given, and only the cdrwa bits grant anything. ZooKeeper 3.8 stored each
// of these and answered getACL and setData as below.
func TestACLPermissionBitsStoredAsGiven(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	for _, p := range []Perm{0, 32, 0x7f, -1, 1 << 30} {
		if _, err := s.Create(ctx, "/perm", nil, WithACL(ACL{Perms: p, Scheme: "world", ID: "anyone"})); err != nil {
			t.Fatalf("create with perms %d: %v", p, err)
		}
		readable := p&(PermRead|PermAdmin) != 0
		acl, _, err := s.GetACL(ctx, "/perm")
		switch {
		case readable && (err != nil || len(acl) != 1 || acl[0].Perms != p):
			t.Errorf("perms %d: GetACL %+v, %v; want it back as given", p, acl, err)
		case !readable && !errors.Is(err, ErrNoAuth):
			t.Errorf("perms %d: GetACL %v, want ErrNoAuth", p, err)
		}
		_, err = s.Set(ctx, "/perm", []byte("x"), -1)
		if writable := p&PermWrite != 0; writable != (err == nil) || (!writable && !errors.Is(err, ErrNoAuth)) {
			t.Errorf("perms %d: set %v", p, err)
		}
		if _, err := s.SetACL(ctx, "/perm", []ACL{{Perms: 1 << 20, Scheme: "world", ID: "anyone"}}, -1); p&PermAdmin != 0 && err != nil {
			t.Errorf("perms %d: setACL with bit 20: %v", p, err)
		}
		if err := s.Delete(ctx, "/perm", -1); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIPIdentityComesOnlyFromTheHost is item 3 of issue 9: AddAuth("ip",
// addr) lets no session claim an address (ZooKeeper's
// IPAuthenticationProvider ignores what the client sends and uses the
// connection's address); the ip identity is the one the host declared with
// WithClientAddr when it opened or reattached the session.
func TestIPIdentityComesOnlyFromTheHost(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	owner := newSession(t, e)
	mustCreate(t, owner, "/ipn", "", WithACL(ACL{Perms: PermAll, Scheme: "ip", ID: "10.1.0.0/16"}))

	claimer := newSession(t, e, WithClientAddr("192.168.0.9"))
	for _, claim := range []string{"10.1.2.3", "garbage", ""} {
		if err := claimer.AddAuth(ctx, "ip", []byte(claim)); err != nil {
			t.Fatalf("AddAuth(ip, %q) must succeed as in ZooKeeper: %v", claim, err)
		}
		if _, _, err := claimer.Get(ctx, "/ipn"); !errors.Is(err, ErrNoAuth) {
			t.Fatalf("the claimed address %q opened an ip ACL: %v", claim, err)
		}
	}
	for _, addr := range []string{"10.1.2.3", "10.1.2.3:40000", "[::ffff:10.1.2.3]:1"} {
		s := newSession(t, e, WithClientAddr(addr))
		if _, _, err := s.Get(ctx, "/ipn"); err != nil {
			t.Errorf("declared %s: %v", addr, err)
		}
		again, err := e.Reattach(ctx, s.ID(), s.Password(), WithClientAddr(addr))
		if err != nil || again != s {
			t.Errorf("reattach with %s: %v", addr, err)
		}
	}
	for _, bad := range []string{"host.example", "10.1.2", "10.1.2.3:port", "10.1.0.0/16"} {
		if _, err := e.NewSession(ctx, WithClientAddr(bad)); !errors.Is(err, ErrBadArguments) {
			t.Errorf("NewSession(WithClientAddr(%q)): %v, want ErrBadArguments", bad, err)
		}
		if _, err := e.Reattach(ctx, owner.ID(), owner.Password(), WithClientAddr(bad)); !errors.Is(err, ErrBadArguments) {
			t.Errorf("Reattach(WithClientAddr(%q)): %v, want ErrBadArguments", bad, err)
		}
	}
}

// TestExistsNeedsReadOnAnExistingNode states FinalRequestProcessor's exists
// in ZooKeeper 3.8.4 and later (ZOOKEEPER-2590, also 3.9.2): READ is
// checked on an existing node (no Stat, no watch without it) and nothing
// on a missing one, whose exist watch is then filtered by READ when the
// event is delivered (NIOServerCnxn.process, CVE-2024-23944): zk ends such a
// watch with EventNotWatching and ErrNoAuth rather than silently.
func TestExistsNeedsReadOnAnExistingNode(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	owner, other := newSession(t, e), newSession(t, e)
	if err := owner.AddAuth(ctx, "digest", []byte("alice:pw")); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, owner, "/secret", "", WithACL(DigestACL(PermAll, "alice", "pw")))
	if _, _, err := other.Exists(ctx, "/secret"); !errors.Is(err, ErrNoAuth) {
		t.Fatalf("Exists without READ: %v", err)
	}
	if _, _, ch, err := other.ExistsW(ctx, "/secret"); !errors.Is(err, ErrNoAuth) || ch != nil {
		t.Fatalf("ExistsW without READ: %v (watch set: %v)", err, ch != nil)
	}
	if ok, _, err := other.Exists(ctx, "/none"); ok || err != nil {
		t.Fatalf("Exists of a missing node: %v %v", ok, err)
	}
	_, _, ch, err := other.ExistsW(ctx, "/later")
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, owner, "/later", "", WithACL(DigestACL(PermAll, "alice", "pw")))
	if ev := recv(t, ch); ev.Type != EventNotWatching || !errors.Is(ev.Err, ErrNoAuth) {
		t.Fatalf("exist watch on a node created unreadable: %+v", ev)
	}
}

// TestAddAuthDigestNullCredentialFails states ZooKeeper 3.8's answer to a
// digest credential that is null (not empty): DigestAuthenticationProvider
// cannot make a string of it, ZooKeeperServer answers AUTHFAILED and
// closes the connection, and the client's session goes to AuthFailed
// (checked with go-zookeeper's AddAuth("digest", nil) and zkCli's
// "addauth digest": "WatchedEvent state:AuthFailed"). An empty credential
// is accepted (TestAddAuthDigestAcceptsWhatZooKeeperAccepts). In process,
// AddAuth("digest", nil) fails with ErrAuthFailed and changes nothing, as
// an unknown scheme does; the client port closes the connection.
func TestAddAuthDigestNullCredentialFails(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	if err := s.AddAuth(ctx, "digest", nil); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("AddAuth(digest, nil): %v, want ErrAuthFailed", err)
	}
	if ids := s.Identities(); len(ids) != 0 {
		t.Fatalf("a refused credential added %v", ids)
	}
	if err := s.AddAuth(ctx, "digest", []byte{}); err != nil {
		t.Fatalf("AddAuth(digest, empty): %v", err)
	}
	if ids := s.Identities(); len(ids) != 1 || ids[0] != (Identity{Scheme: "digest", ID: ":2jmj7l5rSw0yVb/vlWAYkK/YBwk="}) {
		t.Fatalf("identities after an empty credential: %v", ids)
	}
}

// TestIdentitiesAsWhoAmI states what ZooKeeper's whoAmI lists (3.8: the
// connection's ip identity, one digest identity per distinct credential
// added, and ("super", "") for a session that authenticated with the super
// digest; checked with zkCli's whoami): Identities lists the same, in the
// order the session gained them, and hands the caller its own slice.
func TestIdentitiesAsWhoAmI(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 1)
	cfg.SuperDigest = DigestAuth("super", "boss")
	e := openTest(t, cfg)
	defer e.Close()
	ctx := testCtx(t)
	if ids := newSession(t, e).Identities(); len(ids) != 0 {
		t.Fatalf("a session with no address and no auth: %v", ids)
	}
	s := newSession(t, e, WithClientAddr("10.0.0.7:4000"))
	for _, cred := range []string{"bob:pw", "super:boss", "bob:pw", "alice"} {
		if err := s.AddAuth(ctx, "digest", []byte(cred)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddAuth(ctx, "ip", []byte("10.9.9.9")); err != nil {
		t.Fatal(err)
	}
	want := []Identity{
		{Scheme: "ip", ID: "10.0.0.7"},
		{Scheme: "digest", ID: DigestAuth("bob", "pw")},
		{Scheme: "digest", ID: DigestAuth("super", "boss")},
		{Scheme: "super", ID: ""},
		{Scheme: "digest", ID: znode.DigestCredential([]byte("alice"))},
	}
	got := s.Identities()
	if !slices.Equal(got, want) {
		t.Fatalf("Identities:\n%v\nwant\n%v", got, want)
	}
	got[0].ID = "changed"
	if s.Identities()[0].ID != "10.0.0.7" {
		t.Fatal("the caller's slice aliases the session's identities")
	}
}
