package znode

import (
	"strconv"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestReadsThroughCacheInOrder: Get and Stat read through the value cache.
// Every group sets /a and then /b to its number. Between Pebble making a
// group visible and the value cache taking its values, /a leaves the cache
// (as a rotation would drop it) and a reader reads /a, then /b, then
// Stats /b: what it reads second must be at least as new as what it read
// first (/a comes from Pebble, new; /b must not come from the cache, old),
// as it would be reading Pebble alone. After the commit the cache serves
// both, new.
func TestReadsThroughCacheInOrder(t *testing.T) {
	opts := testOptions(vfs.NewMem())
	tr := openWith(t, opts)
	acl := OpenACLUnsafe()
	zxid := int64(0)
	apply := func(g *Group, txn *Txn) {
		zxid++
		if _, _, _, err := g.Apply(zxid, txn); err != nil {
			t.Fatal(err)
		}
	}
	read := func(path string) (int, int32) {
		n, err := tr.Get(path)
		if err != nil {
			t.Fatal(err)
		}
		v, err := strconv.Atoi(string(n.Data))
		if err != nil {
			t.Fatal(err)
		}
		return v, n.Stat.Version
	}
	g := tr.Group()
	for _, p := range []string{"/a", "/b"} {
		apply(g, &Txn{Type: TxnCreate, Path: p, Data: []byte("0"), ACL: acl, Time: 1})
	}
	if err := g.Commit(); err != nil {
		t.Fatal(err)
	}
	var fromCache int
	for i := 1; i <= 20; i++ {
		read("/a")
		read("/b") // both in the cache now
		tr.madeVisible = func() {
			tr.cache.mu.Lock()
			delete(tr.cache.hot, string(nodeKey("/a")))
			delete(tr.cache.cold, string(nodeKey("/a")))
			tr.cache.mu.Unlock()
			a, _ := read("/a")
			b, _ := read("/b")
			st, err := tr.Stat("/b")
			if a != i || b != i || err != nil || st.Stat.Version != int32(i) {
				t.Errorf("commit %d, before the cache has it: /a = %d, then /b = %d (Stat version %d, %v)", i, a, b, st.Stat.Version, err)
			}
		}
		g := tr.Group()
		v := []byte(strconv.Itoa(i))
		apply(g, &Txn{Type: TxnSetData, Path: "/a", Data: v, Version: -1, Time: 1})
		apply(g, &Txn{Type: TxnSetData, Path: "/b", Data: v, Version: -1, Time: 1})
		if err := g.Commit(); err != nil {
			t.Fatal(err)
		}
		tr.madeVisible = nil
		for _, p := range []string{"/a", "/b"} {
			if c, hit, _ := tr.cache.get(nodeKey(p)); hit && c.ok {
				fromCache++
			}
			if v, version := read(p); v != i || version != int32(i) {
				t.Fatalf("after commit %d: %s = %d, version %d", i, p, v, version)
			}
		}
	}
	if fromCache != 40 {
		t.Fatalf("the cache held /a and /b after %d of 40 commits' reads", fromCache)
	}
}

// TestReadThroughCopies: a value Get returns is the caller's: changing it
// changes neither the cache nor the next read.
func TestReadThroughCopies(t *testing.T) {
	tr := openWith(t, testOptions(vfs.NewMem()))
	if _, _, err := tr.Apply(1, &Txn{Type: TxnCreate, Path: "/x", Data: []byte("abc"), ACL: OpenACLUnsafe(), Time: 1}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // a miss (then filled), then hits
		n, err := tr.Get("/x")
		if err != nil || string(n.Data) != "abc" {
			t.Fatalf("read %d: %q, %v", i, n.Data, err)
		}
		copy(n.Data, "zzz")
	}
	if _, err := tr.Get("/nope"); err == nil {
		t.Fatal("a missing node was found")
	}
}
