//go:build unix

package proctest

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// tickTime is the peers' TickTime: short, so elections take a few hundred
// milliseconds (SyncLimit 5 ticks, elections tick ten times per TickTime).
const tickTime = 100 * time.Millisecond

// runSeed returns -proctest.seed or a seed from the clock, and logs it.
func runSeed(t *testing.T) int64 {
	seed := *flagSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d", seed)
	return seed
}

func baseWork() workSpec {
	return workSpec{
		Clients: 3, Keys: 6, Think: 10 * time.Millisecond,
		OpTimeout: 2 * time.Second, SessionTimeout: 1500 * time.Millisecond,
	}
}

// sumAcked is the number of writes acknowledged so far (by the
// incarnations that answer).
func sumAcked(sts map[int64]*statusReply) int64 {
	var n int64
	for _, st := range sts {
		n += st.Acked
	}
	return n
}

// TestKillLeaderUnderLoad: 3 peer processes over TCP on 127.0.0.1 under
// write load on all three; the leader's process is SIGKILLed; the two others
// elect a new leader and commit again (the failover time is measured); the
// killed peer restarts and catches up. Every acknowledged write is in every
// peer's committed log and tree, the three trees are identical, and the
// history is linearizable.
func TestKillLeaderUnderLoad(t *testing.T) {
	seed := runSeed(t)
	work := baseWork()
	work.Unique = true
	c := newCluster(t, "failover", seed, tickTime, work)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	c.startAll(ctx)
	sts := c.waitFor(ctx, "a leader", func(s map[int64]*statusReply) bool {
		_, ok := serving(s, peerIDs)
		return ok
	})
	leader, _ := serving(sts, peerIDs)
	epoch := sts[leader].Epoch
	c.load(ctx)
	sts = c.waitFor(ctx, "writes before the kill", func(s map[int64]*statusReply) bool { return sumAcked(s) >= 100 })
	before := sumAcked(sts)

	killedAt := time.Now()
	c.kill(leader)
	survivors := c.up()
	sts = c.waitFor(ctx, "a write committed after the kill", func(s map[int64]*statusReply) bool {
		for _, st := range s {
			if st.LastAck > killedAt.UnixNano() {
				return true
			}
		}
		return false
	})
	seen := time.Since(killedAt)
	newLeader, _ := serving(sts, survivors)
	t.Logf("killed leader %d (epoch %d) after %d acknowledged writes; the parent saw a write committed %v later (new leader %d)",
		leader, epoch, before, seen.Round(time.Millisecond), newLeader)
	c.waitFor(ctx, "writes after the failover", func(s map[int64]*statusReply) bool { return sumAcked(s) >= before+100 })

	if err := c.start(ctx, leader); err != nil {
		t.Fatal(err)
	}
	c.waitFor(ctx, "the restarted peer to serve and write", func(s map[int64]*statusReply) bool {
		_, ok := serving(s, peerIDs)
		return ok && s[leader].Acked >= 20
	})

	out := c.finish(ctx)
	logFailover(t, out, killedAt)
	checkUniqueCreates(t, out)
}

// logFailover measures, from the op logs, the time from the kill to the
// first write invoked after it that was acknowledged.
func logFailover(t *testing.T, out *outcome, killedAt time.Time) {
	t.Helper()
	k := killedAt.UnixNano()
	var first *op
	for _, o := range out.ops {
		if o.isWrite() && o.class() == classOK && o.call.Time > k && (first == nil || o.ret.Time < first.ret.Time) {
			first = o
		}
	}
	if first == nil {
		t.Error("no write invoked after the kill was acknowledged")
		return
	}
	z := out.a.zxidOf[first]
	t.Logf("failover: kill -> first acknowledged write invoked after it: %v (TickTime %v; %s %s at zxid %#x, epoch %d)",
		time.Duration(first.ret.Time-k).Round(time.Millisecond), tickTime, first.call.Kind, first.call.Path, z, z>>32)
}

// checkUniqueCreates checks the replication issue's statement directly:
// every acknowledged unique create (never deleted) is in every peer's tree
// with its data.
func checkUniqueCreates(t *testing.T, out *outcome) {
	t.Helper()
	n := 0
	for _, o := range out.ops {
		if o.call.Kind != kindUnique || o.class() != classOK {
			continue
		}
		n++
		for id, d := range out.dumps {
			if nd, ok := d.Nodes[o.call.Path]; !ok || !bytes.Equal(nd.Data, []byte(o.call.Data)) {
				t.Errorf("acknowledged create %s (%s op %d) is missing or wrong on peer %d", o.call.Path, o.call.Client, o.call.Op, id)
			}
		}
	}
	if n == 0 {
		t.Error("no unique create was acknowledged")
	}
	t.Logf("%d acknowledged unique creates present on all %d peers", n, len(out.dumps))
}
