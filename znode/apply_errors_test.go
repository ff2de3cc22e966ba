package znode

import (
	"errors"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/google/go-cmp/cmp"
)

// rawDump returns every key and value in the tree's Pebble but the meta
// record.
func rawDump(t testing.TB, tr *Tree) map[string]string {
	t.Helper()
	out := map[string]string{}
	it, err := tr.db.NewIter(&pebble.IterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if string(it.Key()) == string(metaKey) {
			continue
		}
		out[string(it.Key())] = string(it.Value())
	}
	return out
}

// errorCase is one failing txn: setup builds the state, txn must fail with
// every error in want and change nothing but the applied zxid.
type errorCase struct {
	name  string
	setup func(h *harness)
	txn   Txn
	want  []error
}

// applyOnly names the cases only Apply can see: Prepare resolves the
// sequence suffix itself.
var applyOnly = map[string]bool{"wrong sequence suffix": true, "sequential path without suffix": true}

func base(h *harness) {
	h.session(7)
	h.create("/a", "data")
	h.create("/a/b", "")
	h.ok(Txn{Type: TxnCreate, Path: "/eph", Mode: ModeEphemeral, Session: 7, ACL: OpenACLUnsafe()})
	h.ok(Txn{Type: TxnCreate, Path: "/cont", Mode: ModeContainer, ACL: OpenACLUnsafe()})
	h.ok(Txn{Type: TxnCreate, Path: "/ttl", Mode: ModePersistentWithTTL, TTL: 1000, ACL: OpenACLUnsafe()})
}

var open = OpenACLUnsafe()

func createErrorCases() []errorCase {
	big := make([]byte, DefaultMaxDataSize+1)
	return []errorCase{
		{"parent missing", base, Txn{Type: TxnCreate, Path: "/x/y", ACL: open}, []error{zkerr.ErrNoNode}},
		{"exists", base, Txn{Type: TxnCreate, Path: "/a", ACL: open}, []error{zkerr.ErrNodeExists}},
		{"root exists", base, Txn{Type: TxnCreate, Path: "/", ACL: open}, []error{zkerr.ErrNodeExists}},
		{"under ephemeral", base, Txn{Type: TxnCreate, Path: "/eph/c", ACL: open}, []error{zkerr.ErrNoChildrenForEphemerals}},
		{"exists beats ephemeral parent", func(h *harness) {
			base(h)
		}, Txn{Type: TxnCreate, Path: "/eph", ACL: open}, []error{zkerr.ErrNodeExists}},
		{"invalid path", base, Txn{Type: TxnCreate, Path: "/a//b", ACL: open}, []error{zkerr.ErrBadArguments, zkerr.ErrInvalidPath}},
		{"relative path", base, Txn{Type: TxnCreate, Path: "/a/..", ACL: open}, []error{zkerr.ErrBadArguments, zkerr.ErrInvalidPath}},
		{"trailing slash", base, Txn{Type: TxnCreate, Path: "/a/", ACL: open}, []error{zkerr.ErrBadArguments, zkerr.ErrInvalidPath}},
		{"data too large", base, Txn{Type: TxnCreate, Path: "/big", Data: big, ACL: open}, []error{zkerr.ErrBadArguments, zkerr.ErrDataTooLarge}},
		{"bad mode", base, Txn{Type: TxnCreate, Path: "/m", Mode: 8, ACL: open}, []error{zkerr.ErrBadArguments}},
		{"ttl zero", base, Txn{Type: TxnCreate, Path: "/t0", Mode: ModePersistentWithTTL, ACL: open}, []error{zkerr.ErrBadArguments}},
		{"ttl too big", base, Txn{Type: TxnCreate, Path: "/t1", Mode: ModePersistentSequentialWithTTL, TTL: MaxTTL + 1, ACL: open}, []error{zkerr.ErrBadArguments}},
		{"ttl on persistent", base, Txn{Type: TxnCreate, Path: "/t2", TTL: 5, ACL: open}, []error{zkerr.ErrBadArguments}},
		{"ephemeral without session", base, Txn{Type: TxnCreate, Path: "/e0", Mode: ModeEphemeral, ACL: open}, []error{zkerr.ErrBadArguments}},
		{"ephemeral of unknown session", base, Txn{Type: TxnCreate, Path: "/e1", Mode: ModeEphemeral, Session: 99, ACL: open}, []error{zkerr.ErrSessionExpired}},
		{"empty acl", base, Txn{Type: TxnCreate, Path: "/n"}, []error{zkerr.ErrInvalidACL}},
		{"unexpanded auth acl", base, Txn{Type: TxnCreate, Path: "/n", ACL: CreatorAllACL()}, []error{zkerr.ErrInvalidACL}},
		{"bad digest acl", base, Txn{Type: TxnCreate, Path: "/n", ACL: []ACL{{PermAll, SchemeDigest, "nocolon"}}}, []error{zkerr.ErrInvalidACL}},
		{"world:other acl", base, Txn{Type: TxnCreate, Path: "/n", ACL: []ACL{{PermAll, SchemeWorld, "someone"}}}, []error{zkerr.ErrInvalidACL}},
		{"/zookeeper exists", base, Txn{Type: TxnCreate, Path: "/zookeeper", ACL: open}, []error{zkerr.ErrNodeExists}},
		{"/zookeeper/config exists", base, Txn{Type: TxnCreate, Path: "/zookeeper/config", ACL: open}, []error{zkerr.ErrNodeExists}},
		{"wrong sequence suffix", base, Txn{Type: TxnCreate, Path: "/a/s0000000000", Mode: ModePersistentSequential, ACL: open}, []error{zkerr.ErrBadArguments}},
		{"sequential path without suffix", base, Txn{Type: TxnCreate, Path: "/s", Mode: ModePersistentSequential, ACL: open}, []error{zkerr.ErrBadArguments}},
	}
}

func otherErrorCases() []errorCase {
	big := make([]byte, DefaultMaxDataSize+1)
	return []errorCase{
		{"delete missing", base, Txn{Type: TxnDelete, Path: "/zz", Version: -1}, []error{zkerr.ErrNoNode}},
		{"delete parent missing", base, Txn{Type: TxnDelete, Path: "/zz/y", Version: -1}, []error{zkerr.ErrNoNode}},
		{"delete bad version", base, Txn{Type: TxnDelete, Path: "/a/b", Version: 3}, []error{zkerr.ErrBadVersion}},
		{"delete not empty", base, Txn{Type: TxnDelete, Path: "/a", Version: -1}, []error{zkerr.ErrNotEmpty}},
		{"delete: version before emptiness", base, Txn{Type: TxnDelete, Path: "/a", Version: 5}, []error{zkerr.ErrBadVersion}},
		{"delete root", base, Txn{Type: TxnDelete, Path: "/", Version: -1}, []error{zkerr.ErrBadArguments}},
		{"delete /zookeeper", base, Txn{Type: TxnDelete, Path: "/zookeeper", Version: -1}, []error{zkerr.ErrBadArguments}},
		{"delete /zookeeper/config", base, Txn{Type: TxnDelete, Path: "/zookeeper/config", Version: -1}, []error{zkerr.ErrBadArguments}},
		{"delete /zookeeper/quota", base, Txn{Type: TxnDelete, Path: "/zookeeper/quota", Version: -1}, []error{zkerr.ErrBadArguments}},
		{"delete built-in: checked before the version", base, Txn{Type: TxnDelete, Path: "/zookeeper", Version: 9}, []error{zkerr.ErrBadArguments}},
		{"delete invalid path", base, Txn{Type: TxnDelete, Path: "a", Version: -1}, []error{zkerr.ErrBadArguments, zkerr.ErrInvalidPath}},
		{"set missing", base, Txn{Type: TxnSetData, Path: "/zz", Version: -1}, []error{zkerr.ErrNoNode}},
		{"set bad version", base, Txn{Type: TxnSetData, Path: "/a", Version: 1}, []error{zkerr.ErrBadVersion}},
		{"set too large", base, Txn{Type: TxnSetData, Path: "/a", Data: big, Version: -1}, []error{zkerr.ErrDataTooLarge}},
		{"set /zookeeper bad version", base, Txn{Type: TxnSetData, Path: "/zookeeper", Version: 7}, []error{zkerr.ErrBadVersion}},
		{"setACL missing", base, Txn{Type: TxnSetACL, Path: "/zz", ACL: open, Version: -1}, []error{zkerr.ErrNoNode}},
		{"setACL bad aversion", base, Txn{Type: TxnSetACL, Path: "/a", ACL: open, Version: 2}, []error{zkerr.ErrBadVersion}},
		{"setACL invalid", base, Txn{Type: TxnSetACL, Path: "/a", Version: -1}, []error{zkerr.ErrInvalidACL}},
		{"setACL /zookeeper/config bad aversion", base, Txn{Type: TxnSetACL, Path: "/zookeeper/config", ACL: open, Version: 0}, []error{zkerr.ErrBadVersion}},
		{"check outside multi", base, Txn{Type: TxnCheck, Path: "/a", Version: 0}, []error{zkerr.ErrBadArguments}},
		{"unknown type", base, Txn{Type: 99}, []error{zkerr.ErrBadArguments}},
		{"create session 0", base, Txn{Type: TxnCreateSession}, []error{zkerr.ErrBadArguments}},
		{"reap missing", base, Txn{Type: TxnDeleteContainer, Path: "/zz"}, []error{zkerr.ErrNoNode}},
		{"reap not empty", func(h *harness) {
			base(h)
			h.create("/cont/kid", "")
		}, Txn{Type: TxnDeleteContainer, Path: "/cont"}, []error{zkerr.ErrNotEmpty}},
		{"reap persistent", base, Txn{Type: TxnDeleteContainer, Path: "/a/b"}, []error{zkerr.ErrBadVersion}},
		{"reap ephemeral", base, Txn{Type: TxnDeleteContainer, Path: "/eph"}, []error{zkerr.ErrBadVersion}},
		{"reap never-used container", base, Txn{Type: TxnDeleteContainer, Path: "/cont"}, []error{zkerr.ErrBadVersion}},
		{"reap unexpired ttl", base, Txn{Type: TxnDeleteContainer, Path: "/ttl", Time: 1}, []error{zkerr.ErrBadVersion}},
		{"reap /zookeeper", base, Txn{Type: TxnDeleteContainer, Path: "/zookeeper/quota"}, []error{zkerr.ErrBadArguments}},
	}
}

func multiErrorCases() []errorCase {
	return []errorCase{
		{"multi check missing", base, Txn{Type: TxnMulti, Ops: []Txn{{Type: TxnCheck, Path: "/zz", Version: -1}}}, []error{zkerr.ErrNoNode}},
		{"multi check version", base, Txn{Type: TxnMulti, Ops: []Txn{{Type: TxnCheck, Path: "/a", Version: 4}}}, []error{zkerr.ErrBadVersion}},
		{"multi bad op type", base, Txn{Type: TxnMulti, Ops: []Txn{{Type: TxnSetACL, Path: "/a", ACL: open, Version: -1}}}, []error{zkerr.ErrBadArguments}},
		{"multi nested", base, Txn{Type: TxnMulti, Ops: []Txn{{Type: TxnMulti}}}, []error{zkerr.ErrBadArguments}},
		{"multi late failure", base, Txn{Type: TxnMulti, Ops: []Txn{
			{Type: TxnCreate, Path: "/m1", ACL: open},
			{Type: TxnSetData, Path: "/a", Data: []byte("new"), Version: -1},
			{Type: TxnDelete, Path: "/a/b", Version: -1},
			{Type: TxnDelete, Path: "/a", Version: 7},
		}}, []error{zkerr.ErrBadVersion}},
	}
}

func TestApplyErrors(t *testing.T) {
	var cases []errorCase
	cases = append(cases, createErrorCases()...)
	cases = append(cases, otherErrorCases()...)
	cases = append(cases, multiErrorCases()...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			c.setup(h)
			dump := rawDump(t, h.tree)
			zxid, digest := h.tree.Applied()
			count := h.tree.NodeCount()
			txn := c.txn
			r, changes := h.apply(txn)
			for _, w := range c.want {
				if !errors.Is(r.Err, w) {
					t.Fatalf("Result.Err = %v, want %v", r.Err, w)
				}
			}
			if changes != nil {
				t.Fatalf("changes %+v for a failed txn", changes)
			}
			z2, d2 := h.tree.Applied()
			if z2 != zxid+1 || d2 != digest || h.tree.NodeCount() != count {
				t.Fatalf("Applied %d,%#x -> %d,%#x; count %d -> %d", zxid, digest, z2, d2, count, h.tree.NodeCount())
			}
			if diff := cmp.Diff(dump, rawDump(t, h.tree)); diff != "" {
				t.Fatalf("a failed txn changed the tree (-before +after):\n%s", diff)
			}
			if applyOnly[c.name] {
				return
			}
			// Prepare must fail the same way and record nothing.
			p := h.tree.NewPending()
			txn = c.txn
			pr, pd := p.Prepare(h.zxid+1, &txn, nil)
			if codeOf(pr.Err) != codeOf(r.Err) || pd != d2 || p.Len() != 0 {
				t.Fatalf("Prepare: %v digest %#x len %d; Apply: %v", pr.Err, pd, p.Len(), r.Err)
			}
			if txn.Path != c.txn.Path || !cmp.Equal(txn.Ops, c.txn.Ops) {
				t.Fatalf("a failed Prepare changed the txn: %+v", txn)
			}
			if c.txn.Type == TxnMulti {
				checkFailedMulti(t, r)
			}
		})
	}
}

// checkFailedMulti checks the per-op results of a failed multi.
func checkFailedMulti(t *testing.T, r Result) {
	t.Helper()
	failed := -1
	for i, op := range r.Multi {
		switch {
		case failed < 0 && op.Err == nil:
			if op.Path != "" || op.Stat != (Stat{}) {
				t.Fatalf("op %d before the failure carries %+v", i, op)
			}
		case failed < 0:
			failed = i
			if op.Err != r.Err {
				t.Fatalf("failing op %d: %v, multi: %v", i, op.Err, r.Err)
			}
		case !errors.Is(op.Err, zkerr.ErrRuntimeInconsistency):
			t.Fatalf("op %d after the failure: %v", i, op.Err)
		}
	}
	if failed < 0 {
		t.Fatalf("no failing op in %+v", r.Multi)
	}
}

func TestErrorMessagesNamePath(t *testing.T) {
	h := newHarness(t)
	r, _ := h.apply(Txn{Type: TxnDelete, Path: "/nothing", Version: -1})
	if !strings.Contains(r.Err.Error(), "/nothing") {
		t.Fatalf("error %q does not name the path", r.Err)
	}
}
