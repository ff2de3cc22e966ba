package election

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// net is a hand-driven network of elections: messages wait in per-link FIFO
// queues until the test delivers them.
type net struct {
	t        testing.TB
	q        Quorum
	obs      []int64
	finalize int
	peers    map[int64]*Election
	links    map[[2]int64][]Notification // {from, to} -> queue
	down     map[int64]bool              // crashed: messages to it are lost
	started  map[int64]bool              // messages to a peer wait until it starts
}

func newNet(t testing.TB, voters, observers []int64, finalize int) *net {
	t.Helper()
	q, err := NewMajority(voters)
	if err != nil {
		t.Fatal(err)
	}
	return newNetQ(t, q, observers, finalize)
}

// newNetQ is newNet with the quorum rule q (its voters are the voters).
func newNetQ(t testing.TB, q Quorum, observers []int64, finalize int) *net {
	voters := q.Voters()
	n := &net{t: t, q: q, obs: observers, finalize: finalize, peers: map[int64]*Election{},
		links: map[[2]int64][]Notification{}, down: map[int64]bool{}, started: map[int64]bool{}}
	for _, id := range append(slices.Clone(voters), observers...) {
		n.add(id)
	}
	return n
}

func (n *net) add(id int64) *Election {
	e, err := New(Config{ID: id, Quorum: n.q, Observers: n.obs, Finalize: n.finalize, Resend: 2})
	if err != nil {
		n.t.Fatal(err)
	}
	n.peers[id] = e
	return e
}

// start starts peer id with vote (zxid, epoch) (NoVote for observers).
func (n *net) start(id, zxid, epoch int64) {
	e := n.peers[id]
	n.started[id] = true
	if n.q.IsVoter(id) {
		e.Start(Vote{Leader: id, Zxid: zxid, Epoch: epoch})
	} else {
		e.Start(NoVote)
	}
	n.collect(id)
}

func (n *net) collect(id int64) {
	for _, m := range n.peers[id].Messages() {
		if n.down[id] || n.down[m.To] {
			continue
		}
		k := [2]int64{id, m.To}
		n.links[k] = append(n.links[k], m.Notification)
	}
}

// deliver delivers the head of link from->to; it reports whether there was one.
func (n *net) deliver(from, to int64) bool {
	k := [2]int64{from, to}
	q := n.links[k]
	if len(q) == 0 {
		return false
	}
	n.links[k] = q[1:]
	if err := n.peers[to].Step(from, q[0]); err != nil {
		n.t.Fatalf("%d->%d %+v: %v", from, to, q[0], err)
	}
	n.collect(to)
	return true
}

func (n *net) keys() [][2]int64 {
	var ks [][2]int64
	for k, q := range n.links {
		if len(q) > 0 && n.started[k[1]] {
			ks = append(ks, k)
		}
	}
	slices.SortFunc(ks, func(a, b [2]int64) int {
		if a[0] != b[0] {
			return int(a[0] - b[0])
		}
		return int(a[1] - b[1])
	})
	return ks
}

// deliverAll delivers until no message is in flight, in a deterministic order.
func (n *net) deliverAll() {
	for i := 0; ; i++ {
		ks := n.keys()
		if len(ks) == 0 {
			return
		}
		if i > 100000 {
			n.t.Fatal("election messages never settle")
		}
		n.deliver(ks[0][0], ks[0][1])
	}
}

func (n *net) tick() {
	for _, id := range n.ids() {
		if !n.down[id] && n.started[id] {
			n.peers[id].Tick()
			n.collect(id)
		}
	}
}

func (n *net) ids() []int64 {
	var ids []int64
	for id := range n.peers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// settle delivers and ticks until every live peer has decided.
func (n *net) settle(maxTicks int) {
	n.t.Helper()
	for i := 0; i < maxTicks; i++ {
		n.deliverAll()
		if n.allDecided() {
			return
		}
		n.tick()
	}
	n.t.Fatalf("not decided after %d ticks: %s", maxTicks, n)
}

func (n *net) allDecided() bool {
	for id, e := range n.peers {
		if !n.down[id] && e.State() == Looking {
			return false
		}
	}
	return true
}

func (n *net) String() string {
	s := ""
	for _, id := range n.ids() {
		e := n.peers[id]
		s += fmt.Sprintf("[%d %v round %d vote %v] ", id, e.State(), e.Round(), e.Vote())
	}
	return s
}

// expect checks every live peer decided for leader with the right states.
func (n *net) expect(leader int64) {
	n.t.Helper()
	for _, id := range n.ids() {
		if n.down[id] {
			continue
		}
		e := n.peers[id]
		want := Following
		switch {
		case id == leader:
			want = Leading
		case !n.q.IsVoter(id):
			want = Observing
		}
		if e.State() != want || e.Leader() != leader {
			n.t.Fatalf("peer %d: %v leader %d, want %v leader %d; %s", id, e.State(), e.Leader(), want, leader, n)
		}
	}
}

func (n *net) crash(id int64) {
	n.down[id] = true
	for k := range n.links {
		if k[0] == id || k[1] == id {
			delete(n.links, k)
		}
	}
}

func (n *net) restart(id int64) *Election {
	n.down[id] = false
	n.started[id] = false
	return n.add(id)
}

func shuffled(r *rand.Rand, ids []int64) []int64 {
	ids = slices.Clone(ids)
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	return ids
}
