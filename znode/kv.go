package znode

import (
	"bytes"
	"errors"
	"sort"
	"strings"

	"github.com/cockroachdb/pebble/v2"
)

// The semantics of every txn are written once, over the small key-value
// interface below. Apply runs them on a view over Pebble and commits the
// view's writes in one batch; Prepare runs them on a view over the Pending
// overlay (itself over Pebble) and records the view's writes in the overlay.
// A failed txn (or multi) just drops its view.

// reader is a read-only ordered key-value store.
type reader interface {
	// get returns the value of key. The slice may be shared (with a cache,
	// an overlay or a view): the caller must not modify it.
	get(key []byte) ([]byte, bool, error)
	// scan calls fn for every key with prefix, in ascending order, until fn
	// returns false. The slices are valid only during the call.
	scan(prefix []byte, fn func(key, val []byte) bool) error
}

// pebbleReader reads a Pebble DB or snapshot.
type pebbleReader struct {
	r pebble.Reader
}

func (p pebbleReader) get(key []byte) ([]byte, bool, error) {
	v, closer, err := p.r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := make([]byte, len(v))
	copy(out, v)
	return out, true, closer.Close()
}

func (p pebbleReader) scan(prefix []byte, fn func(key, val []byte) bool) error {
	it, err := p.r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return err
		}
		if !fn(it.Key(), v) {
			break
		}
	}
	return it.Close()
}

// write is one buffered write: a value, or a deletion.
type write struct {
	val []byte
	del bool
}

// view buffers the writes of one txn over a base reader, and the txn's
// effect on the digest and the node count.
type view struct {
	base   reader
	writes map[string]write
	digest uint64 // added to the tree digest (mod 2^64)
	nodes  int64  // added to the node count
	sizes  treeSizes
}

func newView(base reader) *view {
	return &view{base: base, writes: make(map[string]write, 8)}
}

// reset empties v for the next txn over the same base, keeping its map's
// memory.
func (v *view) reset() {
	clear(v.writes)
	v.digest, v.nodes, v.sizes = 0, 0, treeSizes{}
}

func (v *view) get(key []byte) ([]byte, bool, error) {
	if w, ok := v.writes[string(key)]; ok {
		return w.val, !w.del, nil
	}
	return v.base.get(key)
}

func (v *view) set(key, val []byte) { v.writes[string(key)] = write{val: val} }

func (v *view) del(key []byte) { v.writes[string(key)] = write{del: true} }

func (v *view) scan(prefix []byte, fn func(key, val []byte) bool) error {
	return mergeScan(v.base, prefix, overlayKeys(v.writes, prefix), func(k string) write { return v.writes[k] }, fn)
}

// overlayKeys returns the keys of m with prefix, sorted.
func overlayKeys[W any](m map[string]W, prefix []byte) []string {
	var keys []string
	p := string(prefix)
	for k := range m {
		if strings.HasPrefix(k, p) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// mergeScan scans base under prefix with the overlay's writes (keys sorted,
// lookup returning each one's write) laid over it.
func mergeScan(base reader, prefix []byte, keys []string, lookup func(string) write, fn func(key, val []byte) bool) error {
	i := 0
	stopped := false
	// emitUntil emits the overlay's live keys that sort before limit (all of
	// them if limit is nil).
	emitUntil := func(limit []byte) {
		for ; i < len(keys) && !stopped; i++ {
			k := keys[i]
			if limit != nil && strings.Compare(k, string(limit)) >= 0 {
				return
			}
			if w := lookup(k); !w.del && !fn([]byte(k), w.val) {
				stopped = true
			}
		}
	}
	err := base.scan(prefix, func(key, val []byte) bool {
		emitUntil(key)
		if stopped {
			return false
		}
		if i < len(keys) && bytes.Equal([]byte(keys[i]), key) {
			w := lookup(keys[i])
			i++
			if w.del {
				return true
			}
			val = w.val
		}
		if !fn(key, val) {
			stopped = true
		}
		return !stopped
	})
	if err != nil {
		return err
	}
	emitUntil(nil)
	return nil
}
