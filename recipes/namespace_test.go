package recipes

import (
	"errors"
	"strings"
	"testing"

	"github.com/embedzk/zk"
)

// TestNamespacePaths: paths in and out are relative; the root is made on
// the first create; results, sequential names and errors name relative
// paths.
func TestNamespacePaths(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	ctx := chCtx(t)
	ns, err := NewNamespace(s, "/itheima/app")
	chMust(t, err)
	got, err := ns.Create(ctx, "/jobs/job-", []byte("x"), zk.WithMode(zk.ModePersistentSequential), zk.WithParents())
	chMust(t, err)
	if got != "/jobs/job-0000000000" {
		t.Fatalf("created %q", got)
	}
	if data, _, err := s.Get(ctx, "/itheima/app/jobs/job-0000000000"); err != nil || string(data) != "x" {
		t.Fatalf("the node is not under the root: %v", err)
	}
	names, _, err := ns.Children(ctx, "/")
	chMust(t, err)
	sameStrings(t, "children of the root", names, []string{"jobs"})
	_, err = ns.Create(ctx, "/jobs/job-0000000000", nil)
	if !errors.Is(err, zk.ErrNodeExists) || strings.Contains(err.Error(), "itheima") {
		t.Fatalf("error %q: want ErrNodeExists naming the relative path", err)
	}
	res, err := ns.Multi(ctx, zk.CreateOp("/m-", nil, zk.WithMode(zk.ModePersistentSequential)), zk.SetOp("/jobs", []byte("y"), -1))
	chMust(t, err)
	if res[0].Path != "/m-0000000001" {
		t.Fatalf("multi created %q", res[0].Path)
	}
	rr, err := ns.MultiRead(ctx, zk.GetDataOp("/jobs"), zk.GetChildrenOp("/"))
	chMust(t, err)
	if string(rr[0].Data) != "y" || len(rr[1].Children) != 2 {
		t.Fatalf("multiRead %+v", rr)
	}
	if _, err := ns.Multi(ctx, zk.DeleteOp("/nope", -1)); !errors.Is(err, zk.ErrNoNode) || strings.Contains(err.Error(), "itheima") {
		t.Fatalf("failed multi: %v", err)
	}
}

// TestNamespaceCannotEscape: a namespace never touches anything outside its
// root, whatever the path: relative names, dot components, a sibling that
// shares the root's prefix, sequential suffixes, multi ops; its watches on
// "/" see only the inside, with relative paths.
func TestNamespaceCannotEscape(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	ctx := chCtx(t)
	chCreate(t, s, "/app", "")
	chCreate(t, s, "/apple", "secret")
	ns, err := NewNamespace(s, "/app")
	chMust(t, err)
	w, err := ns.AddWatch(ctx, "/", true)
	chMust(t, err)
	for _, p := range []string{"le", "", "x/..", "/..", "/../apple", "/./x", "/a/../../apple", "/a/"} {
		if _, err := ns.Create(ctx, p, nil); !errors.Is(err, zk.ErrInvalidPath) {
			t.Errorf("Create(%q): %v, want ErrInvalidPath", p, err)
		}
		if _, err := ns.Multi(ctx, zk.CreateOp(p, nil)); !errors.Is(err, zk.ErrInvalidPath) {
			t.Errorf("Multi create %q: %v, want ErrInvalidPath", p, err)
		}
		if _, _, err := ns.Get(ctx, p); !errors.Is(err, zk.ErrInvalidPath) {
			t.Errorf("Get(%q): %v, want ErrInvalidPath", p, err)
		}
	}
	// A sequential create of the root would name a sibling (/app0000000001):
	// refused, in Create and in a multi.
	if _, err := ns.Create(ctx, "/", nil, zk.WithMode(zk.ModePersistentSequential)); !errors.Is(err, zk.ErrBadArguments) {
		t.Fatalf("sequential create of /: %v", err)
	}
	if _, err := ns.Multi(ctx, zk.CreateOp("/", nil, zk.WithMode(zk.ModePersistentSequential))); !errors.Is(err, zk.ErrBadArguments) {
		t.Fatalf("sequential create of / in a multi: %v", err)
	}
	got, err := ns.Create(ctx, "/seq-", nil, zk.WithMode(zk.ModePersistentSequential))
	chMust(t, err)
	chCreate(t, s, "/apple/x", "") // outside: the namespace's watch hears nothing
	chCreate(t, ns, "/in", "")
	ev, err := w.Next(ctx)
	chMust(t, err)
	if ev.Path != got || ev.Type != zk.EventNodeCreated {
		t.Fatalf("first event %+v, want the sequential node %s", ev, got)
	}
	if ev, err = w.Next(ctx); err != nil || ev.Path != "/in" {
		t.Fatalf("second event %+v, %v", ev, err)
	}
	if _, ok := w.TryNext(); ok {
		t.Fatal("the namespace's watch saw a change outside it")
	}
	names, _, err := s.Children(ctx, "/apple")
	chMust(t, err)
	sameStrings(t, "/apple untouched but for /apple/x", names, []string{"x"})
	if data, _, _ := s.Get(ctx, "/apple"); string(data) != "secret" {
		t.Fatal("/apple changed")
	}
}

// TestNamespaceOneShotWatches: GetW, ExistsW and ChildrenW events carry
// relative paths, and end with their session like the session's own.
func TestNamespaceOneShotWatches(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	ctx := chCtx(t)
	ns, err := NewNamespace(s, "/ns")
	chMust(t, err)
	chCreate(t, ns, "/a", "1")
	_, _, dataW, err := ns.GetW(ctx, "/a")
	chMust(t, err)
	_, _, existW, err := ns.ExistsW(ctx, "/b")
	chMust(t, err)
	_, _, kidsW, err := ns.ChildrenW(ctx, "/")
	chMust(t, err)
	_, err = ns.Set(ctx, "/a", []byte("2"), -1)
	chMust(t, err)
	chCreate(t, ns, "/b", "")
	for _, c := range []struct {
		ch   <-chan zk.Event
		want string
	}{{dataW, "NodeDataChanged /a"}, {existW, "NodeCreated /b"}, {kidsW, "NodeChildrenChanged /"}} {
		ev, ok := <-c.ch
		if got := ev.Type.String() + " " + ev.Path; !ok || got != c.want {
			t.Fatalf("event %q, want %q", got, c.want)
		}
		if _, ok := <-c.ch; ok {
			t.Fatal("a one-shot channel stayed open")
		}
	}
	_, _, dataW, err = ns.GetW(ctx, "/a")
	chMust(t, err)
	chMust(t, s.Close(ctx))
	if ev := <-dataW; ev.Type != zk.EventNotWatching || ev.Path != "/a" || !errors.Is(ev.Err, zk.ErrClosed) {
		t.Fatalf("end event %+v", ev)
	}
}

// TestNamespaceCache: a TreeCache in a namespace holds relative paths.
func TestNamespaceCache(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	ns, err := NewNamespace(s, "/tenant")
	chMust(t, err)
	chCreate(t, ns, "/cfg", "a")
	c, err := NewTreeCache(ns, "/cfg")
	chMust(t, err)
	r := chStart(t, c)
	chCreate(t, ns, "/cfg/x", "b")
	r.waitZxid(t, lastZxid(t, ns))
	sameStrings(t, "events", r.take(), []string{"NodeCreated /cfg=a", "Initialized", "NodeCreated /cfg/x=b"})
	sameContent(t, c, readTree(t, ns, shapeTree, "/cfg"))
}

// TestNamespaceBadInput: a bad root or session fails at once.
func TestNamespaceBadInput(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	for _, root := range []string{"", "app", "/app/"} {
		if _, err := NewNamespace(s, root); !errors.Is(err, zk.ErrInvalidPath) {
			t.Errorf("root %q: %v", root, err)
		}
	}
	if _, err := NewNamespace(nil, "/a"); !errors.Is(err, zk.ErrBadArguments) {
		t.Errorf("nil session: %v", err)
	}
	ns, err := NewNamespace(s, "/")
	chMust(t, err)
	chCreate(t, ns, "/plain", "")
	if got, err := ns.Path("/plain"); err != nil || got != "/plain" {
		t.Fatalf("the whole tree's namespace maps %q, %v", got, err)
	}
}
