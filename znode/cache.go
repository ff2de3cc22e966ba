package znode

import "sync"

// valueCache keeps recently read or written values of the tree's keys in
// memory, so that the reads of Apply and Pending (the parent of every
// create, the node of every setData, the path a create must not find)
// and the readers' Get and Stat (readThrough) seldom reach Pebble. It
// also remembers keys found absent. It holds exactly what Pebble holds
// (Apply writes every committed value through, and a value read from
// Pebble is kept only if no Apply committed while it was read), so a read
// from the cache is a read from Pebble; readers stay off it while a
// commit is visible in Pebble and not yet in the cache (Tree.visible).
//
// Two generations bound it: new entries go to hot; when hot holds the
// budget's bytes, it becomes cold and the old cold is dropped; a hit in
// cold moves the entry back to hot. Values are shared, never modified.
type valueCache struct {
	mu       sync.Mutex
	budget   int64 // bytes of one generation; 0 disables the cache
	hot      map[string]cachedValue
	cold     map[string]cachedValue
	hotBytes int64
	// commits counts the write-throughs: a value read from Pebble is kept
	// only if it did not change while the read ran.
	commits uint64
}

type cachedValue struct {
	val []byte
	ok  bool // false: the key is absent
}

// cacheEntryOverhead approximates what a map entry costs beyond its key
// and value bytes.
const cacheEntryOverhead = 64

func newValueCache(budget int64) *valueCache {
	return &valueCache{budget: budget / 2, hot: map[string]cachedValue{}}
}

// get returns the cached value of key, if any, and the commit count to
// pass to fill after a miss.
func (c *valueCache) get(key []byte) (cachedValue, bool, uint64) {
	if c.budget <= 0 {
		return cachedValue{}, false, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.hot[string(key)]; ok {
		return v, true, c.commits
	}
	if v, ok := c.cold[string(key)]; ok {
		delete(c.cold, string(key))
		c.addLocked(string(key), v)
		return v, true, c.commits
	}
	return cachedValue{}, false, c.commits
}

// fill caches what a Pebble read found for key, unless a write-through
// happened since get returned commits.
func (c *valueCache) fill(key []byte, v cachedValue, commits uint64) {
	if c.budget <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.commits == commits {
		c.addLocked(string(key), v)
	}
}

// writeThrough records the values a commit wrote (a deletion as absent).
func (c *valueCache) writeThrough(writes map[string]write) {
	if c.budget <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commits++
	for k, w := range writes {
		delete(c.cold, k)
		c.addLocked(k, cachedValue{val: w.val, ok: !w.del})
	}
}

// clear forgets everything (the tree was replaced).
func (c *valueCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commits++
	c.hot, c.cold, c.hotBytes = map[string]cachedValue{}, nil, 0
}

func (c *valueCache) addLocked(k string, v cachedValue) {
	if old, ok := c.hot[k]; ok {
		c.hotBytes -= entrySize(k, old)
		delete(c.hot, k)
	}
	size := entrySize(k, v)
	if size > c.budget {
		return // too large to keep (and no older value is left behind)
	}
	if c.hotBytes+size > c.budget {
		c.cold, c.hot, c.hotBytes = c.hot, make(map[string]cachedValue, len(c.hot)), 0
	}
	c.hot[k] = v
	c.hotBytes += size
}

func entrySize(k string, v cachedValue) int64 {
	return int64(len(k) + len(v.val) + cacheEntryOverhead)
}
