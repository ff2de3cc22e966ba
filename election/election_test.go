package election

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func TestVoteOrder(t *testing.T) {
	for _, tc := range []struct {
		a, b Vote
		want bool
	}{
		{Vote{2, 0, 0}, Vote{1, 0, 0}, true},
		{Vote{1, 0, 0}, Vote{2, 0, 0}, false},
		{Vote{1, 5, 0}, Vote{2, 4, 0}, true}, // zxid before id
		{Vote{1, 0, 2}, Vote{3, 9, 1}, true}, // epoch before zxid
		{Vote{1, 0, 0}, Vote{1, 0, 0}, false},
		{Vote{1, 0, 0}, NoVote, true},
	} {
		if got := tc.a.Beats(tc.b); got != tc.want {
			t.Errorf("%v beats %v = %v", tc.a, tc.b, got)
		}
	}
}

func TestSingleVoterDecidesAtStart(t *testing.T) {
	n := newNet(t, []int64{7}, nil, 3)
	n.start(7, 0x100000005, 1)
	if e := n.peers[7]; e.State() != Leading || e.Leader() != 7 || e.Round() != 1 {
		t.Fatalf("single voter: %s", n)
	}
	if len(n.keys()) != 0 {
		t.Fatal("single voter sent notifications")
	}
}

func TestFirstElection(t *testing.T) {
	for _, size := range []int{3, 5} {
		var voters []int64
		for i := 1; i <= size; i++ {
			voters = append(voters, int64(i))
		}
		n := newNet(t, voters, nil, 1)
		for _, id := range voters {
			n.start(id, 0, 0)
		}
		n.settle(10)
		n.expect(int64(size))
		// The decision uses no tick: every voter agreed, so no finalize wait.
		for _, id := range voters {
			if n.peers[id].Round() != 1 {
				t.Fatalf("round changed: %s", n)
			}
		}
	}
}

// TestZooKeeperExampleTwoPeers is the example of ZooKeeper's FLE: two peers
// start voting for themselves, (1,0) and (2,0); peer 1 learns that (2,0) is
// better, changes its vote, and both decide for 2.
func TestZooKeeperExampleTwoPeers(t *testing.T) {
	n := newNet(t, []int64{1, 2}, nil, 1)
	n.start(1, 0, 0)
	n.start(2, 0, 0)
	// 2 hears (1,0): worse than its own vote; no quorum yet (needs both).
	n.deliver(1, 2)
	if n.peers[2].State() != Looking || n.peers[2].Vote().Leader != 2 {
		t.Fatalf("after (1,0) reached 2: %s", n)
	}
	// 1 hears (2,0): better, so 1 now votes 2 and tells 2. Its box has
	// both votes for 2: every voter agrees, so it decides at once.
	n.deliver(2, 1)
	if e := n.peers[1]; e.Vote().Leader != 2 || e.State() != Following {
		t.Fatalf("1 did not adopt (2,0): %s", n)
	}
	if n.peers[2].State() != Looking {
		t.Fatalf("2 decided before hearing 1's new vote: %s", n)
	}
	n.deliverAll()
	n.expect(2)
}

func TestHigherZxidWins(t *testing.T) {
	n := newNet(t, []int64{1, 2, 3}, nil, 1)
	n.start(1, 0x100000009, 1) // highest zxid, lowest id
	n.start(2, 0x100000003, 1)
	n.start(3, 0x100000003, 1)
	n.settle(10)
	n.expect(1)

	// A higher epoch beats a higher zxid.
	n = newNet(t, []int64{1, 2, 3}, nil, 1)
	n.start(1, 0x100000009, 1)
	n.start(2, 0x200000000, 2)
	n.start(3, 0x100000003, 1)
	n.settle(10)
	n.expect(2)
}

// TestReelection: after a leader dies the others start new rounds; the peer
// with the higher zxid wins, whatever the ids.
func TestReelection(t *testing.T) {
	n := newNet(t, []int64{1, 2, 3}, nil, 1)
	for _, id := range []int64{1, 2, 3} {
		n.start(id, 0, 0)
	}
	n.settle(10)
	n.expect(3)
	n.crash(3)
	n.start(1, 0x100000007, 1)
	n.start(2, 0x100000004, 1)
	n.settle(20)
	n.expect(1)
	if n.peers[1].Round() != 2 {
		t.Fatalf("round %d", n.peers[1].Round())
	}
}

func TestNewerRoundResetsOlderIsAnswered(t *testing.T) {
	n := newNet(t, []int64{1, 2, 3}, nil, 1)
	e := n.peers[1]
	e.Start(Vote{1, 5, 1})
	e.Start(Vote{1, 5, 1})
	e.Start(Vote{1, 5, 1}) // round 3
	e.Messages()
	// A vote of round 1 is ignored (no change) but answered with round 3.
	if err := e.Step(2, Notification{Vote{2, 9, 1}, 1, Looking}); err != nil {
		t.Fatal(err)
	}
	if e.Vote().Leader != 1 || e.Round() != 3 {
		t.Fatalf("older round changed state: %v round %d", e.Vote(), e.Round())
	}
	out := e.Messages()
	if len(out) != 1 || out[0].To != 2 || out[0].Notification.Round != 3 || out[0].Notification.Leader != 1 {
		t.Fatalf("answer to the laggard: %+v", out)
	}
	// Its own box now holds only its vote; a round-5 vote resets the box.
	if err := e.Step(3, Notification{Vote{3, 1, 1}, 5, Looking}); err != nil {
		t.Fatal(err)
	}
	if e.Round() != 5 || e.Vote().Leader != 1 {
		t.Fatalf("newer round: %v round %d", e.Vote(), e.Round())
	}
	if len(e.recv) != 2 {
		t.Fatalf("box not reset: %v", e.recv)
	}
	// 2 now votes (1,5,1) in round 5: a quorum for 1, and 1 finalizes.
	if err := e.Step(2, Notification{Vote{1, 5, 1}, 5, Looking}); err != nil {
		t.Fatal(err)
	}
	if e.State() != Looking {
		t.Fatal("decided without a finalize wait")
	}
	e.Tick()
	if e.State() != Leading {
		t.Fatalf("after the finalize wait: %v", e.State())
	}
}

// TestFinalizeWaitsForBetterVote: a quorum agrees, but a better vote arrives
// within the finalize wait and wins.
func TestFinalizeWaitsForBetterVote(t *testing.T) {
	n := newNet(t, []int64{1, 2, 3}, nil, 2)
	n.start(1, 0, 0)
	n.start(2, 0, 0)
	n.deliverAll() // 1 and 2 agree on 2: a quorum, 3 has not voted
	if n.peers[2].State() != Looking {
		t.Fatal("decided without waiting")
	}
	n.tick()
	n.start(3, 0, 0) // a better vote within the wait
	n.deliverAll()
	n.expect(3)
	// Without a better vote the wait ends after Finalize ticks.
	n = newNet(t, []int64{1, 2, 3}, nil, 2)
	n.start(1, 0, 0)
	n.start(2, 0, 0)
	n.deliverAll()
	n.crash(3)
	n.tick()
	if n.peers[2].State() != Looking {
		t.Fatal("decided too early")
	}
	n.tick()
	n.deliverAll()
	n.expect(2)
}

// TestAnswerOutdatedVote is the slow failover of issue 9: the leader dies
// and survivor 2 notices first. Its notification reaches 1 while 1 still
// follows the dead leader, so 1 answers with its decided vote and keeps
// nothing of it. Then 1 looks too, in the same round as 2, with a worse
// vote. 2 must answer that vote with its own at once: otherwise 1 never
// hears 2's vote, no quorum forms anywhere, and everything waits for a
// re-send timer (Resend ticks, TickTime/2 in zk) instead of the finalize
// wait alone.
func TestAnswerOutdatedVote(t *testing.T) {
	n := newNet(t, []int64{1, 2, 3}, nil, 1)
	for _, id := range []int64{1, 2, 3} {
		n.start(id, 0x100000002, 1)
	}
	n.settle(10)
	n.expect(3)
	n.crash(3)
	n.start(2, 0x100000005, 1)
	if !n.deliver(2, 1) {
		t.Fatal("2's notification is not on its way to 1")
	}
	if e := n.peers[1]; e.State() != Following || e.Leader() != 3 {
		t.Fatalf("1 should still follow 3: %s", n)
	}
	n.start(1, 0x100000005, 1) // same zxid, lower id: a worse vote
	if n.peers[1].Round() != n.peers[2].Round() {
		t.Fatalf("the survivors should be in one round: %s", n)
	}
	n.deliverAll()
	// Without a tick, both now propose 2 and wait out the finalize wait.
	for _, id := range []int64{1, 2} {
		if e := n.peers[id]; e.State() != Looking || e.Vote().Leader != 2 {
			t.Fatalf("peer %d did not learn 2's vote from the messages alone: %s", id, n)
		}
	}
	n.tick() // Finalize = 1, below the re-send interval (2)
	n.deliverAll()
	n.expect(2)
}

// TestJoinWithoutDisturbing: a peer (here the ex-leader, which has the
// highest id and zxid) restarts while the ensemble has a leader; the others
// answer its notifications with their decided votes and it follows at once.
func TestJoinWithoutDisturbing(t *testing.T) {
	n := newNet(t, []int64{1, 2, 3}, nil, 1)
	for _, id := range []int64{1, 2, 3} {
		n.start(id, 0x100000002, 1)
	}
	n.settle(10)
	n.expect(3)
	n.crash(3)
	n.start(1, 0x100000002, 1)
	n.start(2, 0x100000002, 1)
	n.settle(10)
	n.expect(2)
	before := [2]int64{n.peers[1].Round(), n.peers[2].Round()}
	n.restart(3)
	n.start(3, 0x100000009, 1) // the best vote, but it must not win now
	n.deliverAll()
	n.expect(2)
	if n.peers[1].Round() != before[0] || n.peers[2].Round() != before[1] {
		t.Fatal("the running peers changed rounds")
	}
	if n.peers[3].Round() != n.peers[2].Round() {
		t.Fatalf("joiner did not take the leader's round: %s", n)
	}
}

// TestJoinNeedsLeaderAnswer: answers of followers alone are not enough; the
// leader itself must say it leads (checkLeader).
func TestJoinNeedsLeaderAnswer(t *testing.T) {
	q, _ := NewMajority([]int64{1, 2, 3, 4, 5})
	e, _ := New(Config{ID: 5, Quorum: q, Resend: 5, Finalize: 1})
	e.Start(Vote{5, 0, 0})
	for _, from := range []int64{1, 2, 3} {
		if err := e.Step(from, Notification{Vote{4, 7, 1}, 9, Following}); err != nil {
			t.Fatal(err)
		}
	}
	if e.State() != Looking {
		t.Fatal("followed a leader that never said it leads")
	}
	if err := e.Step(4, Notification{Vote{4, 7, 1}, 9, Leading}); err != nil {
		t.Fatal(err)
	}
	if e.State() != Following || e.Leader() != 4 || e.Round() != 9 {
		t.Fatalf("%v leader %d round %d", e.State(), e.Leader(), e.Round())
	}
}

func TestObserversNeverVote(t *testing.T) {
	n := newNet(t, []int64{1, 2, 3}, []int64{9}, 1)
	n.start(9, 0, 0)
	for _, id := range []int64{1, 2, 3} {
		n.start(id, 0x100000001, 1)
	}
	n.settle(20)
	n.expect(3)
	if v := n.peers[9].Vote(); v.Leader != 3 {
		t.Fatalf("observer's vote %v", v)
	}
	// An observer's vote never counts, and a vote for it never wins.
	q, _ := NewMajority([]int64{1, 2, 3})
	e, _ := New(Config{ID: 1, Quorum: q, Observers: []int64{9}, Resend: 5, Finalize: 1})
	e.Start(Vote{1, 0, 0})
	e.Messages()
	if err := e.Step(9, Notification{Vote{1, 0, 0}, 1, Looking}); err != nil {
		t.Fatal(err)
	}
	if e.State() != Looking || len(e.recv) != 1 {
		t.Fatalf("observer's vote counted: %v", e.recv)
	}
	if out := e.Messages(); len(out) != 1 || out[0].To != 9 {
		t.Fatalf("observer not answered: %+v", out)
	}
	if err := e.Step(2, Notification{Vote{9, 99, 9}, 1, Looking}); !errors.Is(err, ErrBadNotification) {
		t.Fatalf("vote for an observer: %v", err)
	}
	// An observer started with a real vote still proposes nothing.
	o, _ := New(Config{ID: 9, Quorum: q, Observers: []int64{9}, Resend: 5})
	o.Start(Vote{9, 100, 100})
	if o.Vote() != NoVote {
		t.Fatalf("observer proposes %v", o.Vote())
	}
}

func TestResendAfterLoss(t *testing.T) {
	n := newNet(t, []int64{1, 2, 3}, nil, 1)
	for _, id := range []int64{1, 2, 3} {
		n.start(id, 0, 0)
	}
	clear(n.links) // every first notification is lost
	n.tick()
	if len(n.keys()) != 0 {
		t.Fatal("re-sent before the interval")
	}
	n.tick() // Resend = 2
	if len(n.keys()) == 0 {
		t.Fatal("no re-send")
	}
	n.settle(10)
	n.expect(3)
	// LinkUp re-sends to that peer at once.
	e := n.peers[3]
	e.Start(Vote{3, 0, 0})
	e.Messages()
	e.LinkUp(1)
	e.LinkUp(3)
	if out := e.Messages(); len(out) != 1 || out[0].To != 1 {
		t.Fatalf("LinkUp: %+v", out)
	}
}

func TestBackoffDoubles(t *testing.T) {
	q, _ := NewMajority([]int64{1, 2, 3})
	e, _ := New(Config{ID: 1, Quorum: q, Resend: 1, MaxResend: 4})
	e.Start(Vote{1, 0, 0})
	e.Messages()
	var sent []int
	for tick := 1; tick <= 20; tick++ {
		e.Tick()
		if len(e.Messages()) > 0 {
			sent = append(sent, tick)
		}
	}
	want := []int{1, 3, 7, 11, 15, 19}
	if len(sent) != len(want) {
		t.Fatalf("re-sends at %v, want %v", sent, want)
	}
	for i := range want {
		if sent[i] != want[i] {
			t.Fatalf("re-sends at %v, want %v", sent, want)
		}
	}
}

func TestStepRejects(t *testing.T) {
	q, _ := NewMajority([]int64{1, 2, 3})
	e, _ := New(Config{ID: 1, Quorum: q, Observers: []int64{4}, Resend: 5})
	if err := e.Step(2, Notification{Vote{2, 0, 0}, 1, Looking}); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("before Start: %v", err)
	}
	e.Start(Vote{1, 0, 0})
	for _, tc := range []struct {
		from int64
		n    Notification
		want error
	}{
		{5, Notification{Vote{2, 0, 0}, 1, Looking}, ErrUnknownPeer},
		{1, Notification{Vote{2, 0, 0}, 1, Looking}, ErrUnknownPeer},
		{2, Notification{Vote{2, 0, 0}, 0, Looking}, ErrBadNotification},
		{2, Notification{Vote{2, 0, 0}, 1, 0}, ErrBadNotification},
		{2, Notification{Vote{2, 0, 0}, 1, 9}, ErrBadNotification},
		{2, Notification{Vote{0, 0, 0}, 1, Looking}, ErrBadNotification},
		{2, Notification{Vote{300, 0, 0}, 1, Looking}, ErrBadNotification},
		{2, Notification{Vote{2, -5, 0}, 1, Looking}, ErrBadNotification},
		{2, Notification{Vote{2, 0, MaxEpoch + 1}, 1, Looking}, ErrBadNotification},
		{2, Notification{Vote{4, 0, 0}, 1, Looking}, ErrBadNotification},
	} {
		if err := e.Step(tc.from, tc.n); !errors.Is(err, tc.want) {
			t.Errorf("Step(%d, %+v) = %v, want %v", tc.from, tc.n, err, tc.want)
		}
	}
	if e.Vote() != (Vote{1, 0, 0}) || e.Round() != 1 {
		t.Fatalf("rejected input changed state: %v %d", e.Vote(), e.Round())
	}
	for _, cfg := range []Config{
		{ID: 1, Resend: 1},
		{ID: 1, Quorum: q, Resend: 0},
		{ID: 1, Quorum: q, Resend: 1, Finalize: -1},
		{ID: 9, Quorum: q, Resend: 1},
		{ID: 1, Quorum: q, Resend: 1, Observers: []int64{2}},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrBadConfig) {
			t.Errorf("New(%+v) = %v", cfg, err)
		}
	}
}

// TestRandomSchedules: peers start at random times with random logs, and
// messages are delivered in a random order (FIFO per link), some lost; once
// the network is reliable again every peer must decide for one leader, the
// best of the votes.
func TestRandomSchedules(t *testing.T) {
	for seed := uint64(1); seed <= 300; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		size := 2 + r.IntN(6)
		var voters []int64
		for i := 1; i <= size; i++ {
			voters = append(voters, int64(i))
		}
		var observers []int64
		if r.IntN(2) == 0 {
			observers = []int64{100}
		}
		n := newNet(t, voters, observers, r.IntN(3))
		best := Vote{}
		votes := map[int64]Vote{}
		for _, id := range voters {
			v := Vote{id, int64(r.IntN(3))<<32 | int64(r.IntN(3)), int64(r.IntN(3))}
			votes[id] = v
			if v.Beats(best) {
				best = v
			}
		}
		order := shuffled(r, append(voters, observers...))
		for step := 0; step < 400; step++ {
			switch x := r.IntN(10); {
			case x == 0 && len(order) > 0:
				id := order[0]
				order = order[1:]
				n.start(id, votes[id].Zxid, votes[id].Epoch)
			case x == 1:
				n.tick()
			case x == 2 && step < 200: // lose a message
				if ks := n.keys(); len(ks) > 0 {
					k := ks[r.IntN(len(ks))]
					n.links[k] = n.links[k][1:]
				}
			default:
				if ks := n.keys(); len(ks) > 0 {
					k := ks[r.IntN(len(ks))]
					n.deliver(k[0], k[1])
				}
			}
		}
		for _, id := range order {
			n.start(id, votes[id].Zxid, votes[id].Epoch)
		}
		// FLE alone may leave a minority following a peer that does not
		// lead (decided on stale votes); ZAB's discovery then times out and
		// such peers look again. Model that loop.
		for round := 0; ; round++ {
			for i := 0; i < 50 && !n.allDecided(); i++ {
				n.deliverAll()
				n.tick()
			}
			n.deliverAll()
			stray := n.strays()
			if len(stray) == 0 && n.allDecided() {
				break
			}
			if round > 20 {
				t.Fatalf("seed %d: never converged: %s", seed, n)
			}
			for _, id := range stray {
				n.start(id, votes[id].Zxid, votes[id].Epoch)
			}
		}
		n.expect(n.peers[voters[0]].Leader())
	}
}

// strays returns the decided peers that ZAB would send back to LOOKING: their
// leader does not lead, or not enough voters follow it to form a quorum.
func (n *net) strays() []int64 {
	support := map[int64][]int64{}
	for _, id := range n.ids() {
		if e := n.peers[id]; e.State() != Looking {
			support[e.Leader()] = append(support[e.Leader()], id)
		}
	}
	var out []int64
	for _, id := range n.ids() {
		e := n.peers[id]
		if e.State() == Looking {
			continue
		}
		l := n.peers[e.Leader()]
		if l == nil || l.State() != Leading || !n.q.HasQuorum(support[e.Leader()]) {
			out = append(out, id)
		}
	}
	return out
}
