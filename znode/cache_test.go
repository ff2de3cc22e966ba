package znode

import (
	"fmt"
	"testing"
)

// TestValueCacheStaleFill: a value read from Pebble before a commit wrote
// the key is not cached after it (the reader lost the race); one read
// after the commit is.
func TestValueCacheStaleFill(t *testing.T) {
	c := newValueCache(1 << 20)
	key := []byte("k")
	_, hit, commits := c.get(key)
	if hit {
		t.Fatal("hit in an empty cache")
	}
	c.writeThrough(map[string]write{"k": {val: []byte("new")}})
	c.fill(key, cachedValue{val: []byte("old"), ok: true}, commits)
	if v, hit, _ := c.get(key); !hit || string(v.val) != "new" {
		t.Fatalf("after a stale fill: %q, hit %v", v.val, hit)
	}
	c.writeThrough(map[string]write{"k": {del: true}})
	if v, hit, _ := c.get(key); !hit || v.ok {
		t.Fatalf("after a deletion: %+v, hit %v", v, hit)
	}
	c.clear()
	_, _, commits = c.get(key)
	c.fill(key, cachedValue{val: []byte("read"), ok: true}, commits)
	if v, hit, _ := c.get(key); !hit || string(v.val) != "read" {
		t.Fatalf("a fill with no commit in between: %q, hit %v", v.val, hit)
	}
}

// TestValueCacheBudget: the cache holds at most two generations of the
// budget; a value too large to hold drops the older value of its key; a
// hit in the old generation survives the next rotation.
func TestValueCacheBudget(t *testing.T) {
	const budget = 4 << 10
	c := newValueCache(budget)
	val := make([]byte, 100)
	c.writeThrough(map[string]write{"keep": {val: val}})
	for i := range 1000 {
		c.writeThrough(map[string]write{fmt.Sprint("k", i): {val: val}})
		if i%10 == 0 {
			if _, hit, _ := c.get([]byte("keep")); !hit {
				t.Fatalf("a key read every 10 writes was dropped at write %d", i)
			}
		}
		var total int64
		for k, v := range c.hot {
			total += entrySize(k, v)
		}
		for k, v := range c.cold {
			total += entrySize(k, v)
		}
		if total > budget || c.hotBytes > budget/2 {
			t.Fatalf("write %d: %d bytes held (hot %d), budget %d", i, total, c.hotBytes, budget)
		}
	}
	c.writeThrough(map[string]write{"keep": {val: make([]byte, budget)}})
	if _, hit, _ := c.get([]byte("keep")); hit {
		t.Fatal("a value larger than a generation is cached, or its older value stayed")
	}
}
