package znode

import (
	"bytes"
	"fmt"

	"github.com/embedzk/zk/internal/zkerr"
)

// Pending is the leader's speculative view: the effects of txns that were
// prepared (proposed) but are not yet applied to the Tree, laid over the
// Tree. It is used by one goroutine; the Tree may apply concurrently.
//
// The overlay maps keys to their latest prepared value (or deletion), each
// tagged with the zxid of the txn that wrote it. Every txn the Tree applies
// must have been prepared (staged and kept) on this Pending (until Reset),
// so a key that is not in the overlay has the same value in Pebble whether
// or not the Tree has applied the txns still in flight; a staged txn that
// is not kept must never be applied.
type Pending struct {
	t       *Tree
	entries map[string]pendingEntry
	// queue holds each kept txn, in zxid order, so that Applied forgets
	// entries without scanning the whole overlay.
	queue      []*Kept
	lastZxid   int64
	lastDigest uint64
	// staged is the txn Stage ran last, until Keep or Discard.
	staged *Kept
}

// Kept is a txn that a Pending staged and kept: its Result, its Changes and
// everything it wrote, as the txn computed them on the tree plus the txns
// kept before it. Group.ApplyKept applies it without running the txn again.
// It is immutable once kept.
type Kept struct {
	zxid    int64
	base    int64  // the zxid of the state the txn ran on
	before  uint64 // and the tree digest there
	digest  uint64 // the tree digest after it
	writes  map[string]write
	nodes   int64
	sizes   treeSizes
	res     Result
	changes []Change
	notes   []quotaNote
	view    view // where Stage ran the txn
}

// Zxid returns the zxid the txn was staged at.
func (k *Kept) Zxid() int64 { return k.zxid }

type pendingEntry struct {
	write
	zxid int64
}

// NewPending returns an empty Pending over t.
func (t *Tree) NewPending() *Pending {
	return &Pending{t: t, entries: make(map[string]pendingEntry)}
}

func (p *Pending) get(key []byte) ([]byte, bool, error) {
	if e, ok := p.entries[string(key)]; ok {
		return e.val, !e.del, nil
	}
	return treeReader{p.t}.get(key)
}

func (p *Pending) scan(prefix []byte, fn func(key, val []byte) bool) error {
	lookup := func(k string) write { return p.entries[k].write }
	return mergeScan(pebbleReader{p.t.db}, prefix, overlayKeys(p.entries, prefix), lookup, fn)
}

// digest returns the zxid and the tree digest after every txn prepared so
// far.
func (p *Pending) digest() (int64, uint64) {
	m := p.t.applied.Load()
	if p.lastZxid > m.zxid {
		return p.lastZxid, p.lastDigest
	}
	return m.zxid, m.digest
}

// Prepare runs txn at zxid with exactly Apply's semantics, against the Tree
// plus the overlay, without writing to Pebble, checking permissions with
// authorize (nil allows everything) where ZooKeeper checks them. It
// resolves the txn in place: a sequential create's Path (also inside a
// multi) gets its sequence suffix. If the txn succeeds its effects are
// recorded in the overlay, tagged with zxid; if it fails nothing is
// recorded and txn is unchanged. It returns the Result and the tree digest
// after the txn (the current one if it failed). A storage failure reads as
// Result.Err wrapping zkerr.ErrSystem. zxids must increase from one Prepare
// to the next. Prepare is Stage then Keep.
func (p *Pending) Prepare(zxid int64, txn *Txn, authorize func(acl []ACL, perm Perm) error) (Result, uint64) {
	res, digest := p.Stage(zxid, txn, authorize)
	p.Keep()
	return res, digest
}

// Stage runs txn as Prepare does but holds its effects aside instead of
// recording them: Keep records them in the overlay; Discard, or the next
// Stage or Prepare, forgets them, and the overlay is then exactly as if
// txn had never been staged (the next txn may be staged at the same zxid).
// A leader stages a txn, proposes it, and keeps it only once the log took
// it, so a txn the log refuses never disturbs the pending view of the
// others. A staged txn is resolved in place (its sequence suffix) whether
// or not it is kept.
func (p *Pending) Stage(zxid int64, txn *Txn, authorize func(acl []ACL, perm Perm) error) (Result, uint64) {
	p.staged = nil
	base, before := p.digest()
	if txn == nil {
		return Result{Err: fmt.Errorf("%w: nil txn", zkerr.ErrBadArguments)}, before
	}
	// The txn runs in a view inside the Kept that records it: one
	// allocation for both.
	k := &Kept{zxid: zxid, base: base, before: before, view: view{base: p, writes: make(map[string]write, 8)}}
	st := &state{v: &k.view, zxid: zxid, maxData: p.t.opts.MaxDataSize, authorize: authorize, resolve: true,
		wantChanges: true, quota: quotaState{enforce: p.t.opts.EnforceQuota}, noDigestACL: p.t.opts.NoDigestACL}
	res, err := st.exec(txn)
	p.t.quota.note(st.quota.notes, true, p.t.log)
	if err != nil {
		return Result{Err: fmt.Errorf("%w: prepare 0x%x: %v", zkerr.ErrSystem, zxid, err)}, before
	}
	if res.Err != nil {
		return res, before
	}
	switch txn.Type {
	case TxnCreate:
		txn.Path = res.Path
	case TxnMulti:
		for i := range txn.Ops {
			if txn.Ops[i].Type == TxnCreate {
				txn.Ops[i].Path = res.Multi[i].Path
			}
		}
	}
	v := st.v
	k.digest, k.writes, k.nodes, k.sizes = before+v.digest, v.writes, v.nodes, v.sizes
	k.res, k.changes, k.notes = res, st.changes, st.quota.notes
	p.staged = k
	return res, k.digest
}

// Keep records the staged txn's effects in the overlay and returns them,
// for Group.ApplyKept; it returns nil, and does nothing, if nothing is
// staged (the txn failed, or it was discarded).
func (p *Pending) Keep() *Kept {
	s := p.staged
	if s == nil {
		return nil
	}
	p.staged = nil
	for k, w := range s.writes {
		p.entries[k] = pendingEntry{write: w, zxid: s.zxid}
	}
	p.queue = append(p.queue, s)
	p.lastZxid = s.zxid
	p.lastDigest = s.digest
	return s
}

// Discard forgets the staged txn, if any.
func (p *Pending) Discard() { p.staged = nil }

// Applied tells the Pending that the Tree has applied every txn up to zxid:
// overlay entries whose latest tag is <= zxid are forgotten.
func (p *Pending) Applied(zxid int64) {
	i := 0
	for ; i < len(p.queue) && p.queue[i].zxid <= zxid; i++ {
		q := p.queue[i]
		for k := range q.writes {
			if e, ok := p.entries[k]; ok && e.zxid == q.zxid {
				delete(p.entries, k)
			}
		}
	}
	if i > 0 {
		clear(p.queue[:i])
		p.queue = p.queue[i:]
	}
}

// Reset forgets everything prepared and staged.
func (p *Pending) Reset() {
	p.staged = nil
	clear(p.entries)
	p.queue = nil
	p.lastZxid = 0
	p.lastDigest = 0
}

// Len returns the number of overlay entries held.
func (p *Pending) Len() int { return len(p.entries) }

// Stat returns the node at path (Stat and ACL, no data) as the prepared
// txns leave it.
func (p *Pending) Stat(path string) (Node, error) {
	if err := ValidatePath(path); err != nil {
		return Node{}, err
	}
	return lookupNode(p, path, false)
}

// Get returns the node at path with its data, as the prepared txns leave
// it. The data is a copy owned by the caller.
func (p *Pending) Get(path string) (Node, error) {
	if err := ValidatePath(path); err != nil {
		return Node{}, err
	}
	n, err := lookupNode(p, path, true)
	if err == nil {
		n.Data = bytes.Clone(n.Data) // keeps null (nil) apart from empty
	}
	return n, err
}
