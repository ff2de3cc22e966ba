package znode

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/google/go-cmp/cmp"
)

// TestQuotaRandomAgreement runs random writes under quotas through a
// Pending that keeps up to a few txns prepared ahead of the tree (so
// prepared stats updates stack in the overlay), applies them in a random
// rhythm on the leader's tree and a follower's, and checks: Apply answers
// what Prepare answered, digests agree, no usage ever passes a hard limit,
// and every stats node equals a recount at the end.
func TestQuotaRandomAgreement(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runQuotaRandom(t, seed, 400) })
	}
}

func runQuotaRandom(t *testing.T, seed uint64, steps int) {
	q := newQuotaPipe(t, true)
	for _, p := range []string{"/q0", "/q1", "/q2", "/free"} {
		q.create(p, "")
	}
	q.ok(*SetQuotaTxn("/q0", lim(0, 0, 6, 40)))
	q.ok(*SetQuotaTxn("/q1", lim(5, 20, 0, 0)))
	q.ok(Txn{Type: TxnCreateSession, Session: 7, Timeout: 30000})
	rng := rand.New(rand.NewPCG(seed, 3))
	type prep struct {
		zxid   int64
		txn    Txn
		res    Result
		digest uint64
	}
	var queue []prep
	applyOne := func() {
		p := queue[0]
		queue = queue[1:]
		txn := p.txn
		if p.res.Err != nil {
			txn = Txn{Type: TxnNoop, Time: p.txn.Time}
		}
		for i, tr := range []*Tree{q.leader, q.follower} {
			res, _, err := tr.Apply(p.zxid, &txn)
			if err != nil {
				t.Fatal(err)
			}
			if p.res.Err == nil && !cmp.Equal(res, p.res, cmp.Comparer(sameCode)) {
				t.Fatalf("seed %d tree %d zxid %#x %+v: prepared %+v, applied %+v", seed, i, p.zxid, p.txn, p.res, res)
			}
			if _, d := tr.Applied(); d != p.digest {
				t.Fatalf("seed %d tree %d zxid %#x: digest differs from the prepared one", seed, i, p.zxid)
			}
		}
		q.p.Applied(p.zxid)
	}
	for step := 0; step < steps || len(queue) > 0; step++ {
		if step < steps {
			q.zxid++
			q.now += 3
			txn := randomQuotaTxn(rng)
			txn.Time = q.now
			res, d := q.p.Prepare(q.zxid, &txn, nil)
			queue = append(queue, prep{zxid: q.zxid, txn: txn, res: res, digest: d})
		}
		for len(queue) > 0 && (step >= steps || len(queue) > 4 || rng.IntN(3) == 0) {
			applyOne()
			u := q.usage("/q0")
			if u.Count > 6 || u.Bytes > 40 {
				t.Fatalf("seed %d: /q0 usage %+v passed its hard limits", seed, u)
			}
		}
	}
	q.verify()
}

// randomQuotaTxn returns a random write below the quotas, or a change of
// the quotas themselves.
func randomQuotaTxn(rng *rand.Rand) Txn {
	roots := []string{"/q0", "/q1", "/q2", "/free"}
	path := func() string {
		p := roots[rng.IntN(len(roots))]
		for range rng.IntN(3) {
			p += "/" + string(rune('a'+rng.IntN(3)))
		}
		return p
	}
	data := func() []byte { return make([]byte, rng.IntN(12)) }
	op := func() Txn {
		switch rng.IntN(4) {
		case 0:
			return Txn{Type: TxnSetData, Path: path(), Data: data(), Version: -1}
		case 1:
			return Txn{Type: TxnDelete, Path: path(), Version: -1}
		}
		return Txn{Type: TxnCreate, Path: path(), Data: data(), ACL: OpenACLUnsafe()}
	}
	switch rng.IntN(20) {
	case 0:
		return Txn{Type: TxnMulti, Ops: []Txn{op(), op(), op()}}
	case 1:
		return Txn{Type: TxnCreate, Path: path() + "/s-", Data: data(), Mode: ModePersistentSequential, ACL: OpenACLUnsafe()}
	case 2:
		return Txn{Type: TxnCreate, Session: 7, Path: path() + "/e", Data: data(), Mode: ModeEphemeral, ACL: OpenACLUnsafe()}
	case 3:
		return Txn{Type: TxnCloseSession, Session: 7}
	case 4:
		return Txn{Type: TxnCreateSession, Session: 7, Timeout: 30000}
	case 5:
		return *SetQuotaTxn("/q2", lim(int64(1+rng.IntN(5)), 0, 0, 0))
	case 6:
		return *DeleteQuotaTxn("/q2", 0)
	case 7:
		return *SetQuotaTxn("/q1", lim(0, int64(rng.IntN(30)), 0, 0))
	}
	return op()
}

// The random test must see refusals, or it proves little.
func TestQuotaRandomRefuses(t *testing.T) {
	q := newQuotaPipe(t, true)
	for _, p := range []string{"/q0", "/q1", "/q2", "/free"} {
		q.create(p, "")
	}
	q.ok(*SetQuotaTxn("/q0", lim(0, 0, 6, 40)))
	rng := rand.New(rand.NewPCG(1, 3))
	refused := 0
	for range 400 {
		if res := q.run(randomQuotaTxn(rng)); codeOf(res.Err) == zkerr.CodeQuotaExceeded {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("no write was refused")
	}
	q.verify()
}
