package election

import (
	"slices"
	"testing"
)

// TestOutcomeOfFirstElection: the outcome names the round, this peer's own
// first vote, the decided vote and the ballots that agreed with it.
func TestOutcomeOfFirstElection(t *testing.T) {
	n := newNet(t, []int64{1, 2, 3}, nil, 1)
	if o := n.add(1).Outcome(); o.Round != 0 || len(o.Ballots) != 0 {
		t.Fatalf("outcome before any round: %+v", o)
	}
	n.start(1, 0x100000004, 1)
	n.start(2, 0x100000007, 1) // the best zxid: 2 must win
	n.start(3, 0x100000007, 0) // an older epoch
	n.settle(10)
	n.expect(2)
	o := n.peers[1].Outcome()
	if o.Round != 1 || o.State != Following || o.Joined {
		t.Fatalf("outcome of 1: %+v", o)
	}
	if o.Initial != (Vote{Leader: 1, Zxid: 0x100000004, Epoch: 1}) || o.Vote != (Vote{Leader: 2, Zxid: 0x100000007, Epoch: 1}) {
		t.Fatalf("votes of 1: initial %v, decided %v", o.Initial, o.Vote)
	}
	if !slices.Equal(o.Voters, []int64{1, 2, 3}) {
		t.Fatalf("voters %v", o.Voters)
	}
	agreed := 0
	for _, b := range o.Ballots {
		if b.Agrees {
			agreed++
			if b.Vote != o.Vote || b.State != Looking || b.Round != 1 {
				t.Fatalf("agreeing ballot %+v", b)
			}
		}
	}
	if agreed < 2 {
		t.Fatalf("fewer agreeing ballots than a quorum: %+v", o.Ballots)
	}
	if o := n.peers[2].Outcome(); o.State != Leading || o.Vote.Leader != 2 {
		t.Fatalf("outcome of 2: %+v", o)
	}
}

// TestOutcomeOfJoining: a peer that joins a running ensemble says it joined
// a leader that already leads, with that leader's LEADING ballot.
func TestOutcomeOfJoining(t *testing.T) {
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
	n.restart(3)
	n.start(3, 0x100000009, 1)
	n.deliverAll()
	n.expect(2)
	o := n.peers[3].Outcome()
	if !o.Joined || o.State != Following || o.Vote.Leader != 2 {
		t.Fatalf("outcome of the joiner: %+v", o)
	}
	var leading bool
	for _, b := range o.Ballots {
		leading = leading || (b.From == 2 && b.State == Leading && b.Agrees)
	}
	if !leading {
		t.Fatalf("no agreeing LEADING ballot of 2: %+v", o.Ballots)
	}
}

// TestFollowAnswersWithTheFollowedVote: a peer that follows a leader its
// election did not decide (Follow) answers looking voters with that
// leader's vote, so a looking voter concludes from it and the leader, and
// stale out-of-election votes no longer move it.
func TestFollowAnswersWithTheFollowedVote(t *testing.T) {
	q, _ := NewMajority([]int64{1, 2, 3, 4})
	leaderVote := Vote{3, 0x40000015b, 4}
	e, _ := New(Config{ID: 1, Quorum: q, Resend: 5})
	e.Start(Vote{1, 0x4000000ae, 4})
	e.Messages()
	if err := e.Follow(leaderVote); err != nil {
		t.Fatal(err)
	}
	if e.State() != Following || e.Vote() != leaderVote {
		t.Fatalf("%v %v", e.State(), e.Vote())
	}
	for _, from := range []int64{2, 4} { // an old leader and its follower
		_ = e.Step(from, Notification{Vote{2, 0x30000002d, 3}, 4, []State{Leading, Following}[from/4]})
	}
	if e.State() != Following || e.Vote() != leaderVote {
		t.Fatalf("stale votes moved it: %v %v", e.State(), e.Vote())
	}
	// A voter whose role changed looks: 1's answer, with 3's and 4's, is a
	// quorum agreeing on the leader.
	l, _ := New(Config{ID: 2, Quorum: q, Resend: 5})
	l.Start(Vote{2, 0x50000009a, 5})
	if err := e.Step(2, Notification{l.Vote(), l.Round(), Looking}); err != nil {
		t.Fatal(err)
	}
	for _, m := range e.Messages() {
		if err := l.Step(1, m.Notification); err != nil {
			t.Fatal(err)
		}
	}
	_ = l.Step(4, Notification{leaderVote, 5, Following})
	_ = l.Step(3, Notification{leaderVote, 5, Leading})
	if l.State() != Following || l.Leader() != 3 {
		t.Fatalf("the looking voter is %v, leader %d", l.State(), l.Leader())
	}
	if err := e.Follow(Vote{1, 0, 0}); err == nil {
		t.Fatal("followed itself")
	}
}
