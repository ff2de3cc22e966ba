package zab

import (
	"bytes"
	"errors"
	"testing"
)

// TestSyncBarrier: a follower's Sync goes to the leader, which answers after
// a quorum answered a heartbeat round started after the request, with its
// commit point; the follower hands the result out once it applied that far.
func TestSyncBarrier(t *testing.T) {
	h := threePeers(t, 40, 2)
	h.propose(3, "c") // committed on the leader only once acks arrive
	h.delivered = nil
	f := h.peers[1].node
	if err := f.Sync(77); err != nil {
		t.Fatal(err)
	}
	h.process(1)
	h.deliverAll()
	res := h.peers[1].synced
	if len(res) != 1 || res[0].ID != 77 || res[0].Err != nil || res[0].Zxid != MakeZxid(1, 3) {
		t.Fatalf("result %+v", res)
	}
	if got := h.applied(1); len(got) != 3 {
		t.Fatalf("result handed out before applying: %v", got)
	}
	// The round the leader waited for started after the request.
	syncAt, pingAt, ackAt := -1, -1, -1
	for i, d := range h.delivered {
		switch {
		case d.m.Type == MsgSync:
			syncAt = i
		case d.m.Type == MsgPing && d.from == 3 && syncAt >= 0 && pingAt < 0:
			pingAt = i
		case d.m.Type == MsgPing && d.to == 3 && pingAt >= 0 && ackAt < 0:
			ackAt = i
		}
	}
	if syncAt < 0 || pingAt < syncAt || ackAt < pingAt {
		t.Fatalf("SYNC at %d, round at %d, answered at %d", syncAt, pingAt, ackAt)
	}
	// On the leader itself.
	if err := h.peers[3].node.Sync(78); err != nil {
		t.Fatal(err)
	}
	h.process(3)
	if len(h.peers[3].synced) != 0 {
		t.Fatal("the leader answered without a quorum round")
	}
	h.deliverAll()
	if res := h.peers[3].synced; len(res) != 1 || res[0].ID != 78 || res[0].Err != nil {
		t.Fatalf("leader result %+v", res)
	}
}

// TestSyncBarrierFails: a barrier never ends in silence: on a leader that
// loses its quorum, or a follower that loses its leader, it fails.
func TestSyncBarrierFails(t *testing.T) {
	h := threePeers(t, 41, 1)
	h.isolateSilently(3)
	if err := h.peers[3].node.Sync(1); err != nil {
		t.Fatal(err)
	}
	if err := h.peers[1].node.Sync(2); err != nil {
		t.Fatal(err)
	}
	h.flush()
	for i := 0; i < 20 && (len(h.peers[3].synced) == 0 || len(h.peers[1].synced) == 0); i++ {
		h.tickAll()
	}
	for _, id := range []int64{3, 1} {
		res := h.peers[id].synced
		if len(res) != 1 || !errors.Is(res[0].Err, ErrNotServing) {
			t.Fatalf("%d: %+v", id, res)
		}
	}
	if err := h.peers[3].node.Sync(3); !errors.Is(err, ErrNotServing) {
		t.Fatalf("Sync while not serving: %v", err)
	}
}

// TestAppMessages: the app channel is FIFO with the protocol stream: a
// leader's reply sent after a proposal arrives after it; a follower's
// forward arrives at the leader; 0 is the leader.
func TestAppMessages(t *testing.T) {
	h := threePeers(t, 42, 0)
	if err := h.peers[1].node.SendApp(0, []byte("fwd")); err != nil {
		t.Fatal(err)
	}
	h.deliverAll()
	if a := h.peers[3].apps; len(a) != 1 || a[0].From != 1 || string(a[0].Data) != "fwd" {
		t.Fatalf("leader got %+v", a)
	}
	h.delivered = nil
	z, _ := h.peers[3].node.Propose([]byte("w"))
	if err := h.peers[3].node.SendApp(1, []byte("reply")); err != nil {
		t.Fatal(err)
	}
	h.process(3)
	h.deliverAll()
	prop, app := -1, -1
	for i, d := range h.delivered {
		if d.to == 1 && d.m.Type == MsgProposal && d.m.Entries[0].Zxid == z {
			prop = i
		}
		if d.to == 1 && d.m.Type == MsgApp {
			app = i
		}
	}
	if prop < 0 || app < prop {
		t.Fatalf("PROPOSAL at %d, reply at %d", prop, app)
	}
	// A follower's app message queued after its ack waits behind it.
	h.peers[3].node.Propose([]byte("w2"))
	h.process(3)
	h.deliverOnly(3, 1)
	h.peers[1].node.SendApp(0, []byte("after-ack"))
	rd := h.readyOf(1)
	if n := len(rd.SendAfterPersist); n != 2 || rd.SendAfterPersist[0].Msg.Type != MsgAck || !bytes.Equal(rd.SendAfterPersist[1].Msg.Data, []byte("after-ack")) {
		t.Fatalf("SendAfterPersist %+v", rd.SendAfterPersist)
	}
	h.executeReady(1, rd, -1)
	if err := h.peers[1].node.SendApp(1, []byte("me")); err != nil {
		t.Fatal(err)
	}
	h.process(1)
	if a := h.peers[1].apps; len(a) != 2 || string(a[1].Data) != "me" {
		t.Fatalf("to itself: %+v", a)
	}
	if err := h.peers[1].node.SendApp(42, nil); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("unknown peer: %v", err)
	}
	h.crash(3)
	h.deliverAll()
	if err := h.peers[1].node.SendApp(0, nil); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("no leader: %v", err)
	}
}
