package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// subtreeOps are the writes of the /zookeeper table, in the order each row
// runs them (the order the same table was run against ZooKeeper 3.8).
var subtreeOps = []struct {
	name string
	run  func(ctx context.Context, s *Session, path string) error
}{
	{"set(7)", func(ctx context.Context, s *Session, p string) error {
		_, err := s.Set(ctx, p, []byte("d"), 7)
		return err
	}},
	{"set(-1)", func(ctx context.Context, s *Session, p string) error {
		_, err := s.Set(ctx, p, []byte("d"), -1)
		return err
	}},
	{"setACL(7)", func(ctx context.Context, s *Session, p string) error {
		_, err := s.SetACL(ctx, p, OpenACLUnsafe(), 7)
		return err
	}},
	{"delete(7)", func(ctx context.Context, s *Session, p string) error { return s.Delete(ctx, p, 7) }},
	{"create", func(ctx context.Context, s *Session, p string) error { _, err := s.Create(ctx, p, nil); return err }},
}

// TestZooKeeperSubtreeTable states what ZooKeeper 3.8 does at and below
// /zookeeper, checked there error by error (a plain and a super session,
// each row's writes in order): the built-in nodes (/, /zookeeper,
// /zookeeper/quota, /zookeeper/config) cannot be deleted, and that check
// comes first (PrepRequestProcessor.getParentPathAndValidate, before the
// version); everything else obeys the ACLs like any node, with ZooKeeper's
// order of checks: setData and setACL check existence, then the ACL, then
// the version; delete checks the parent's DELETE before the node's
// existence; create checks the parent's CREATE before the node's existence.
func TestZooKeeperSubtreeTable(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 1)
	cfg.SuperDigest = DigestAuth("super", "secret")
	e := openTest(t, cfg)
	defer e.Close()
	ctx := testCtx(t)
	plain, super := newSession(t, e), newSession(t, e)
	if err := super.AddAuth(ctx, "digest", []byte("super:secret")); err != nil {
		t.Fatal(err)
	}
	builtin := []error{ErrBadVersion, nil, ErrBadVersion, ErrBadArguments, ErrNodeExists}
	rows := []struct {
		who  string
		path string
		want []error // one per subtreeOps
	}{
		{"plain", "/", builtin},
		{"plain", "/zookeeper", builtin},
		{"plain", "/zookeeper/quota", builtin},
		{"plain", "/zookeeper/config", []error{ErrNoAuth, ErrNoAuth, ErrNoAuth, ErrBadArguments, ErrNodeExists}},
		{"plain", "/zookeeper/x", []error{ErrNoNode, ErrNoNode, ErrNoNode, ErrNoNode, nil}},
		{"plain", "/zookeeper/quota/x", []error{ErrNoNode, ErrNoNode, ErrNoNode, ErrNoNode, nil}},
		{"plain", "/zookeeper/config/x", []error{ErrNoNode, ErrNoNode, ErrNoNode, ErrNoAuth, ErrNoAuth}},
		{"super", "/", builtin},
		{"super", "/zookeeper/config", builtin},
		{"super", "/zookeeper/config/x", []error{ErrNoNode, ErrNoNode, ErrNoNode, ErrNoNode, nil}},
	}
	for _, row := range rows {
		s := plain
		if row.who == "super" {
			s = super
		}
		for i, op := range subtreeOps {
			err := op.run(ctx, s, row.path)
			if w := row.want[i]; (w == nil && err != nil) || (w != nil && !errors.Is(err, w)) {
				t.Errorf("%s %s %s: got %v, want %v", row.who, op.name, row.path, err, w)
			}
		}
		for _, p := range []string{"/zookeeper/x", "/zookeeper/quota/x", "/zookeeper/config/x"} {
			if err := super.Delete(ctx, p, -1); err != nil && !errors.Is(err, ErrNoNode) {
				t.Fatalf("cleanup %s: %v", p, err)
			}
		}
	}
}

// TestZooKeeperSubtreeOrder states the orders of checks the table cannot
// show, as ZooKeeper 3.8 answered them: on an existing /zookeeper/config/x
// (made by the super user, open ACL) a plain session's create is ErrNoAuth
// (CREATE on the parent comes before the existence check), its delete is
// ErrNoAuth even with a wrong version (DELETE on the parent comes first),
// while its set obeys x's own open ACL. A user subtree under /zookeeper
// behaves as anywhere: version before emptiness, sequential and ephemeral
// children allowed.
func TestZooKeeperSubtreeOrder(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 1)
	cfg.SuperDigest = DigestAuth("super", "secret")
	e := openTest(t, cfg)
	defer e.Close()
	ctx := testCtx(t)
	plain, super := newSession(t, e), newSession(t, e)
	if err := super.AddAuth(ctx, "digest", []byte("super:secret")); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, super, "/zookeeper/config/x", "")
	check := func(what string, err, want error) {
		t.Helper()
		if (want == nil && err != nil) || (want != nil && !errors.Is(err, want)) {
			t.Errorf("%s: got %v, want %v", what, err, want)
		}
	}
	_, err := plain.Create(ctx, "/zookeeper/config/x", nil)
	check("plain create of an existing child of config", err, ErrNoAuth)
	_, err = plain.Set(ctx, "/zookeeper/config/x", []byte("d"), -1)
	check("plain set of config/x (open ACL)", err, nil)
	_, err = plain.Set(ctx, "/zookeeper/config/x", []byte("d"), 9)
	check("plain set(9) of config/x", err, ErrBadVersion)
	check("plain delete(9) of config/x", plain.Delete(ctx, "/zookeeper/config/x", 9), ErrNoAuth)
	check("super delete(9) of config/x", super.Delete(ctx, "/zookeeper/config/x", 9), ErrBadVersion)
	check("super delete of config/x", super.Delete(ctx, "/zookeeper/config/x", 1), nil)
	_, err = plain.Create(ctx, "/zookeeper/config/", nil, WithMode(ModePersistentSequential))
	check("plain sequential create under config", err, ErrNoAuth)
	_, err = super.SetACL(ctx, "/zookeeper/config", ReadACLUnsafe(), -1)
	check("super setACL of config", err, nil)
	if _, st, err := super.Exists(ctx, "/zookeeper/config"); err != nil || st.Aversion != 0 {
		t.Errorf("config aversion after a setACL from -1: %d %v, want 0", st.Aversion, err)
	}

	mustCreate(t, plain, "/zookeeper/u", "")
	mustCreate(t, plain, "/zookeeper/u/v", "")
	check("delete(3) of a non-empty user node", plain.Delete(ctx, "/zookeeper/u", 3), ErrBadVersion)
	check("delete of a non-empty user node", plain.Delete(ctx, "/zookeeper/u", 0), ErrNotEmpty)
	seq, err := plain.Create(ctx, "/zookeeper/", nil, WithMode(ModePersistentSequential))
	check("sequential create under /zookeeper", err, nil)
	if seq != "/zookeeper/0000000001" { // one create before; quota and config never were
		t.Errorf("sequential child of /zookeeper: %q", seq)
	}
	_, err = plain.Create(ctx, "/zookeeper/eph", nil, WithMode(ModeEphemeral))
	check("ephemeral under /zookeeper", err, nil)
	_, err = plain.Multi(ctx, CreateOp("/m", nil), DeleteOp("/", -1))
	check("multi deleting /", err, ErrBadArguments)
}

// TestDeleteAllRootLeavesBuiltins states DeleteAll("/"): every user node
// goes, those below /zookeeper too, and the four built-in nodes stay, as
// on a fresh tree.
func TestDeleteAllRootLeavesBuiltins(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	for _, p := range []string{"/a", "/a/b", "/a/b/c", "/d", "/zookeeper/u", "/zookeeper/u/v", "/zookeeper/quota/q"} {
		mustCreate(t, s, p, "")
	}
	mustCreate(t, s, "/e", "", WithMode(ModeEphemeral))
	if err := s.DeleteAll(ctx, "/"); err != nil {
		t.Fatalf("DeleteAll(/): %v", err)
	}
	for p, want := range map[string][]string{"/": {"zookeeper"}, "/zookeeper": {"config", "quota"}, "/zookeeper/quota": {}, "/zookeeper/config": {}} {
		kids, _, err := s.Children(ctx, p)
		if err != nil || len(kids) != len(want) || (len(want) > 0 && (kids[0] != want[0] || kids[len(kids)-1] != want[len(want)-1])) {
			t.Errorf("after DeleteAll(/): children of %s = %v, %v; want %v", p, kids, err, want)
		}
	}
	if err := s.DeleteAll(ctx, "/zookeeper"); err != nil {
		t.Fatalf("DeleteAll(/zookeeper) of built-ins only: %v", err)
	}
	if n, err := s.AllChildrenNumber(ctx, "/"); err != nil || n != 3 {
		t.Fatalf("nodes below / = %d, %v; want 3", n, err)
	}
}
