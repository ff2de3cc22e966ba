package engine

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

var modelSeeds = flag.Int("zk.modelseeds", 4, "seeds for TestRandomOpsAgainstModel")

// mnode is a node of the model tree.
type mnode struct {
	data      string
	version   int32
	creates   int32 // children ever created: the sequence suffix
	cversion  int32 // as ZooKeeper reports it: every create and delete of a child
	ephemeral int64
	children  map[string]bool
}

// model is a plain in-memory ZooKeeper tree: what the real one must equal.
type model map[string]*mnode

func newModel() model {
	// A fresh ZooKeeper reports / at cversion -1: its child /zookeeper was
	// never created by a txn, yet counts as present.
	return model{"/": {cversion: -1, children: map[string]bool{"zookeeper": true}}}
}

func (m model) clone() model {
	c := model{}
	for p, n := range m {
		nn := *n
		nn.children = maps.Clone(n.children)
		c[p] = &nn
	}
	return c
}

func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i == 0 {
		return "/"
	}
	return p[:i]
}

func baseOf(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// create applies a create to the model and returns the path or the error.
func (m model) create(path, data string, mode CreateMode, session int64) (string, error) {
	parent := m[parentOf(path)]
	switch {
	case parent == nil:
		return "", ErrNoNode
	case !isSequential(mode) && m[path] != nil:
		return "", ErrNodeExists
	case parent.ephemeral != 0:
		return "", ErrNoChildrenForEphemerals
	}
	if isSequential(mode) {
		path = fmt.Sprintf("%s%010d", path, parent.creates)
		if m[path] != nil {
			return "", ErrNodeExists
		}
	}
	n := &mnode{data: data, children: map[string]bool{}}
	if mode == ModeEphemeral || mode == ModeEphemeralSequential {
		n.ephemeral = session
	}
	m[path] = n
	parent.children[baseOf(path)] = true
	parent.creates++
	parent.cversion++
	return path, nil
}

func (m model) set(path, data string, version int32) error {
	n := m[path]
	switch {
	case n == nil:
		return ErrNoNode
	case version != -1 && version != n.version:
		return ErrBadVersion
	}
	n.data = data
	n.version++
	return nil
}

func (m model) delete(path string, version int32) error {
	n := m[path]
	switch {
	case n == nil:
		return ErrNoNode
	case version != -1 && version != n.version:
		return ErrBadVersion
	case len(n.children) > 0:
		return ErrNotEmpty
	}
	delete(m, path)
	parent := m[parentOf(path)]
	delete(parent.children, baseOf(path))
	parent.cversion++
	return nil
}

// closeSession deletes a session's ephemerals.
func (m model) closeSession(session int64) {
	for _, p := range slices.Sorted(maps.Keys(m)) {
		if n := m[p]; n != nil && n.ephemeral == session {
			m.delete(p, -1)
		}
	}
}

// compare checks the real tree equals the model, node by node.
func (m model) compare(t *testing.T, e *Ensemble, step string) {
	t.Helper()
	e.applyMu.RLock()
	defer e.applyMu.RUnlock()
	seen := 0
	var walk func(path string)
	walk = func(path string) {
		n, err := e.tree.Get(path)
		if err != nil {
			t.Fatalf("%s: tree lost %s: %v", step, path, err)
		}
		seen++
		if strings.HasPrefix(path, "/zookeeper") {
			return
		}
		want := m[path]
		if want == nil {
			t.Fatalf("%s: tree has %s, model does not", step, path)
		}
		kids, _, _ := e.tree.Children(path)
		st := n.Stat
		if string(n.Data) != want.data || st.Version != want.version || st.Cversion != want.cversion ||
			st.NumChildren != int32(len(want.children)) || st.DataLength != int32(len(want.data)) ||
			st.EphemeralOwner != want.ephemeral || !slices.Equal(kids, slices.Sorted(maps.Keys(want.children))) {
			t.Fatalf("%s: %s differs: tree %q %+v %v, model %+v", step, path, n.Data, st, kids, *want)
		}
		for _, k := range kids {
			walk(joinPath(path, k))
		}
	}
	walk("/")
	modelCount := 0
	for p := range m {
		if !strings.HasPrefix(p, "/zookeeper") {
			modelCount++
		}
	}
	if e.tree.NodeCount() < int64(modelCount) {
		t.Fatalf("%s: tree holds %d nodes, model %d", step, e.tree.NodeCount(), modelCount)
	}
}

// TestRandomOpsAgainstModel feeds random operations (good and bad) through
// the public API and compares the whole tree with the model after every
// step; results and errors must match too.
func TestRandomOpsAgainstModel(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*modelSeeds); seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runModel(t, seed, 300) })
	}
}

var modelPaths = []string{"/a", "/a/b", "/a/b/c", "/a/d", "/b", "/b/x", "/b/x/y", "/c", "bad", "/a/", "/a//b"}

func runModel(t *testing.T, seed uint64, steps int) {
	e := standalone(t)
	ctx := testCtx(t)
	rng := rand.New(rand.NewPCG(seed, 7))
	sessions := []*Session{newSession(t, e), newSession(t, e)}
	m := newModel()
	for step := 0; step < steps; step++ {
		s := sessions[rng.IntN(len(sessions))]
		desc, want, got := modelStep(t, rng, m, s)
		label := fmt.Sprintf("seed %d step %d %s", seed, step, desc)
		if !errors.Is(got, want) || (want == nil) != (got == nil) {
			t.Fatalf("%s: got error %v, model says %v", label, got, want)
		}
		if rng.IntN(40) == 0 { // a session ends: its ephemerals go
			i := rng.IntN(len(sessions))
			if err := sessions[i].Close(ctx); err != nil {
				t.Fatal(err)
			}
			m.closeSession(sessions[i].ID())
			sessions[i] = newSession(t, e)
		}
		m.compare(t, e, label)
	}
}

// modelStep runs one random operation on the session and the model.
func modelStep(t *testing.T, rng *rand.Rand, m model, s *Session) (string, error, error) {
	ctx := testCtx(t)
	path := modelPaths[rng.IntN(len(modelPaths))]
	valid := path != "bad" && !strings.HasSuffix(path, "/") && !strings.Contains(path, "//")
	data := fmt.Sprint(rng.IntN(100))
	version := []int32{-1, 0, 1, 2, -1}[rng.IntN(5)]
	var want, got error
	var desc string
	switch op := rng.IntN(7); op {
	case 0, 1:
		mode := []CreateMode{ModePersistent, ModePersistentSequential, ModeEphemeral, ModeEphemeralSequential}[rng.IntN(4)]
		desc = fmt.Sprintf("create %s mode %d", path, mode)
		if isSequential(mode) && path == "/a/" {
			valid = true // a sequential create may end in "/": the suffix is the name
		}
		var gotPath string
		gotPath, got = s.Create(ctx, path, []byte(data), WithMode(mode))
		if want = ErrInvalidPath; valid {
			var wantPath string
			wantPath, want = m.create(path, data, mode, s.ID())
			if want == nil && gotPath != wantPath {
				t.Fatalf("%s: created %q, model %q", desc, gotPath, wantPath)
			}
		}
	case 2:
		desc = fmt.Sprintf("set %s v%d", path, version)
		_, got = s.Set(ctx, path, []byte(data), version)
		if want = ErrInvalidPath; valid {
			want = m.set(path, data, version)
		}
	case 3:
		desc = fmt.Sprintf("delete %s v%d", path, version)
		got = s.Delete(ctx, path, version)
		if want = ErrInvalidPath; valid {
			want = m.delete(path, version)
		}
	case 4:
		desc = "get " + path
		var d []byte
		d, _, got = s.Get(ctx, path)
		if want = ErrInvalidPath; valid {
			if n := m[path]; n == nil {
				want = ErrNoNode
			} else if want = nil; !bytes.Equal(d, []byte(n.data)) {
				t.Fatalf("%s: got %q, model %q", desc, d, n.data)
			}
		}
	case 5:
		desc, want, got = modelMulti(ctx, rng, m, s, data)
	case 6:
		desc = "deleteall " + path
		got = s.DeleteAll(ctx, path)
		if want = ErrInvalidPath; valid {
			want = nil
			existed := m[path] != nil
			for _, p := range slices.Sorted(maps.Keys(m)) {
				if p == path || strings.HasPrefix(p, path+"/") {
					delete(m, p)
				}
			}
			if parent := m[parentOf(path)]; parent != nil && existed {
				delete(parent.children, baseOf(path))
				parent.cversion++
			}
		}
	}
	return desc, want, got
}

// modelMulti runs a random multi of up to three ops against a clone of the
// model: it replaces the model only if every op succeeds.
func modelMulti(ctx context.Context, rng *rand.Rand, m model, s *Session, data string) (string, error, error) {
	var ops []Op
	var desc []string
	c := m.clone()
	var want error
	for i := rng.IntN(3) + 1; i > 0; i-- {
		path := modelPaths[rng.IntN(8)] // valid paths only
		var err error
		switch rng.IntN(4) {
		case 0:
			ops = append(ops, CreateOp(path, []byte(data)))
			desc = append(desc, "create "+path)
			_, err = c.create(path, data, ModePersistent, s.ID())
		case 1:
			ops = append(ops, SetOp(path, []byte(data), -1))
			desc = append(desc, "set "+path)
			err = c.set(path, data, -1)
		case 2:
			ops = append(ops, DeleteOp(path, -1))
			desc = append(desc, "delete "+path)
			err = c.delete(path, -1)
		case 3:
			v := int32(rng.IntN(2))
			ops = append(ops, CheckOp(path, v))
			desc = append(desc, fmt.Sprintf("check %s v%d", path, v))
			if n := c[path]; n == nil {
				err = ErrNoNode
			} else if n.version != v {
				err = ErrBadVersion
			}
		}
		if want == nil {
			want = err
		}
	}
	_, got := s.Multi(ctx, ops...)
	if want == nil {
		clear(m)
		maps.Copy(m, c)
	}
	return "multi[" + strings.Join(desc, ", ") + "]", want, got
}
