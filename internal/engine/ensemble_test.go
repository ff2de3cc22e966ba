package engine

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// dumpTree renders every node (path, data, Stat) in order, for comparing
// whole trees.
func dumpTree(t testing.TB, e *Ensemble) string {
	t.Helper()
	var b strings.Builder
	var walk func(path string)
	walk = func(path string) {
		n, err := e.tree.Get(path)
		if err != nil {
			t.Fatalf("dump %s: %v", path, err)
		}
		fmt.Fprintf(&b, "%s %q %+v %v\n", path, n.Data, n.Stat, n.ACL)
		kids, _, err := e.tree.Children(path)
		if err != nil {
			t.Fatalf("dump children %s: %v", path, err)
		}
		for _, k := range kids {
			walk(joinPath(path, k))
		}
	}
	e.applyMu.RLock()
	walk("/")
	e.applyMu.RUnlock()
	return b.String()
}

func TestStandaloneBasics(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	if st := e.Status(); st.Mode != ModeStandalone || !st.Serving {
		t.Fatalf("status %+v", st)
	}
	s := newSession(t, e)
	var st Stat
	if p := mustCreate(t, s, "/a", "one", WithStat(&st)); p != "/a" {
		t.Fatalf("created %q", p)
	}
	if st.Version != 0 || st.DataLength != 3 || st.Czxid == 0 || st.Czxid != st.Mzxid {
		t.Fatalf("create stat %+v", st)
	}
	data, got, err := s.Get(ctx, "/a")
	if err != nil || string(data) != "one" || got != st {
		t.Fatalf("get: %q %+v %v", data, got, err)
	}
	st2, err := s.Set(ctx, "/a", []byte("two"), 0)
	if err != nil || st2.Version != 1 || st2.Mzxid <= st.Mzxid {
		t.Fatalf("set: %+v %v", st2, err)
	}
	if _, err := s.Set(ctx, "/a", []byte("x"), 0); !errors.Is(err, ErrBadVersion) {
		t.Fatalf("stale set: %v", err)
	}
	if _, err := s.Create(ctx, "/a", nil); !errors.Is(err, ErrNodeExists) {
		t.Fatalf("duplicate create: %v", err)
	}
	seq1 := mustCreate(t, s, "/a/q-", "", WithMode(ModePersistentSequential))
	seq2 := mustCreate(t, s, "/a/q-", "", WithMode(ModePersistentSequential))
	if seq1 != "/a/q-0000000000" || seq2 != "/a/q-0000000001" {
		t.Fatalf("sequential names %q %q", seq1, seq2)
	}
	if err := s.Delete(ctx, "/a", -1); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("delete non-empty: %v", err)
	}
	kids, pst, err := s.Children(ctx, "/a")
	if err != nil || len(kids) != 2 || pst.NumChildren != 2 || pst.Cversion != 2 {
		t.Fatalf("children %v %+v %v", kids, pst, err)
	}
	if err := s.DeleteAll(ctx, "/a"); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := s.Exists(ctx, "/a"); ok || err != nil {
		t.Fatalf("exists after deleteall: %v %v", ok, err)
	}
	if _, _, err := s.Get(ctx, "/a"); !errors.Is(err, ErrNoNode) {
		t.Fatalf("get deleted: %v", err)
	}
	if p := mustCreate(t, s, "/x/y/z", "deep", WithParents()); p != "/x/y/z" {
		t.Fatalf("makepath %q", p)
	}
	if n, err := s.AllChildrenNumber(ctx, "/x"); err != nil || n != 2 {
		t.Fatalf("all children number %d %v", n, err)
	}
}

func TestMultiAllOrNothing(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	mustCreate(t, s, "/m", "v")
	before := dumpTree(t, e)
	res, err := s.Multi(ctx,
		CreateOp("/m/a", nil),
		SetOp("/m", []byte("w"), 0),
		CheckOp("/m", 5), // fails: version is 1 by then
		DeleteOp("/m/a", -1),
	)
	if !errors.Is(err, ErrBadVersion) || len(res) != 4 {
		t.Fatalf("multi: %v %+v", err, res)
	}
	if res[0].Err != nil || res[1].Err != nil || !errors.Is(res[2].Err, ErrBadVersion) || !errors.Is(res[3].Err, ErrRuntimeInconsistency) {
		t.Fatalf("per-op results %+v", res)
	}
	if after := dumpTree(t, e); after != before {
		t.Fatalf("a failed multi changed the tree:\n%s\nvs\n%s", before, after)
	}
	res, err = s.Multi(ctx, CreateOp("/m/a", []byte("1")), SetOp("/m", []byte("w"), 0), CheckOp("/m", 1))
	if err != nil || res[0].Path != "/m/a" || res[1].Stat.Version != 1 {
		t.Fatalf("multi: %v %+v", err, res)
	}
	rr, err := s.MultiRead(ctx, GetDataOp("/m"), GetChildrenOp("/m"), GetDataOp("/nope"))
	if err != nil || string(rr[0].Data) != "w" || len(rr[1].Children) != 1 || !errors.Is(rr[2].Err, ErrNoNode) {
		t.Fatalf("multiRead %v %+v", err, rr)
	}
}

// TestBadInputChangesNothing feeds every kind of bad argument through the
// public API: each gets a clear sentinel error and the tree is unchanged.
func TestBadInputChangesNothing(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	mustCreate(t, s, "/ok", "data")
	mustCreate(t, s, "/eph", "", WithMode(ModeEphemeral))
	before := dumpTree(t, e)
	big := bytes.Repeat([]byte("x"), e.cfg.JuteMaxBuffer+1)
	cases := []struct {
		name string
		err  error
		call func() error
	}{
		{"relative path", ErrInvalidPath, func() error { _, err := s.Create(ctx, "a", nil); return err }},
		{"trailing slash", ErrInvalidPath, func() error { _, err := s.Create(ctx, "/ok/", nil); return err }},
		{"empty component", ErrInvalidPath, func() error { _, err := s.Create(ctx, "/a//b", nil); return err }},
		{"dot", ErrInvalidPath, func() error { _, _, err := s.Get(ctx, "/ok/."); return err }},
		{"dotdot", ErrInvalidPath, func() error { return s.Delete(ctx, "/ok/..", -1) }},
		{"nul", ErrInvalidPath, func() error { _, err := s.Set(ctx, "/o\x00k", nil, -1); return err }},
		{"control char", ErrInvalidPath, func() error { _, _, err := s.Exists(ctx, "/o\x01k"); return err }},
		{"empty path", ErrInvalidPath, func() error { _, _, err := s.Children(ctx, ""); return err }},
		{"oversized create", ErrRequestTooLarge, func() error { _, err := s.Create(ctx, "/big", big); return err }},
		{"oversized set", ErrRequestTooLarge, func() error { _, err := s.Set(ctx, "/ok", big, -1); return err }},
		// Any int32 is an expected version, as in ZooKeeper: compared, refused.
		{"negative version", ErrBadVersion, func() error { _, err := s.Set(ctx, "/ok", nil, -2); return err }},
		{"negative delete version", ErrBadVersion, func() error { return s.Delete(ctx, "/ok", -7) }},
		{"unknown mode", ErrBadArguments, func() error { _, err := s.Create(ctx, "/m", nil, WithMode(42)); return err }},
		{"ttl without ttl mode", ErrBadArguments, func() error { _, err := s.Create(ctx, "/m", nil, WithTTL(time.Second)); return err }},
		{"ttl mode without ttl", ErrBadArguments, func() error {
			_, err := s.Create(ctx, "/m", nil, WithMode(ModePersistentWithTTL))
			return err
		}},
		{"empty acl", ErrInvalidACL, func() error { _, err := s.Create(ctx, "/m", nil, WithACL()); return err }},
		{"bad acl scheme", ErrInvalidACL, func() error {
			_, err := s.Create(ctx, "/m", nil, WithACL(ACL{Perms: PermAll, Scheme: "nope", ID: "x"}))
			return err
		}},
		{"child of ephemeral", ErrNoChildrenForEphemerals, func() error { _, err := s.Create(ctx, "/eph/c", nil); return err }},
		{"no parent", ErrNoNode, func() error { _, err := s.Create(ctx, "/none/c", nil); return err }},
		{"config node write", ErrNoAuth, func() error { _, err := s.Set(ctx, "/zookeeper/config", nil, -1); return err }},
		{"system node delete", ErrBadArguments, func() error { return s.Delete(ctx, "/zookeeper", -1) }},
		{"root delete", ErrBadArguments, func() error { return s.Delete(ctx, "/", -1) }},
		{"bad auth scheme", ErrAuthFailed, func() error { return s.AddAuth(ctx, "kerberos", []byte("x")) }},
		{"bad watcher type", ErrBadArguments, func() error { return s.RemoveWatches(ctx, "/ok", 9) }},
		{"no watcher", ErrNoWatcher, func() error { return s.RemoveWatches(ctx, "/ok", WatcherData) }},
		{"multi bad op", ErrInvalidPath, func() error { _, err := s.Multi(ctx, CreateOp("/m", nil), DeleteOp("bad", -1)); return err }},
	}
	for _, tc := range cases {
		if err := tc.call(); !errors.Is(err, tc.err) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.err)
		}
	}
	if after := dumpTree(t, e); after != before {
		t.Fatalf("bad input changed the tree:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// A closed session and a closed ensemble.
	other := newSession(t, e)
	if err := other.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Create(ctx, "/m", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed session: %v", err)
	}
	e.Close()
	if _, _, err := s.Get(ctx, "/ok"); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed ensemble: %v", err)
	}
	if _, err := e.NewSession(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("new session on a closed ensemble: %v", err)
	}
}

func TestRestartKeepsData(t *testing.T) {
	fs := vfs.NewMem()
	e := openTest(t, testConfig(fs, 1))
	s := newSession(t, e)
	for i := 0; i < 50; i++ {
		mustCreate(t, s, fmt.Sprintf("/n%02d", i), fmt.Sprint(i))
	}
	before := dumpTree(t, e)
	last := e.Status().LastZxid
	e.Close()

	e = openTest(t, testConfig(fs, 2))
	defer e.Close()
	if after := dumpTree(t, e); after != before {
		t.Fatalf("tree changed across a restart:\n%s\nvs\n%s", before, after)
	}
	if st := e.Status(); st.LastZxid < last || st.Applied < last {
		t.Fatalf("status after restart %+v, want last zxid >= %#x", st, last)
	}
	// The session survives the restart and can be re-attached.
	s2, err := e.Reattach(testCtx(t), s.ID(), s.Password())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Create(testCtx(t), "/after", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Reattach(testCtx(t), s.ID(), []byte("wrong")); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("wrong password: %v", err)
	}
}

// TestCloseWhileReading closes the ensemble while sessions read and write
// from many goroutines: every call returns (an error after the close), and
// nothing panics.
func TestCloseWhileReading(t *testing.T) {
	e := openTest(t, testConfig(vfs.NewMem(), 1))
	ctx := testCtx(t)
	s := newSession(t, e)
	mustCreate(t, s, "/r", "x")
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				if _, _, err := s.Get(ctx, "/r"); err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("get during close: %v", err)
					}
					return
				}
				if _, err := s.Set(ctx, "/r", nil, -1); err != nil {
					return
				}
			}
		}()
	}
	e.Close()
	for g := 0; g < 8; g++ {
		<-done
	}
}
