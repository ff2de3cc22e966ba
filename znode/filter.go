package znode

import (
	"errors"
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
// It never answers "absent" for a key that is present. A filter is built
// in the background from a snapshot of the DB (after Open and Restore: a
// scan of every key, ~0.4 s for 100,000 nodes of 1 KiB, which Open does
// not wait for; meanwhile lookups go to Pebble); every commit adds the
// keys it writes, before its Pebble batch commits, to the filter in use
// and to the one being built, so a reader that finds a key's bits clear
// read the filter before the key existed. A deleted key stays in it (a
// false positive, answered by Pebble). New keys go to the newest layer; a
// full layer gets a successor twice its size with one more bit per key
// (lookups check every layer, so their false positives add up: with the
// bits growing, a tree that only grows stays near 0.1% at a million keys,
// where layers of one density added up to 5% at 300,000; a scalable Bloom
// filter's tightening).
//
// False positives are worth bits: each costs the loop a Pebble lookup of a
// missing key, 35 µs on average in examples/bench's create-64 (4,600 of
// them in a run at 10 bits a key in layers of one density, 200–400 at
// this density), against well under 1 µs for the filter's 11 probes.
//
// After more deletes than four times the keys the filter was built with
// (at least 8 Ki), the filter is mostly stale keys: a commit starts a new
// build (at most once per four deletes of each key the DB holds, so O(1)
// amortized per delete), and the stale one serves until it completes.
//
// Memory: 16 bits per key (about 0.05% false positives) in a built filter,
// rounded up to a power of two bits (so up to 32), one more in each layer
// added since (a tree grown from empty to a million keys: ~45 bits, 5.6
// MB); at least 4 KiB.
type keyFilter struct {
	seed    maphash.Seed
	mu      sync.Mutex // held by add and fill
	layers  atomic.Pointer[[]*filterLayer]
	built   int // keys at the last build
	deletes int // deletes since (under mu)
	minKeys int // the smallest layer, and the churn floor: filterMinKeys (tests use less)
}

type filterLayer struct {
	words []atomic.Uint64
	mask  uint64 // bits - 1 (a power of two)
	per   int    // bits per key it was sized for
	cap   int    // keys it holds at that density
	n     int    // keys added (under keyFilter.mu)
}

const (
	filterBitsPerKey = 16
	filterBitsGrowth = 1 // more bits per key in each added layer
	filterHashes     = 11
	filterMinKeys    = 2 << 10
	filterChurn      = 4
)

// newFilterLayer makes a layer for keys (at least minKeys) at per bits a
// key, rounded up to a power of two bits.
func newFilterLayer(keys, minKeys, per int) *filterLayer {
	keys = max(keys, minKeys)
	nbits := uint64(1) << bits.Len64(uint64(keys*per-1))
	return &filterLayer{words: make([]atomic.Uint64, nbits/64), mask: nbits - 1, per: per, cap: int(nbits / uint64(per))}
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

func newKeyFilter(keys, minKeys int) *keyFilter {
	f := &keyFilter{seed: maphash.MakeSeed(), minKeys: minKeys}
	f.layers.Store(&[]*filterLayer{newFilterLayer(keys, minKeys, filterBitsPerKey)})
	return f
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
	for k, w := range writes {
		if w.del {
			f.deletes++
			continue
		}
		f.insertLocked(maphash.String(f.seed, k))
	}
	return f.deletes > filterChurn*max(f.built, f.minKeys)
}

// insertLocked adds a key's hash unless some layer has it already.
func (f *keyFilter) insertLocked(h uint64) {
	layers := *f.layers.Load()
	for _, l := range layers {
		if l.has(h) {
			return
		}
	}
	last := layers[len(layers)-1]
	if last.n >= last.cap {
		last = newFilterLayer(2*last.cap, f.minKeys, last.per+filterBitsGrowth)
		// A new variable: taking layers' address would move it to the
		// heap on every call.
		grown := append(append([]*filterLayer(nil), layers...), last)
		f.layers.Store(&grown)
	}
	last.set(h)
}

// filterBuild is a running build of a new filter (see startFilterBuild).
type filterBuild struct {
	stop atomic.Bool
	done chan struct{}
}

// startFilterBuild builds a new filter in the background from a snapshot
// of the DB, unless a build is running. It must be called where no commit
// is in flight (Open, Restore, or the goroutine that commits, between
// commits): commits after the snapshot add their keys to the new filter
// (Tree.building), those before it are in the snapshot. Until the build
// completes, readers use the old filter, or none (every lookup goes to
// Pebble); a failed or stopped build leaves it so.
func (t *Tree) startFilterBuild() {
	t.buildMu.Lock()
	defer t.buildMu.Unlock()
	if t.build != nil {
		return
	}
	f := newKeyFilter(2*int(t.applied.Load().nodes), t.filterMinKeys)
	t.building.Store(f)
	snap := t.db.NewSnapshot()
	b := &filterBuild{done: make(chan struct{})}
	t.build = b
	go func() {
		defer close(b.done)
		err := f.fill(snap, &b.stop, t.filterHook)
		err = errors.Join(err, snap.Close())
		if err == nil && !b.stop.Load() {
			t.filter.Store(f) // before building is cleared: see Group.Commit
		} else if err != nil {
			t.log.Warn("znode: building the key filter; lookups go to Pebble", "err", err)
		}
		t.building.Store(nil)
		t.buildMu.Lock()
		if t.build == b {
			t.build = nil
		}
		t.buildMu.Unlock()
	}()
}

// stopFilterBuild stops a running build and waits for it (Close, Restore).
func (t *Tree) stopFilterBuild() {
	t.buildMu.Lock()
	b := t.build
	t.build = nil
	t.buildMu.Unlock()
	if b != nil {
		b.stop.Store(true)
		<-b.done
	}
}

// fill adds every key of snap, in batches under f.mu, until stop.
func (f *keyFilter) fill(snap pebble.Reader, stop *atomic.Bool, hook func()) error {
	if hook != nil {
		hook()
	}
	it, err := snap.NewIter(nil)
	if err != nil {
		return err
	}
	n := 0
	var batch []uint64
	flush := func() {
		f.mu.Lock()
		for _, h := range batch {
			f.insertLocked(h)
		}
		f.mu.Unlock()
		batch = batch[:0]
	}
	for ok := it.First(); ok && !stop.Load(); ok = it.Next() {
		batch = append(batch, f.hash(it.Key()))
		n++
		if len(batch) == 1024 {
			flush()
		}
	}
	flush()
	f.mu.Lock()
	f.built = n
	f.mu.Unlock()
	return it.Close()
}

// addToFilters records the keys a commit is about to write in the filter
// readers use and in one being built, and starts a rebuild when the
// former is stale. The caller is the goroutine that commits.
func (t *Tree) addToFilters(writes map[string]write) (rebuild bool) {
	// building before filter: a build that completes in between has
	// stored its filter before clearing building, so the keys reach it.
	b := t.building.Load()
	f := t.filter.Load()
	if b != nil {
		b.add(writes)
	}
	return f != nil && f != b && f.add(writes)
}
