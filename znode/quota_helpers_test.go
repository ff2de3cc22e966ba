package znode

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/embedzk/zk/internal/zkerr"
)

// quotaPipe runs txns as the engine's pipeline does: Prepare on the
// leader's Pending (enforcing quotas or not), then Apply of the prepared txn
// (a no-op if it failed) on the leader's tree and on a follower's tree,
// checking that Prepare, both Applies and both digests agree.
type quotaPipe struct {
	t                *testing.T
	leader, follower *Tree
	p                *Pending
	zxid, now        int64
}

func newQuotaPipe(t *testing.T, enforce bool) *quotaPipe {
	t.Helper()
	open := func(enforce bool) *Tree {
		opts := testOptions(vfs.NewMem())
		opts.EnforceQuota = enforce
		tr, err := Open(opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tr.Close() })
		return tr
	}
	// The follower's setting must not matter: Apply never enforces.
	q := &quotaPipe{t: t, leader: open(enforce), follower: open(!enforce), zxid: 0x100000000, now: 1_700_000_000_000}
	q.p = q.leader.NewPending()
	return q
}

// run prepares and applies txn, returning what Prepare answered, with the
// authorizer authorize (nil allows everything).
func (q *quotaPipe) runAs(txn Txn, authorize func([]ACL, Perm) error) (Result, []Change) {
	q.t.Helper()
	q.zxid++
	q.now += 7
	if txn.Time == 0 {
		txn.Time = q.now
	}
	res, digest := q.p.Prepare(q.zxid, &txn, authorize)
	applied := txn
	if res.Err != nil {
		applied = Txn{Type: TxnNoop, Time: txn.Time}
	}
	var changes []Change
	for i, tr := range []*Tree{q.leader, q.follower} {
		got, ch, err := tr.Apply(q.zxid, &applied)
		if err != nil {
			q.t.Fatalf("apply %v %s: %v", txn.Type, txn.Path, err)
		}
		if res.Err == nil && got.Err != nil {
			q.t.Fatalf("tree %d: prepare succeeded, apply failed: %v", i, got.Err)
		}
		if _, d := tr.Applied(); d != digest {
			q.t.Fatalf("tree %d: digest %#x after %v %s, prepared %#x", i, d, txn.Type, txn.Path, digest)
		}
		changes = ch
	}
	q.p.Applied(q.zxid)
	return res, changes
}

func (q *quotaPipe) run(txn Txn) Result {
	q.t.Helper()
	r, _ := q.runAs(txn, nil)
	return r
}

// ok runs txn and fails the test unless it succeeds.
func (q *quotaPipe) ok(txn Txn) Result {
	q.t.Helper()
	r := q.run(txn)
	if r.Err != nil {
		q.t.Fatalf("%v %q: %v", txn.Type, txn.Path, r.Err)
	}
	return r
}

func (q *quotaPipe) create(path, data string) {
	q.t.Helper()
	q.ok(Txn{Type: TxnCreate, Path: path, Data: []byte(data), ACL: OpenACLUnsafe()})
}

// data returns the data of the node at path on the leader ("<none>" if
// there is none).
func (q *quotaPipe) data(path string) string {
	q.t.Helper()
	n, err := q.leader.Get(path)
	if err != nil {
		if codeOf(err) == zkerr.CodeNoNode {
			return "<none>"
		}
		q.t.Fatal(err)
	}
	return string(n.Data)
}

// usage returns the usage of the quota on path as its stats node says.
func (q *quotaPipe) usage(path string) QuotaUsage {
	q.t.Helper()
	u, err := ParseQuotaUsage([]byte(q.data(QuotaStatsPath(path))))
	if err != nil {
		q.t.Fatal(err)
	}
	return u
}

// verify checks the quota invariant and that both trees hold the same
// quotas.
func (q *quotaPipe) verify() {
	q.t.Helper()
	for _, tr := range []*Tree{q.leader, q.follower} {
		if err := tr.VerifyQuotas(); err != nil {
			q.t.Fatal(err)
		}
	}
	a, err := q.leader.Quotas()
	if err != nil {
		q.t.Fatal(err)
	}
	b, err := q.follower.Quotas()
	if err != nil {
		q.t.Fatal(err)
	}
	if len(a) != len(b) {
		q.t.Fatalf("leader quotas %v, follower %v", a, b)
	}
	for i := range a {
		if a[i] != b[i] {
			q.t.Fatalf("leader quotas %v, follower %v", a, b)
		}
	}
}

// lim builds QuotaLimits from the four zkCli flags, 0 meaning not given.
func lim(n, b, hardN, hardB int64) QuotaLimits {
	l := NoQuotaLimits
	if n != 0 {
		l.Count = n
	}
	if b != 0 {
		l.Bytes = b
	}
	if hardN != 0 {
		l.CountHard = hardN
	}
	if hardB != 0 {
		l.BytesHard = hardB
	}
	return l
}

func createTxn(path, data string) Txn {
	return Txn{Type: TxnCreate, Path: path, Data: []byte(data), ACL: OpenACLUnsafe()}
}

func setTxn(path, data string, version int32) Txn {
	return Txn{Type: TxnSetData, Path: path, Data: []byte(data), Version: version}
}

func deleteTxn(path string) Txn { return Txn{Type: TxnDelete, Path: path, Version: -1} }
