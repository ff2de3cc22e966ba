package sim

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble/v2/vfs"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/entry"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/znode"
)

// reference is the committed history as the peers applied it: the chain
// of committed entries in zxid order, learnt from the first peer to apply
// each one, applied to a tree of its own. Every other apply, on any peer,
// must match it: the same zxid after the same predecessor, the same digest.
// It also keeps, for every path under the workload's roots, its state after
// every change, so that reads can be checked against the state at a zxid.
type reference struct {
	tree    *znode.Tree
	chain   []*refTxn
	index   map[int64]int // zxid -> position in chain
	last    int64
	digest0 uint64

	states   map[string][]keyState // path -> its states, in zxid order
	children map[string][]string   // parent -> paths ever created below it
	seqLast  map[string]int64      // parent -> last sequence number assigned
	bad      []string              // problems found while extending the chain
}

// refTxn is one committed entry.
type refTxn struct {
	zxid      int64
	raw       []byte // the entry as logged
	en        entry.Entry
	digest    uint64
	first     int64 // event time of its first apply anywhere
	firstTick int64
	changes   []znode.Change
	matched   bool // a client operation was found for it
	failed    bool // a request that failed: applied as a no-op
}

// keyState is a node's state from zxid on (until the next one).
type keyState struct {
	zxid    int64
	exists  bool
	data    string
	version int32
	owner   int64
}

func newReference() (*reference, error) {
	// The peers' trees take data up to zk.MaxJuteMaxBuffer, the same on every peer.
	t, err := znode.Open(znode.Options{FS: vfs.NewMem(), Dir: "/ref", MaxDataSize: zk.MaxJuteMaxBuffer, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("sim: opening the reference tree: %w", err)
	}
	_, d := t.Applied()
	return &reference{tree: t, index: map[int64]int{}, digest0: d, states: map[string][]keyState{},
		children: map[string][]string{}, seqLast: map[string]int64{}}, nil
}

func (r *reference) close() { r.tree.Close() }

// digestAt returns the digest after zxid, if zxid is 0 or in the chain.
func (r *reference) digestAt(zxid int64) (uint64, bool) {
	if zxid == 0 {
		return r.digest0, true
	}
	i, ok := r.index[zxid]
	if !ok {
		return 0, false
	}
	return r.chain[i].digest, true
}

// pred returns the zxid before the chain's zxid at position i.
func (r *reference) pred(i int) int64 {
	if i == 0 {
		return 0
	}
	return r.chain[i-1].zxid
}

// extend appends the committed entry raw at zxid, applies it, and returns
// the reference digest after it.
func (r *reference) extend(zxid int64, raw []byte, first, tick int64) (uint64, error) {
	data := raw
	if _, payload, ok, err := zab.DecodeConfigEntry(raw); ok {
		if err != nil {
			return 0, fmt.Errorf("configuration entry %#x: %w", zxid, err)
		}
		data = payload // a reconfig: the setData of /zookeeper/config
	}
	en, err := entry.Decode(data)
	if err != nil {
		return 0, fmt.Errorf("entry %#x: %w", zxid, err)
	}
	txn := en.Txn
	if len(en.Failure) > 0 {
		// A request that failed in the leader's pipeline, ordered by a no-op.
		txn = &znode.Txn{Type: znode.TxnNoop, Session: en.Txn.Session, Time: en.Txn.Time}
	}
	res, changes, err := r.tree.Apply(zxid, txn)
	if err != nil {
		return 0, fmt.Errorf("reference apply %#x: %w", zxid, err)
	}
	_, d := r.tree.Applied()
	t := &refTxn{zxid: zxid, raw: raw, en: en, digest: d, first: first, firstTick: tick, changes: changes,
		failed: len(en.Failure) > 0}
	r.index[zxid] = len(r.chain)
	r.chain = append(r.chain, t)
	r.last = zxid
	if res.Err == nil {
		r.record(zxid, txn, changes)
	}
	return d, nil
}

// tracked reports whether path is one the workload reads.
func tracked(path string) bool {
	for _, root := range roots {
		if path == root || strings.HasPrefix(path, root+"/") {
			return true
		}
	}
	return false
}

// record keeps the states of the changed paths and checks sequence numbers.
func (r *reference) record(zxid int64, txn *znode.Txn, changes []znode.Change) {
	for _, c := range changes {
		if !tracked(c.Path) {
			continue
		}
		st := keyState{zxid: zxid}
		n, err := r.tree.Get(c.Path)
		switch {
		case err == nil:
			st.exists, st.data, st.version, st.owner = true, string(n.Data), n.Stat.Version, n.Stat.EphemeralOwner
		case !errors.Is(err, zkerr.ErrNoNode):
			r.bad = append(r.bad, fmt.Sprintf("reference read %s: %v", c.Path, err))
		}
		if _, ok := r.states[c.Path]; !ok {
			parent := znode.Parent(c.Path)
			r.children[parent] = append(r.children[parent], c.Path)
		}
		r.states[c.Path] = append(r.states[c.Path], st)
	}
	for _, t := range append([]znode.Txn{*txn}, txn.Ops...) {
		if t.Type == znode.TxnCreate && sequential(t.Mode) {
			r.checkSequence(zxid, t.Path)
		}
	}
}

func sequential(m zk.CreateMode) bool {
	return m == zk.ModePersistentSequential || m == zk.ModeEphemeralSequential || m == zk.ModePersistentSequentialWithTTL
}

// checkSequence: sequence numbers under one parent are unique and increase.
func (r *reference) checkSequence(zxid int64, path string) {
	if len(path) < 10 {
		r.bad = append(r.bad, fmt.Sprintf("zxid %#x: sequential path %q has no suffix", zxid, path))
		return
	}
	n, err := strconv.ParseInt(path[len(path)-10:], 10, 64)
	if err != nil {
		r.bad = append(r.bad, fmt.Sprintf("zxid %#x: sequential path %q: %v", zxid, path, err))
		return
	}
	parent := znode.Parent(path)
	if last, ok := r.seqLast[parent]; ok && n <= last {
		r.bad = append(r.bad, fmt.Sprintf("zxid %#x: sequence %d under %s after %d", zxid, n, parent, last))
	}
	r.seqLast[parent] = n
}

// stateAt returns path's state after zxid.
func (r *reference) stateAt(path string, zxid int64) keyState {
	sts := r.states[path]
	i := sort.Search(len(sts), func(i int) bool { return sts[i].zxid > zxid })
	if i == 0 {
		return keyState{}
	}
	return sts[i-1]
}

// childrenAt returns the names of parent's children after zxid, sorted.
func (r *reference) childrenAt(parent string, zxid int64) []string {
	var out []string
	for _, p := range r.children[parent] {
		if r.stateAt(p, zxid).exists {
			out = append(out, znode.Base(p))
		}
	}
	sort.Strings(out)
	return out
}

// nextChange returns the first change after zxid that fires a watch
// described by fires (0 if none), as the chain recorded it.
func (r *reference) nextChange(zxid int64, fires func(znode.Change) bool) (znode.Change, bool) {
	i := sort.Search(len(r.chain), func(i int) bool { return r.chain[i].zxid > zxid })
	for ; i < len(r.chain); i++ {
		for _, c := range r.chain[i].changes {
			if fires(c) {
				return c, true
			}
		}
	}
	return znode.Change{}, false
}
