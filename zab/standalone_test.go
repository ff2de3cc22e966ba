package zab

import (
	"testing"
)

// TestStandalone: one voter serves from its first Ready, with no tick, and a
// proposal commits in the Ready that persists it.
func TestStandalone(t *testing.T) {
	h := newHarness(t, 1, []int64{1}, nil, nil)
	p := h.peers[1]
	st := p.node.Status()
	if st.Role != RoleLeading || !st.Serving || st.Epoch != 1 || h.tick != 0 {
		t.Fatalf("after start: %+v", st)
	}
	if p.readies != 1 {
		t.Fatalf("%d Readies to serve, want 1", p.readies)
	}
	if p.disk.state != (State{1, 1}) {
		t.Fatalf("durable state %+v", p.disk.state)
	}
	z, err := p.node.Propose([]byte("a"))
	if err != nil || z != MakeZxid(1, 1) {
		t.Fatalf("propose: %#x %v", z, err)
	}
	rd := p.node.Ready()
	if len(rd.Persist) != 1 || len(rd.Apply) != 1 || rd.Apply[0].Zxid != z || len(rd.Send) != 0 {
		t.Fatalf("one Ready should persist and apply: %+v", rd)
	}
	h.execute(p, rd, -1)
	// Group commit: three proposals, one Persist op, one Ready.
	for _, s := range []string{"b", "c", "d"} {
		if _, err := p.node.Propose([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	rd = p.node.Ready()
	if len(rd.Persist) != 1 || len(rd.Persist[0].Entries) != 3 || len(rd.Apply) != 3 {
		t.Fatalf("group commit: %d ops, apply %d", len(rd.Persist), len(rd.Apply))
	}
	h.execute(p, rd, -1)
	if p.node.HasReady() {
		t.Fatalf("left over Ready: %+v", p.node.Ready())
	}
	// Sync completes in the next Ready, at the commit point.
	if err := p.node.Sync(7); err != nil {
		t.Fatal(err)
	}
	rd = p.node.Ready()
	if len(rd.Synced) != 1 || rd.Synced[0] != (SyncResult{ID: 7, Zxid: MakeZxid(1, 4)}) {
		t.Fatalf("sync: %+v", rd.Synced)
	}
	h.execute(p, rd, -1)
	if got := h.applied(1); len(got) != 4 || got[3] != "d" {
		t.Fatalf("applied %v", got)
	}
}

// TestStandaloneRestart: a restarted single voter applies everything it
// logged (it is its own quorum) in a new epoch, including what its state
// machine had not applied yet.
func TestStandaloneRestart(t *testing.T) {
	h := newHarness(t, 2, []int64{1}, nil, nil)
	p := h.peers[1]
	h.propose(1, "a")
	h.propose(1, "b")
	// Crash after persisting "c" but before applying it.
	if _, err := p.node.Propose([]byte("c")); err != nil {
		t.Fatal(err)
	}
	h.executeReady(1, p.node.Ready(), 1)
	if p.node != nil || p.disk.last() != MakeZxid(1, 3) || p.disk.smZxid() != MakeZxid(1, 2) {
		t.Fatalf("crash: last %#x applied %#x", p.disk.last(), p.disk.smZxid())
	}
	h.restart(1)
	st := p.node.Status()
	if !st.Serving || st.Epoch != 2 || p.disk.smZxid() != MakeZxid(1, 3) {
		t.Fatalf("after restart: %+v applied %#x", st, p.disk.smZxid())
	}
	if z := h.propose(1, "d"); z != MakeZxid(2, 1) {
		t.Fatalf("first zxid of epoch 2: %#x", z)
	}
	if got := h.applied(1); len(got) != 4 {
		t.Fatalf("applied %v", got)
	}
	// A crash before the proposal's fsync loses it; nothing was applied.
	if _, err := p.node.Propose([]byte("lost")); err != nil {
		t.Fatal(err)
	}
	h.executeReady(1, p.node.Ready(), 0)
	h.restart(1)
	if got := h.applied(1); len(got) != 4 || p.disk.last() != MakeZxid(2, 1) {
		t.Fatalf("applied %v last %#x", got, p.disk.last())
	}
}
