package znode

import (
	"hash/maphash"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// keyFilter is an in-memory Bloom filter of every key in the tree's Pebble
// DB, so that the lookup of a key that does not exist (the new path of
// every create, on the leader's Pending and on every peer's Apply) is
// answered without Pebble, whose lookup of a missing key walks the
// memtables and the tables of every level (~10 µs a lookup, the largest
// cost of a create in the profile of examples/bench/PROFILE.md).
//
// It never answers "absent" for a key that is present: Open and Restore
// build it from every key of the DB, and a commit adds the keys it writes
// before its Pebble batch is committed, so a reader that finds a key's
// bits clear read the filter before the key existed. A deleted key stays
// in it (a false positive, answered by Pebble). New keys go to the newest
// layer; a full layer gets a successor twice its size (lookups check every
// layer). After more deletes than four times the keys the DB had at the
// last build (at least 8 Ki), the filter is mostly stale keys: the commit
// rebuilds it from the DB, a scan of every key (at most once per four
// deletes of each key the DB holds, so an O(1) amortized cost per delete).
//
// Memory: 10 bits per key (about 1% false positives), at least 2 KiB.
type keyFilter struct {
	seed    maphash.Seed
	mu      sync.Mutex // held by add
	layers  atomic.Pointer[[]*filterLayer]
	built   int // keys at the last build
	deletes int // deletes since (under mu)
}

type filterLayer struct {
	words []atomic.Uint64
	mask  uint64 // bits - 1 (a power of two)
	cap   int    // keys it holds at ~1% false positives
	n     int    // keys added (under keyFilter.mu)
}

const (
	filterBitsPerKey = 10
	filterHashes     = 7
	filterMinKeys    = 2 << 10
	filterChurn      = 4
)

func newFilterLayer(keys int) *filterLayer {
	keys = max(keys, filterMinKeys)
	nbits := uint64(1) << bits.Len64(uint64(keys*filterBitsPerKey-1))
	return &filterLayer{words: make([]atomic.Uint64, nbits/64), mask: nbits - 1, cap: int(nbits / filterBitsPerKey)}
}

func (l *filterLayer) has(h uint64) bool {
	delta := h>>33 | 1
	for i := 0; i < filterHashes; i++ {
		b := h & l.mask
		if l.words[b/64].Load()&(1<<(b%64)) == 0 {
			return false
		}
		h += delta
	}
	return true
}

func (l *filterLayer) set(h uint64) {
	delta := h>>33 | 1
	for i := 0; i < filterHashes; i++ {
		b := h & l.mask
		l.words[b/64].Or(1 << (b % 64))
		h += delta
	}
	l.n++
}

// buildFilter scans every key of db.
func buildFilter(db pebble.Reader) (*keyFilter, error) {
	f := &keyFilter{seed: maphash.MakeSeed()}
	it, err := db.NewIter(nil)
	if err != nil {
		return nil, err
	}
	var hashes []uint64
	for ok := it.First(); ok; ok = it.Next() {
		hashes = append(hashes, f.hash(it.Key()))
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	l := newFilterLayer(2 * len(hashes))
	for _, h := range hashes {
		l.set(h)
	}
	f.built = len(hashes)
	f.layers.Store(&[]*filterLayer{l})
	return f, nil
}

func (f *keyFilter) hash(key []byte) uint64 { return maphash.Bytes(f.seed, key) }

// mayHave reports whether key may be in the DB; false is certain. Safe
// for concurrent use.
func (f *keyFilter) mayHave(key []byte) bool {
	h := f.hash(key)
	for _, l := range *f.layers.Load() {
		if l.has(h) {
			return true
		}
	}
	return false
}

// add records keys about to be committed. It reports whether the filter
// is stale enough to be rebuilt (see keyFilter).
func (f *keyFilter) add(writes map[string]write) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	layers := *f.layers.Load()
	for k, w := range writes {
		if w.del {
			f.deletes++
			continue
		}
		h := maphash.String(f.seed, k)
		known := false
		for _, l := range layers {
			if known = l.has(h); known {
				break
			}
		}
		if known {
			continue
		}
		last := layers[len(layers)-1]
		if last.n >= last.cap {
			last = newFilterLayer(2 * last.cap)
			layers = append(append([]*filterLayer(nil), layers...), last)
			f.layers.Store(&layers)
		}
		last.set(h)
	}
	return f.deletes > filterChurn*max(f.built, filterMinKeys)
}

// rebuildFilter builds the filter from the DB. Only the goroutine that
// writes the tree calls it (or Open, Restore), so no key is committed
// during the scan; readers use the old filter until the new one replaces
// it. A failed scan leaves no filter: every lookup goes to Pebble.
func (t *Tree) rebuildFilter() {
	f, err := buildFilter(t.db)
	if err != nil {
		t.log.Warn("znode: building the key filter; lookups go to Pebble", "err", err)
	}
	t.filter.Store(f)
}
