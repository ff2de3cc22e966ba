package recipes

import (
	"slices"
	"testing"

	"github.com/embedzk/zk"
)

// TestDiffStatesDeletesChildrenFirst: a reload that finds a subtree gone
// reports its deletions children first, as the live events (and Curator's
// TreeCache) do; other events stay in path order.
func TestDiffStatesDeletesChildrenFirst(t *testing.T) {
	c := &Cache{shape: shapeTree, root: "/t", cfg: cacheConfig{maxDepth: -1}}
	old, now := c.newState(), c.newState()
	for i, p := range []string{"/t", "/t/a", "/t/a/b", "/t/a/b/c", "/t/z"} {
		old.set(p, nil, zk.Stat{Czxid: int64(i + 1), Mzxid: int64(i + 1)})
	}
	now.set("/t", nil, zk.Stat{Czxid: 1, Mzxid: 1})
	now.set("/t/n", nil, zk.Stat{Czxid: 7, Mzxid: 7})
	now.set("/t/z", nil, zk.Stat{Czxid: 5, Mzxid: 6})
	var got []string
	for _, ev := range diffStates(old, now) {
		got = append(got, ev.Type.String()+" "+ev.Node.Path)
	}
	want := []string{"NodeDeleted /t/a/b/c", "NodeDeleted /t/a/b", "NodeDeleted /t/a", "NodeCreated /t/n", "NodeChanged /t/z"}
	if !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}
