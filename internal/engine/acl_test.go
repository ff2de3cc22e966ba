package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// aclOp is one operation of the ACL table, run by a session against /p (the
// parent) and /p/t (the node), both carrying the ACL under test.
type aclOp struct {
	name string
	need Perm // the permission ZooKeeper checks; 0 = READ or ADMIN
	run  func(ctx context.Context, s *Session) error
}

var aclOps = []aclOp{
	{"create", PermCreate, func(ctx context.Context, s *Session) error { _, err := s.Create(ctx, "/p/new", nil); return err }},
	{"delete", PermDelete, func(ctx context.Context, s *Session) error { return s.Delete(ctx, "/p/t", -1) }},
	{"set", PermWrite, func(ctx context.Context, s *Session) error { _, err := s.Set(ctx, "/p/t", nil, -1); return err }},
	{"get", PermRead, func(ctx context.Context, s *Session) error { _, _, err := s.Get(ctx, "/p/t"); return err }},
	{"getW", PermRead, func(ctx context.Context, s *Session) error { _, _, _, err := s.GetW(ctx, "/p/t"); return err }},
	{"exists", PermRead, func(ctx context.Context, s *Session) error { _, _, err := s.Exists(ctx, "/p/t"); return err }},
	{"existsW", PermRead, func(ctx context.Context, s *Session) error { _, _, _, err := s.ExistsW(ctx, "/p/t"); return err }},
	{"children", PermRead, func(ctx context.Context, s *Session) error { _, _, err := s.Children(ctx, "/p/t"); return err }},
	{"childrenW", PermRead, func(ctx context.Context, s *Session) error { _, _, _, err := s.ChildrenW(ctx, "/p/t"); return err }},
	{"allChildrenNumber", PermRead, func(ctx context.Context, s *Session) error { _, err := s.AllChildrenNumber(ctx, "/p/t"); return err }},
	{"getACL", 0, func(ctx context.Context, s *Session) error { _, _, err := s.GetACL(ctx, "/p/t"); return err }},
	{"setACL", PermAdmin, func(ctx context.Context, s *Session) error {
		_, err := s.SetACL(ctx, "/p/t", OpenACLUnsafe(), -1)
		return err
	}},
	{"multi check", PermRead, func(ctx context.Context, s *Session) error { _, err := s.Multi(ctx, CheckOp("/p/t", -1)); return err }},
	{"multi set", PermWrite, func(ctx context.Context, s *Session) error {
		_, err := s.Multi(ctx, SetOp("/p/t", nil, -1))
		return err
	}},
}

// TestACLTable runs every operation x every permission x every scheme: an
// operation succeeds exactly when the session holds the permission
// ZooKeeper checks for it, and fails with ErrNoAuth otherwise.
func TestACLTable(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 1)
	cfg.SuperDigest = DigestAuth("super", "root")
	e := openTest(t, cfg)
	defer e.Close()
	ctx := testCtx(t)
	admin := newSession(t, e)
	if err := admin.AddAuth(ctx, "digest", []byte("super:root")); err != nil {
		t.Fatal(err)
	}
	none := func(*Session) error { return nil }
	schemes := []struct {
		name string
		acl  func(Perm) ACL
		opts []SessionOption
		auth func(*Session) error
	}{
		{"world", func(p Perm) ACL { return ACL{Perms: p, Scheme: "world", ID: "anyone"} }, nil, none},
		{"digest", func(p Perm) ACL { return DigestACL(p, "bob", "pw") }, nil,
			func(s *Session) error { return s.AddAuth(ctx, "digest", []byte("bob:pw")) }},
		// The ip identity is where the client connects from, as the host
		// declares it.
		{"ip", func(p Perm) ACL { return ACL{Perms: p, Scheme: "ip", ID: "10.1.0.0/16"} },
			[]SessionOption{WithClientAddr("10.1.2.3:40000")}, none},
	}
	perms := []Perm{PermRead, PermWrite, PermCreate, PermDelete, PermAdmin}
	for _, sc := range schemes {
		for _, perm := range perms {
			for _, op := range aclOps {
				name := fmt.Sprintf("%s/%v/%s", sc.name, perm, op.name)
				resetACLNodes(t, admin, sc.acl(perm))
				user := newSession(t, e, sc.opts...)
				if err := sc.auth(user); err != nil {
					t.Fatalf("%s: auth: %v", name, err)
				}
				allowed := op.need == perm || (op.need == 0 && (perm == PermRead || perm == PermAdmin))
				err := op.run(ctx, user)
				if allowed && err != nil {
					t.Errorf("%s: allowed, got %v", name, err)
				}
				if !allowed && !errors.Is(err, ErrNoAuth) {
					t.Errorf("%s: must fail with ErrNoAuth, got %v", name, err)
				}
				if sc.name != "world" {
					// Without the identity, nothing is allowed.
					anon := newSession(t, e)
					resetACLNodes(t, admin, sc.acl(perm))
					if err := op.run(ctx, anon); !errors.Is(err, ErrNoAuth) {
						t.Errorf("%s without identity: got %v", name, err)
					}
					anon.Close(ctx)
				}
				user.Close(ctx)
			}
		}
	}
}

// resetACLNodes recreates /p and /p/t with acl, as the super user.
func resetACLNodes(t *testing.T, admin *Session, acl ACL) {
	t.Helper()
	ctx := testCtx(t)
	if err := admin.DeleteAll(ctx, "/p"); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, admin, "/p", "", WithACL(acl))
	mustCreate(t, admin, "/p/t", "", WithACL(acl))
}

func TestAuthSchemeAndGetACLMasking(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	if _, err := s.Create(ctx, "/c", nil, WithACL(CreatorAllACL()...)); !errors.Is(err, ErrInvalidACL) {
		t.Fatalf("auth scheme without an authenticated identity: %v", err)
	}
	if err := s.AddAuth(ctx, "digest", []byte("carol:pw")); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "/c", "", WithACL(CreatorAllACL()...), WithACL(append(CreatorAllACL(), ACL{Perms: PermRead, Scheme: "world", ID: "anyone"})...))
	acl, _, err := s.GetACL(ctx, "/c")
	if err != nil || len(acl) != 2 || acl[0].Scheme != "digest" || acl[0].ID != DigestAuth("carol", "pw") {
		t.Fatalf("the auth scheme must expand to the creator's digest: %+v %v", acl, err)
	}
	reader := newSession(t, e)
	acl, _, err = reader.GetACL(ctx, "/c")
	if err != nil || acl[0].ID != "carol:x" {
		t.Fatalf("a reader without ADMIN must see the digest masked: %+v %v", acl, err)
	}
	if _, err := reader.SetACL(ctx, "/c", OpenACLUnsafe(), -1); !errors.Is(err, ErrNoAuth) {
		t.Fatalf("setACL without ADMIN: %v", err)
	}
	st, err := s.SetACL(ctx, "/c", OpenACLUnsafe(), 0)
	if err != nil || st.Aversion != 1 {
		t.Fatalf("setACL: %+v %v", st, err)
	}
	if _, err := s.SetACL(ctx, "/c", OpenACLUnsafe(), 0); !errors.Is(err, ErrBadVersion) {
		t.Fatalf("setACL with a stale aversion: %v", err)
	}
}

// TestSkipACL: with Config.SkipACL (ZooKeeper's skipACL=yes) a session
// with no identity may do every operation on nodes whose ACL grants it
// nothing, reads and writes alike; ACLs are still validated and stored.
func TestSkipACL(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 1)
	cfg.SkipACL = true
	e := openTest(t, cfg)
	defer e.Close()
	ctx := testCtx(t)
	admin := newSession(t, e)
	anon := newSession(t, e)
	for _, op := range aclOps {
		resetACLNodes(t, admin, DigestACL(PermAll, "bob", "pw"))
		if err := op.run(ctx, anon); err != nil {
			t.Errorf("%s with SkipACL: %v", op.name, err)
		}
	}
	acl, _, err := admin.GetACL(ctx, "/p")
	if err != nil || len(acl) != 1 || acl[0].Scheme != "digest" {
		t.Errorf("the ACL stored with SkipACL: %v, %v", acl, err)
	}
	_, err = anon.Create(ctx, "/auth", nil, WithACL(ACL{Perms: PermAll, Scheme: "auth"}))
	if !errors.Is(err, ErrInvalidACL) {
		t.Errorf("an auth ACL without an identity, with SkipACL: %v, want ErrInvalidACL", err)
	}
}
