package zab

import (
	"fmt"
	"testing"

	"github.com/embedzk/zk/election"
)

func voters(n int) []int64 {
	var ids []int64
	for i := 1; i <= n; i++ {
		ids = append(ids, int64(i))
	}
	return ids
}

// TestFirstElection: 2 (ZooKeeper's example: (1,0) and (2,0), 2 wins), 3
// and 5 peers elect the highest id, establish epoch 1 and replicate.
func TestFirstElection(t *testing.T) {
	for _, size := range []int{2, 3, 5} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			h := newHarness(t, 3, voters(size), nil, nil)
			l := h.serving(30)
			if l != int64(size) {
				t.Fatalf("leader %d, want %d", l, size)
			}
			if st := h.peers[l].node.Status(); st.Epoch != 1 || len(st.Synced) != size-1 {
				t.Fatalf("leader status %+v", st)
			}
			for i := 0; i < 10; i++ {
				h.propose(l, fmt.Sprint("v", i))
			}
			h.deliverAll()
			h.converged()
			if len(h.history) != 10 || h.history[9].Zxid != MakeZxid(1, 10) {
				t.Fatalf("history %v", h.history)
			}
		})
	}
}

// TestPipelinedCommitOrder: many proposals in flight; acks arrive for the
// later ones first (cumulative): commits are still in zxid order, and the
// leader sends PROPOSALs before its own fsync (in Send).
func TestPipelinedCommitOrder(t *testing.T) {
	h := threePeers(t, 20, 0)
	n := h.peers[3].node
	for i := 0; i < 5; i++ {
		if _, err := n.Propose([]byte(fmt.Sprint("p", i))); err != nil {
			t.Fatal(err)
		}
	}
	rd := h.readyOf(3)
	props := 0
	for _, env := range rd.Send {
		if env.Msg.Type == MsgProposal {
			props++
		}
	}
	if props != 10 || len(rd.Persist) != 1 || len(rd.Persist[0].Entries) != 5 || len(rd.Apply) != 0 {
		t.Fatalf("want 10 PROPOSALs in Send, one group append, nothing applied: %d %+v", props, rd.Persist)
	}
	h.executeReady(3, rd, -1)
	// Follower 1 gets all five in one Ready and acks once, the last zxid.
	for h.deliverOnly(3, 1) {
	}
	rd1 := h.readyOf(1)
	if len(rd1.SendAfterPersist) != 1 || rd1.SendAfterPersist[0].Msg.Zxid != MakeZxid(1, 5) {
		t.Fatalf("cumulative ack: %+v", rd1.SendAfterPersist)
	}
	h.executeReady(1, rd1, -1)
	h.deliver(1, 3)
	if st := h.peers[3].node.Status(); st.Committed != MakeZxid(1, 5) {
		t.Fatalf("committed %#x", st.Committed)
	}
	if got := h.applied(3); len(got) != 5 || got[0] != "p0" || got[4] != "p4" {
		t.Fatalf("leader applied %v", got)
	}
	h.deliverAll()
	h.converged()
}

// TestLeaderCrashMidBroadcast: the leader crashes with proposals that reached
// some followers and not others; whatever was committed survives, the rest
// is decided by the new leader, and every peer ends with one history.
func TestLeaderCrashMidBroadcast(t *testing.T) {
	h := newHarness(t, 21, voters(5), nil, nil)
	h.record = true
	h.serving(30)
	for i := 0; i < 6; i++ {
		if _, err := h.peers[5].node.Propose([]byte(fmt.Sprint("m", i))); err != nil {
			t.Fatal(err)
		}
		h.process(5)
	}
	// Proposals reach 1 and 2 entirely, 3 only the first three, 4 nothing.
	for h.headType(5, 1) != 0 {
		h.deliver(5, 1)
	}
	for h.headType(5, 2) != 0 {
		h.deliver(5, 2)
	}
	for i := 0; i < 3; i++ {
		h.deliver(5, 3)
	}
	// The leader hears the acks of 1 only: m0..m5 are durable on 5 and 1,
	// not a quorum of 5: nothing is committed yet.
	h.deliver(1, 5)
	if got := h.applied(5); len(got) != 0 {
		t.Fatalf("committed without a quorum: %v", got)
	}
	h.crash(5)
	l := h.serving(40)
	if l != 2 {
		t.Fatalf("leader %d, want 2 (highest zxid, then id)", l)
	}
	h.converged()
	if got := h.applied(1); len(got) != 6 || got[5] != "m5" {
		t.Fatalf("the new leader's history is not committed: %v", got)
	}
	h.restart(5)
	h.serving(40)
	h.converged()
}

// TestFollowerCrashAroundFsync: a follower crashes while persisting a
// proposal, before or after its fsync; the leader commits with the others,
// and the follower recovers the entry by sync either way.
func TestFollowerCrashAroundFsync(t *testing.T) {
	for _, crash := range []string{"before fsync", "after fsync"} {
		t.Run(crash, func(t *testing.T) {
			h := threePeers(t, 22, 1)
			h.delivered = nil
			z, err := h.peers[3].node.Propose([]byte("p"))
			if err != nil {
				t.Fatal(err)
			}
			h.process(3)
			h.deliverOnly(3, 1)
			rd := h.readyOf(1)
			crashAt := 0
			if crash == "after fsync" {
				crashAt = len(rd.Persist)
			}
			h.executeReady(1, rd, crashAt)
			if got := h.peers[1].disk.has(Entry{Zxid: z, Data: []byte("p")}); got != (crashAt > 0) {
				t.Fatalf("entry durable on the crashed follower: %v", got)
			}
			h.deliverAll()
			if h.count(MsgAck, 1, 3) != 0 {
				t.Fatal("the crashed follower acked")
			}
			if got := h.applied(3); len(got) != 2 {
				t.Fatalf("leader applied %v (2 of 3 ack)", got)
			}
			h.delivered = nil
			h.restart(1)
			h.serving(30)
			if crashAt > 0 && h.count(MsgDiff, 3, 1) != 0 {
				t.Fatal("the durable entry was sent again")
			}
			h.converged()
		})
	}
}

// TestReelectionHigherZxidWins: after the leader dies, the follower with the
// longer log wins even though its id is lower.
func TestReelectionHigherZxidWins(t *testing.T) {
	h := threePeers(t, 23, 2)
	z, _ := h.peers[3].node.Propose([]byte("only-1"))
	h.process(3)
	h.deliver(3, 1) // 1 logs it; 2 never gets it
	h.flush()
	h.crash(3)
	if l := h.serving(40); l != 1 {
		t.Fatalf("leader %d, want 1", l)
	}
	if got := h.applied(2); got[len(got)-1] != "only-1" || h.history[2].Zxid != z {
		t.Fatalf("the longer history did not win: %v", got)
	}
}

// TestRestartedLeaderFollows: the old leader restarts while the ensemble has
// a new one; it joins as a follower (the others answer its notifications)
// and the leader and its epoch do not change.
func TestRestartedLeaderFollows(t *testing.T) {
	h := threePeers(t, 24, 2)
	h.crash(3)
	l := h.serving(40)
	epoch := h.peers[l].node.Status().Epoch
	h.propose(l, "e2")
	h.deliverAll()
	h.delivered = nil
	h.restart(3)
	if got := h.serving(20); got != l {
		t.Fatalf("leader changed to %d", got)
	}
	if st := h.peers[l].node.Status(); st.Epoch != epoch {
		t.Fatalf("epoch %d -> %d", epoch, st.Epoch)
	}
	if st := h.peers[3].node.Status(); st.Role != RoleFollowing || st.Leader != l {
		t.Fatalf("ex-leader: %+v", st)
	}
	// It joined at once, without an election round of the others.
	if h.count(MsgNotification, l, 3) == 0 {
		t.Fatal("the leader did not answer the ex-leader's notification")
	}
	for _, d := range h.delivered {
		if d.m.Type == MsgNotification && d.from != 3 && election.State(d.m.State) == election.Looking {
			t.Fatalf("%d looked for a leader again", d.from)
		}
	}
	h.converged()
}
