package znode

import (
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
)

// TestQuotaLimits is the table of soft and hard limits, on count and bytes,
// for create, setData, delete, session close, reaping and multi. /a holds
// "x" (usage 1 node, 1 byte) when the quota is set; setup runs after.
func TestQuotaLimits(t *testing.T) {
	seq := Txn{Type: TxnCreate, Path: "/a/s-", Mode: ModePersistentSequential, ACL: OpenACLUnsafe()}
	multi := func(ops ...Txn) Txn { return Txn{Type: TxnMulti, Ops: ops} }
	cases := []struct {
		name      string
		notEnforc bool
		limits    QuotaLimits
		setup     []Txn
		op        Txn
		want      error
		usage     QuotaUsage
		exceeded  int64 // writes past a soft (or unenforced hard) limit, counted by Apply
		refused   int64 // writes refused, counted by Prepare
	}{
		{name: "soft count passes and counts", limits: lim(2, 0, 0, 0), setup: []Txn{createTxn("/a/1", "")},
			op: createTxn("/a/2", ""), usage: QuotaUsage{3, 1}, exceeded: 1},
		{name: "hard count refuses a create", limits: lim(0, 0, 2, 0), setup: []Txn{createTxn("/a/1", "")},
			op: createTxn("/a/2", ""), want: zkerr.ErrQuotaExceeded, usage: QuotaUsage{2, 1}, refused: 1},
		{name: "hard count reached exactly", limits: lim(0, 0, 3, 0), setup: []Txn{createTxn("/a/1", "")},
			op: createTxn("/a/2", ""), usage: QuotaUsage{3, 1}},
		{name: "hard count not enforced", notEnforc: true, limits: lim(0, 0, 2, 0), setup: []Txn{createTxn("/a/1", "")},
			op: createTxn("/a/2", ""), usage: QuotaUsage{3, 1}, exceeded: 1},
		{name: "soft and hard count: soft warns", limits: lim(2, 0, 3, 0), setup: []Txn{createTxn("/a/1", "")},
			op: createTxn("/a/2", ""), usage: QuotaUsage{3, 1}, exceeded: 1},
		{name: "hard count refuses a sequential create", limits: lim(0, 0, 1, 0),
			op: seq, want: zkerr.ErrQuotaExceeded, usage: QuotaUsage{1, 1}, refused: 1},
		{name: "hard count refuses a deeper create", limits: lim(0, 0, 2, 0), setup: []Txn{createTxn("/a/b", "")},
			op: createTxn("/a/b/c", ""), want: zkerr.ErrQuotaExceeded, usage: QuotaUsage{2, 1}, refused: 1},
		{name: "hard bytes refuses a create", limits: lim(0, 0, 0, 4),
			op: createTxn("/a/b", "1234"), want: zkerr.ErrQuotaExceeded, usage: QuotaUsage{1, 1}, refused: 1},
		{name: "hard bytes refuses a set", limits: lim(0, 0, 0, 4), setup: []Txn{createTxn("/a/b", "12")},
			op: setTxn("/a/b", "12345", -1), want: zkerr.ErrQuotaExceeded, usage: QuotaUsage{2, 3}, refused: 1},
		{name: "hard bytes allows a shrinking set", limits: lim(0, 0, 0, 4), setup: []Txn{createTxn("/a/b", "123")},
			op: setTxn("/a/b", "1", -1), usage: QuotaUsage{2, 2}},
		{name: "soft bytes on a set", limits: lim(0, 2, 0, 0), setup: []Txn{createTxn("/a/b", "")},
			op: setTxn("/a/b", "12", -1), usage: QuotaUsage{2, 3}, exceeded: 1},
		// ZooKeeper's order: the quota check comes before the version check
		// of a setData, after the existence checks of a create.
		{name: "set past the limit with a bad version", limits: lim(0, 0, 0, 1),
			op: setTxn("/a", "xx", 7), want: zkerr.ErrQuotaExceeded, usage: QuotaUsage{1, 1}, refused: 1},
		{name: "set within the limit with a bad version", limits: lim(0, 0, 0, 5),
			op: setTxn("/a", "xx", 7), want: zkerr.ErrBadVersion, usage: QuotaUsage{1, 1}},
		{name: "create of an existing node past the limit", limits: lim(0, 0, 1, 1),
			op: createTxn("/a", "xxxxx"), want: zkerr.ErrNodeExists, usage: QuotaUsage{1, 1}},
		{name: "create without a parent past the limit", limits: lim(0, 0, 1, 1),
			op: createTxn("/a/no/x", "xxxxx"), want: zkerr.ErrNoNode, usage: QuotaUsage{1, 1}},
		{name: "delete lowers the usage", limits: lim(0, 0, 2, 0), setup: []Txn{createTxn("/a/b", "abc")},
			op: deleteTxn("/a/b"), usage: QuotaUsage{1, 1}},
		{name: "deleting the quota's own node", limits: lim(0, 0, 2, 0),
			op: deleteTxn("/a"), usage: QuotaUsage{0, 0}},
		{name: "closing a session deletes its ephemerals from the usage", limits: lim(0, 0, 2, 0),
			setup: []Txn{{Type: TxnCreateSession, Session: 5, Timeout: 30000},
				{Type: TxnCreate, Session: 5, Path: "/a/e", Data: []byte("ab"), Mode: ModeEphemeral, ACL: OpenACLUnsafe()}},
			op: Txn{Type: TxnCloseSession, Session: 5}, usage: QuotaUsage{1, 1}},
		{name: "reaping a container lowers the usage", limits: lim(0, 0, 3, 0),
			setup: []Txn{{Type: TxnCreate, Path: "/a/c", Data: []byte("cc"), Mode: ModeContainer, ACL: OpenACLUnsafe()},
				createTxn("/a/c/x", ""), deleteTxn("/a/c/x")},
			op: Txn{Type: TxnDeleteContainer, Path: "/a/c"}, usage: QuotaUsage{1, 1}},
		{name: "writes outside the quota are not counted", limits: lim(0, 0, 1, 1),
			op: createTxn("/b", "xyz"), usage: QuotaUsage{1, 1}},
		{name: "writes in /zookeeper are not counted", limits: lim(0, 0, 1, 1),
			op: createTxn("/zookeeper/a", "xyz"), usage: QuotaUsage{1, 1}},
		// ZooKeeper checks each op of a multi against the committed tree
		// alone, so it lets this multi through; zk checks each op after the
		// ones before it.
		{name: "multi whose creates together pass the hard count", limits: lim(0, 0, 2, 0),
			op: multi(createTxn("/a/1", ""), createTxn("/a/2", "")), want: zkerr.ErrQuotaExceeded,
			usage: QuotaUsage{1, 1}, refused: 1},
		{name: "multi whose creates together pass the hard bytes", limits: lim(0, 0, 0, 10),
			op: multi(createTxn("/a/1", "123456"), createTxn("/a/2", "123456")), want: zkerr.ErrQuotaExceeded,
			usage: QuotaUsage{1, 1}, refused: 1},
		{name: "multi delete then create fits", limits: lim(0, 0, 2, 0), setup: []Txn{createTxn("/a/1", "")},
			op: multi(deleteTxn("/a/1"), createTxn("/a/2", "")), usage: QuotaUsage{2, 1}},
		{name: "multi set then shrink fits", limits: lim(0, 0, 0, 4), setup: []Txn{createTxn("/a/b", "")},
			op: multi(setTxn("/a/b", "123", -1), setTxn("/a/b", "", -1)), usage: QuotaUsage{2, 1}},
		{name: "multi failing after a counted op counts nothing", limits: lim(1, 0, 0, 0),
			op: multi(createTxn("/a/1", "12"), createTxn("/a/1", "")), want: zkerr.ErrNodeExists, usage: QuotaUsage{1, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := newQuotaPipe(t, !c.notEnforc)
			q.create("/a", "x")
			q.ok(*SetQuotaTxn("/a", c.limits))
			for _, s := range c.setup {
				q.ok(s)
			}
			before := map[*Tree]QuotaCounters{q.leader: q.leader.QuotaCounters(), q.follower: q.follower.QuotaCounters()}
			res := q.run(c.op)
			wantErr(t, res.Err, c.want)
			if got := q.usage("/a"); got != c.usage {
				t.Errorf("usage %+v, want %+v", got, c.usage)
			}
			for _, tr := range []*Tree{q.leader, q.follower} {
				got := tr.QuotaCounters()
				if d := got.Exceeded["a"] - before[tr].Exceeded["a"]; d != c.exceeded {
					t.Errorf("exceeded counter +%d, want +%d", d, c.exceeded)
				}
			}
			if d := q.leader.QuotaCounters().Refused["a"] - before[q.leader].Refused["a"]; d != c.refused {
				t.Errorf("refused counter +%d, want +%d", d, c.refused)
			}
			q.verify()
		})
	}
}

// TestQuotaRefusalChangesNothing: a refused create of a sequential node
// leaves the parent's cversion (the next suffix) as it was, and a refused
// multi reports ZooKeeper's per-op results.
func TestQuotaRefusalChangesNothing(t *testing.T) {
	q := newQuotaPipe(t, true)
	q.create("/a", "")
	q.ok(*SetQuotaTxn("/a", lim(0, 0, 2, 0)))
	before := stateOf(t, q.leader)
	res := q.run(Txn{Type: TxnMulti, Ops: []Txn{createTxn("/a/1", ""), createTxn("/a/2", ""), createTxn("/a/3", "")}})
	wantErr(t, res.Err, zkerr.ErrQuotaExceeded)
	codes := [3]zkerr.Code{codeOf(res.Multi[0].Err), codeOf(res.Multi[1].Err), codeOf(res.Multi[2].Err)}
	if codes != [3]zkerr.Code{zkerr.CodeOK, zkerr.CodeQuotaExceeded, zkerr.CodeRuntimeInconsistency} {
		t.Fatalf("per-op codes %v", codes)
	}
	after := stateOf(t, q.leader)
	if after.digest != before.digest || after.nodes != before.nodes {
		t.Fatalf("a refused multi changed the tree")
	}
	q.ok(Txn{Type: TxnCreate, Path: "/a/s-", Mode: ModePersistentSequential, ACL: OpenACLUnsafe()})
	if got := q.data(QuotaStatsPath("/a")); got != "count=2,bytes=0" {
		t.Fatalf("stats %q", got)
	}
	if _, err := q.leader.Get("/a/s-0000000000"); err != nil {
		t.Fatalf("the first sequential child after refusals: %v", err)
	}
	// Pipelined writes see each other: of two creates prepared before either
	// applies, the second is refused.
	q.ok(deleteTxn("/a/s-0000000000"))
	q.zxid++
	t1 := createTxn("/a/p", "")
	r1, _ := q.p.Prepare(q.zxid, &t1, nil)
	t2 := createTxn("/a/r", "")
	r2, _ := q.p.Prepare(q.zxid+1, &t2, nil)
	if r1.Err != nil || !isQuota(r2.Err) {
		t.Fatalf("pipelined creates: %v, %v", r1.Err, r2.Err)
	}
}

func isQuota(err error) bool { return codeOf(err) == zkerr.CodeQuotaExceeded }

// TestQuotaStatsNode: the stats node changes its data only, as ZooKeeper's
// updateQuotaStat; a write far from any quota reads one extra key.
func TestQuotaStatsNode(t *testing.T) {
	q := newQuotaPipe(t, true)
	q.create("/a", "")
	q.ok(*SetQuotaTxn("/a", lim(10, 0, 0, 0)))
	st0, err := q.leader.Stat(QuotaStatsPath("/a"))
	if err != nil {
		t.Fatal(err)
	}
	q.create("/a/b", "hello")
	q.ok(setTxn("/a/b", "hello, world", -1))
	n, err := q.leader.Get(QuotaStatsPath("/a"))
	if err != nil {
		t.Fatal(err)
	}
	if string(n.Data) != "count=2,bytes=12" {
		t.Fatalf("stats %q", n.Data)
	}
	want := st0.Stat
	want.DataLength = int32(len(n.Data))
	if n.Stat != want {
		t.Fatalf("stats node Stat %+v, want %+v (only the data changes)", n.Stat, want)
	}
	q.verify()
}
