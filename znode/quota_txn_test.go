package znode

import (
	"bytes"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/google/go-cmp/cmp"
)

// TestSetQuotaNodes: the quota nodes hold what ZooKeeper 3.8's zkCli and
// server write, byte for byte (strings from a real ZooKeeper 3.8.0: setquota
// -N 3 /a with /a/b = "x"; then the -n/-N/-B/delquota sequence on /p/q/r).
func TestSetQuotaNodes(t *testing.T) {
	q := newQuotaPipe(t, true)
	q.create("/a", "")
	q.create("/a/b", "x")
	_, changes := q.runAs(*SetQuotaTxn("/a", lim(0, 0, 3, 0)), nil)
	if got := q.data(QuotaLimitsPath("/a")); got != "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3" {
		t.Fatalf("limits %q", got)
	}
	if got := q.data(QuotaStatsPath("/a")); got != "count=2,bytes=1" {
		t.Fatalf("stats %q", got)
	}
	var created []string
	for _, c := range changes {
		if c.Type == ChangeCreated {
			created = append(created, c.Path)
		}
	}
	want := []string{"/zookeeper/quota/a", QuotaLimitsPath("/a"), QuotaStatsPath("/a")}
	if !cmp.Equal(created, want) {
		t.Fatalf("created %v, want %v (watchers see plain creates)", created, want)
	}

	q.create("/p", "")
	q.create("/p/q", "")
	q.create("/p/q/r", "")
	steps := []struct {
		txn  *Txn
		want string
	}{
		{SetQuotaTxn("/p/q/r", lim(5, 0, 0, 0)), "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1"},
		{SetQuotaTxn("/p/q/r", lim(0, 0, 10, 0)), "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=10"},
		{SetQuotaTxn("/p/q/r", lim(7, 0, 0, 0)), "count=7,bytes=-1=;byteHardLimit=-1;countHardLimit=10"},
		{SetQuotaTxn("/p/q/r", lim(0, 0, 0, 20)), "count=7,bytes=-1=;byteHardLimit=20;countHardLimit=10"},
		{DeleteQuotaTxn("/p/q/r", QuotaFieldCount), "count=-1,bytes=-1=;byteHardLimit=20;countHardLimit=10"},
		{DeleteQuotaTxn("/p/q/r", QuotaFieldBytesHard), "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=10"},
	}
	for i, s := range steps {
		q.ok(*s.txn)
		if got := q.data(QuotaLimitsPath("/p/q/r")); got != s.want {
			t.Fatalf("step %d: limits %q, want %q", i, got, s.want)
		}
		if got := q.data(QuotaStatsPath("/p/q/r")); got != "count=1,bytes=0" {
			t.Fatalf("step %d: stats %q", i, got)
		}
	}
	q.verify()
	// Deleting the whole quota removes its nodes and the directories left
	// empty, and nothing of the other quota.
	q.ok(*DeleteQuotaTxn("/p/q/r", 0))
	for _, p := range []string{QuotaLimitsPath("/p/q/r"), QuotaStatsPath("/p/q/r"), "/zookeeper/quota/p"} {
		if got := q.data(p); got != "<none>" {
			t.Fatalf("%s still there: %q", p, got)
		}
	}
	names, _, err := q.leader.Children(QuotaPath)
	if err != nil || !cmp.Equal(names, []string{"a"}) {
		t.Fatalf("/zookeeper/quota children %v %v", names, err)
	}
	q.ok(*DeleteQuotaTxn("/a", 0))
	if n, err := q.leader.Stat(QuotaPath); err != nil || n.Stat.NumChildren != 0 {
		t.Fatalf("/zookeeper/quota: %+v %v", n.Stat, err)
	}
	q.verify()
}

// TestQuotaBadInput: every bad SetQuota or DeleteQuota fails with a clear
// error and changes nothing but the applied zxid.
func TestQuotaBadInput(t *testing.T) {
	bad := func(path string, data string) Txn { return Txn{Type: TxnSetQuota, Path: path, Data: []byte(data)} }
	cases := []struct {
		name string
		txn  Txn
		want []error
	}{
		{"quota on /", *SetQuotaTxn("/", lim(1, 0, 0, 0)), []error{zkerr.ErrBadArguments}},
		{"quota on /zookeeper", *SetQuotaTxn("/zookeeper", lim(1, 0, 0, 0)), []error{zkerr.ErrBadArguments}},
		{"quota on /zookeeper/config", *SetQuotaTxn("/zookeeper/config", lim(1, 0, 0, 0)), []error{zkerr.ErrBadArguments}},
		{"quota in /zookeeper/quota", *SetQuotaTxn("/zookeeper/quota/a", lim(1, 0, 0, 0)), []error{zkerr.ErrBadArguments}},
		{"quota on a quota node name", *SetQuotaTxn("/a/zookeeper_limits", lim(1, 0, 0, 0)), []error{zkerr.ErrBadArguments}},
		{"invalid path", *SetQuotaTxn("/a/", lim(1, 0, 0, 0)), []error{zkerr.ErrBadArguments, zkerr.ErrInvalidPath}},
		{"missing path", *SetQuotaTxn("/nope", lim(1, 0, 0, 0)), []error{zkerr.ErrNoNode}},
		{"quota above", *SetQuotaTxn("/q/x", lim(1, 0, 0, 0)), []error{zkerr.ErrBadArguments}},
		{"quota below", *SetQuotaTxn("/a", lim(1, 0, 0, 0)), []error{zkerr.ErrBadArguments}},
		{"no limit", *SetQuotaTxn("/a", NoQuotaLimits), []error{zkerr.ErrBadArguments}},
		{"zero count", *SetQuotaTxn("/a", QuotaLimits{Count: 0, Bytes: -1, CountHard: -1, BytesHard: -1}), []error{zkerr.ErrBadArguments}},
		{"zero hard count", *SetQuotaTxn("/a", QuotaLimits{Count: -1, Bytes: -1, CountHard: 0, BytesHard: -1}), []error{zkerr.ErrBadArguments}},
		{"negative bytes", *SetQuotaTxn("/a", QuotaLimits{Count: -1, Bytes: -2, CountHard: -1, BytesHard: -1}), []error{zkerr.ErrBadArguments}},
		{"malformed limits text", bad("/a", "count=ten"), []error{zkerr.ErrBadArguments}},
		{"limits text without a value", bad("/a", "count"), []error{zkerr.ErrBadArguments}},
		{"delete where there is no quota", *DeleteQuotaTxn("/a", 0), []error{zkerr.ErrNoNode}},
		{"delete of a missing path", *DeleteQuotaTxn("/nope", QuotaFieldCount), []error{zkerr.ErrNoNode}},
		{"delete selecting no limit", Txn{Type: TxnDeleteQuota, Path: "/q", Data: []byte("count=-1")}, []error{zkerr.ErrBadArguments}},
		{"delete with malformed text", Txn{Type: TxnDeleteQuota, Path: "/q", Data: []byte(",count=1")}, []error{zkerr.ErrBadArguments}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := newQuotaPipe(t, true)
			q.create("/a", "")
			q.create("/a/b", "")
			q.ok(*SetQuotaTxn("/a/b", lim(1, 0, 0, 0)))
			q.create("/q", "")
			q.create("/q/x", "")
			q.ok(*SetQuotaTxn("/q", lim(1, 0, 0, 0)))
			before := stateOf(t, q.leader)
			res := q.run(c.txn)
			for _, w := range c.want {
				wantErr(t, res.Err, w)
			}
			after := stateOf(t, q.leader)
			if diff := cmp.Diff(before.dump, after.dump); diff != "" || after.digest != before.digest {
				t.Fatalf("%v changed the tree:\n%s", res.Err, diff)
			}
			if res.Err.Error() == "" {
				t.Fatal("empty error")
			}
		})
	}
}

// TestQuotaACL: the quota's nodes are made with plain creates and setData,
// so the ACLs of /zookeeper/quota apply as they apply to zkCli.
func TestQuotaACL(t *testing.T) {
	q := newQuotaPipe(t, true)
	q.create("/a", "")
	q.ok(Txn{Type: TxnSetACL, Path: QuotaPath, ACL: ReadACLUnsafe(), Version: -1})
	deny := func(acl []ACL, perm Perm) error {
		if CheckACL(acl, perm, nil) {
			return nil
		}
		return zkerr.ErrNoAuth
	}
	before := stateOf(t, q.leader)
	res, _ := q.runAs(*SetQuotaTxn("/a", lim(1, 0, 0, 0)), deny)
	wantErr(t, res.Err, zkerr.ErrNoAuth)
	if after := stateOf(t, q.leader); after.digest != before.digest {
		t.Fatal("a refused SetQuota changed the tree")
	}
	q.ok(*SetQuotaTxn("/a", lim(1, 0, 0, 0))) // the super user (no authorizer) may
}

// TestQuotaByPlainCreates: a quota made as zkCli makes it, with plain
// creates, counts and is enforced like one made by SetQuota; the stats
// node's create computes the usage whatever data it carries.
func TestQuotaByPlainCreates(t *testing.T) {
	q := newQuotaPipe(t, true)
	q.create("/a", "x")
	q.create("/a/b", "yy")
	q.create("/zookeeper/quota/a", "")
	q.create(QuotaLimitsPath("/a"), "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3")
	q.create(QuotaStatsPath("/a"), "count=0,bytes=0")
	if got := q.data(QuotaStatsPath("/a")); got != "count=2,bytes=3" {
		t.Fatalf("stats %q", got)
	}
	q.create("/a/c", "")
	wantErr(t, q.run(createTxn("/a/d", "")).Err, zkerr.ErrQuotaExceeded)
	// Raising the limit with a plain setData takes effect at once.
	q.ok(setTxn(QuotaLimitsPath("/a"), "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=4", -1))
	q.create("/a/d", "")
	// Without a limits node nothing is counted or enforced.
	q.ok(deleteTxn(QuotaLimitsPath("/a")))
	q.create("/a/e", "")
	if got := q.data(QuotaStatsPath("/a")); got != "count=4,bytes=3" {
		t.Fatalf("stats %q", got)
	}
	q.verify()
}

// TestQuotaSurvivesRestartAndSnapshot: stats are part of the tree: they
// survive a restart and a snapshot transfer, agree with a recount, and keep
// counting afterwards.
func TestQuotaSurvivesRestartAndSnapshot(t *testing.T) {
	fs := vfs.NewMem()
	opts := testOptions(fs)
	opts.EnforceQuota = true
	tr, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	q := &quotaPipe{t: t, leader: tr, follower: openTest(t), zxid: 0x100000000, now: 1_700_000_000_000}
	q.p = tr.NewPending()
	q.create("/a", "x")
	q.create("/b", "")
	q.ok(*SetQuotaTxn("/a", lim(3, 0, 0, 8)))
	q.ok(*SetQuotaTxn("/b", lim(0, 0, 2, 0)))
	q.create("/a/1", "1234")
	q.create("/a/2", "")
	q.create("/b/1", "")
	wantErr(t, q.run(createTxn("/b/2", "")).Err, zkerr.ErrQuotaExceeded)
	want, err := tr.Quotas()
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 2 || want[0].Usage != (QuotaUsage{3, 5}) || want[1].Usage != (QuotaUsage{2, 0}) ||
		want[0].Limits != lim(3, 0, 0, 8) {
		t.Fatalf("quotas %+v", want)
	}
	snap := snapshotBytes(t, tr)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	re, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	got, err := re.Quotas()
	if err != nil || !cmp.Equal(got, want) {
		t.Fatalf("after restart %+v %v, want %+v", got, err, want)
	}
	if err := re.VerifyQuotas(); err != nil {
		t.Fatal(err)
	}
	other := openTest(t)
	if _, err := other.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if got, err := other.Quotas(); err != nil || !cmp.Equal(got, want) {
		t.Fatalf("after restore %+v %v, want %+v", got, err, want)
	}
	// Both keep counting, and enforcing, from where they were.
	q.leader, q.follower, q.p = re, other, re.NewPending()
	wantErr(t, q.run(createTxn("/b/2", "")).Err, zkerr.ErrQuotaExceeded)
	q.ok(deleteTxn("/a/1"))
	if u := q.usage("/a"); u != (QuotaUsage{2, 1}) {
		t.Fatalf("usage after restart %+v", u)
	}
	q.verify()
}

// TestVerifyQuotasCatchesDrift: VerifyQuotas is a real check.
func TestVerifyQuotasCatchesDrift(t *testing.T) {
	q := newQuotaPipe(t, false)
	q.create("/a", "")
	q.ok(*SetQuotaTxn("/a", lim(3, 0, 0, 0)))
	q.ok(setTxn(QuotaStatsPath("/a"), "count=5,bytes=0", -1)) // a raw write the server does not check
	if err := q.leader.VerifyQuotas(); err == nil {
		t.Fatal("VerifyQuotas passed a stats node that is off")
	}
}

// TestQuotaZooKeeperTranscript replays a zkCli session against a real
// ZooKeeper 3.8.0 (started with zookeeper.enforceQuota=true) and expects
// what it printed.
func TestQuotaZooKeeperTranscript(t *testing.T) {
	q := newQuotaPipe(t, true)
	stats := func(want string) {
		t.Helper()
		if got := q.data(QuotaStatsPath("/r")); got != want {
			t.Fatalf("stats %q, ZooKeeper printed %q", got, want)
		}
	}
	seq := func() Result {
		return q.run(Txn{Type: TxnCreate, Path: "/r/s-", Data: []byte("1234"), Mode: ModePersistentSequential, ACL: OpenACLUnsafe()})
	}
	q.create("/r", "x")
	q.ok(*SetQuotaTxn("/r", lim(0, 0, 2, 0))) // setquota -N 2 /r
	q.create("/r/1", "yy")
	q.ok(deleteTxn("/r/1"))
	q.ok(deleteTxn("/r"))
	stats("count=0,bytes=0")
	q.create("/r", "abc")
	stats("count=1,bytes=3")
	if r := seq(); r.Err != nil || r.Path != "/r/s-0000000000" {
		t.Fatalf("first sequential create: %+v", r)
	}
	wantErr(t, seq().Err, zkerr.ErrQuotaExceeded) // "Quota has exceeded : /r/s-"
	stats("count=2,bytes=7")
	if n := q.get("/r"); n.Stat.Cversion != 1 || n.Stat.NumChildren != 1 {
		t.Fatalf("/r %+v", n.Stat)
	}
	q.ok(setTxn(QuotaLimitsPath("/r"), "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3", -1))
	if r := seq(); r.Path != "/r/s-0000000001" {
		t.Fatalf("sequential create after raising the limit: %+v", r)
	}
	q.ok(deleteTxn(QuotaLimitsPath("/r")))
	q.create("/r/t", "1")
	stats("count=3,bytes=11")
	q.verify()
}

func (q *quotaPipe) get(path string) Node {
	q.t.Helper()
	n, err := q.leader.Get(path)
	if err != nil {
		q.t.Fatal(err)
	}
	return n
}
