package recipes

import (
	"slices"
	"testing"

	"github.com/embedzk/zk"
)

// TestDiffStatesDeletesChildrenFirst: a reload that finds a subtree gone
// reports its deletions deepest first, as the live events (and Curator's
// TreeCache) do, even when a sibling such as /t/a-b sorts inside the
// subtree; a replaced node's old children go before it and its new ones
// after; the other events stay in path order.
func TestDiffStatesDeletesChildrenFirst(t *testing.T) {
	c := &Cache{shape: shapeTree, root: "/t", cfg: cacheConfig{maxDepth: -1}}
	old, now := c.newState(), c.newState()
	for i, p := range []string{"/t", "/t/a", "/t/a/b", "/t/a/b/c", "/t/a-b", "/t/r", "/t/r/old", "/t/z"} {
		old.set(p, nil, zk.Stat{Czxid: int64(i + 1), Mzxid: int64(i + 1)})
	}
	now.set("/t", nil, zk.Stat{Czxid: 1, Mzxid: 1})
	now.set("/t/a-b", nil, zk.Stat{Czxid: 5, Mzxid: 20}) // sorts between /t/a and /t/a/b
	now.set("/t/n", nil, zk.Stat{Czxid: 21, Mzxid: 21})
	now.set("/t/r", nil, zk.Stat{Czxid: 22, Mzxid: 22}) // replaced: deleted and created again
	now.set("/t/r/new", nil, zk.Stat{Czxid: 23, Mzxid: 23})
	now.set("/t/z", nil, zk.Stat{Czxid: 8, Mzxid: 24})
	var got []string
	for _, ev := range diffStates(old, now) {
		got = append(got, ev.Type.String()+" "+ev.Node.Path)
	}
	want := []string{"NodeDeleted /t/a/b/c", "NodeDeleted /t/a/b", "NodeDeleted /t/r/old", "NodeDeleted /t/a", "NodeDeleted /t/r",
		"NodeChanged /t/a-b", "NodeCreated /t/n", "NodeCreated /t/r", "NodeCreated /t/r/new", "NodeChanged /t/z"}
	if !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}
