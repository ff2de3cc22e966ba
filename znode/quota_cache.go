package znode

import "bytes"

// Every create, delete and setData looks for a quota above its path, which
// starts with the node /zookeeper/quota (no children: no quota anywhere).
// A Pebble lookup of it per write costs about a fifth of an Apply, so the
// Tree keeps that node's value as applied, and Apply and Pending read it
// from there (treeReader). Apply updates it after committing a txn that
// wrote it, before a Pending can forget its own copy (Pending.Applied runs
// after Apply), so a Pending never sees an older value than Pebble's.

var quotaTopKey = nodeKey(QuotaPath)

// treeReader reads the tree's Pebble DB through the tree's value cache
// (cache.go), and /zookeeper/quota's node from its own cache. The values it
// returns may be shared with the caches: they must not be modified.
type treeReader struct{ t *Tree }

func (r treeReader) get(key []byte) ([]byte, bool, error) {
	if bytes.Equal(key, quotaTopKey) {
		if v := r.t.quotaTop.Load(); v != nil {
			return *v, true, nil
		}
	}
	c, hit, commits := r.t.cache.get(key)
	if hit {
		return c.val, c.ok, nil
	}
	if f := r.t.filter.Load(); f != nil && !f.mayHave(key) {
		return nil, false, nil
	}
	val, ok, err := pebbleReader{r.t.db}.get(key)
	if err == nil {
		r.t.cache.fill(key, cachedValue{val: val, ok: ok}, commits)
	}
	return val, ok, err
}

func (r treeReader) scan(prefix []byte, fn func(key, val []byte) bool) error {
	return pebbleReader{r.t.db}.scan(prefix, fn)
}

// quotaTopChildren returns the number of children of /zookeeper/quota as
// the txn's view sees it (0 if the node is missing), reading the count
// from the node's value without decoding the rest of it: every write asks,
// and the answer is nearly always 0.
func (s *state) quotaTopChildren() (int32, error) {
	b, ok, err := s.v.get(quotaTopKey)
	switch {
	case err != nil || !ok:
		return 0, err
	case len(b) < valueFixedSize || b[0] != valueVersion:
		// Malformed: the full decode reports it.
		n, _, err := s.getNode(QuotaPath)
		if err != nil {
			return 0, err
		}
		return n.numChildren, nil
	}
	return numChildrenOf(b), nil
}

// loadQuotaTop fills the cache from Pebble (Open, Restore); if the node
// cannot be read the cache stays empty and reads go to Pebble.
func (t *Tree) loadQuotaTop() {
	v, ok, err := pebbleReader{t.db}.get(quotaTopKey)
	if err != nil || !ok {
		t.quotaTop.Store(nil)
		return
	}
	t.quotaTop.Store(&v)
}

// noteQuotaTop updates the cache after Apply committed writes.
func (t *Tree) noteQuotaTop(writes map[string]write) {
	w, ok := writes[string(quotaTopKey)]
	switch {
	case !ok:
	case w.del:
		t.quotaTop.Store(nil)
	default:
		v := append([]byte(nil), w.val...)
		t.quotaTop.Store(&v)
	}
}
