package transport_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk/zab/transport"
	"github.com/embedzk/zk/zab/transport/internal/leak"
	"github.com/embedzk/zk/zab/transport/transporttest"
)

// manualNet makes a manual network of peers 1..n with every endpoint
// created and every connection announced.
func manualNet(t *testing.T, n int) (*transport.Network, map[int64]*transport.Endpoint) {
	t.Helper()
	transporttest.CheckGoroutines(t)
	var ids []int64
	for i := 1; i <= n; i++ {
		ids = append(ids, int64(i))
	}
	net := transport.NewNetwork(transport.NetworkOptions{Peers: ids, Manual: true})
	t.Cleanup(net.Close)
	eps := make(map[int64]*transport.Endpoint)
	for _, id := range ids {
		eps[id] = net.Endpoint(id)
	}
	net.DeliverAll()
	for _, id := range ids {
		for range n - 1 {
			if ev := <-eps[id].Events(); ev.Kind != transport.EventUp {
				t.Fatalf("peer %d: %v, want Up", id, ev.Kind)
			}
		}
	}
	return net, eps
}

// drain returns every event waiting on e, without blocking.
func drain(e *transport.Endpoint) []transport.Event {
	var out []transport.Event
	for {
		select {
		case ev, ok := <-e.Events():
			if !ok {
				return out
			}
			out = append(out, ev)
		default:
			return out
		}
	}
}

// trace renders events as "Up2 F2:x Down3".
func trace(evs []transport.Event) string {
	var parts []string
	for _, ev := range evs {
		switch ev.Kind {
		case transport.EventFrame:
			parts = append(parts, fmt.Sprintf("F%d:%s", ev.Peer, ev.Frame))
		default:
			parts = append(parts, fmt.Sprintf("%v%d", ev.Kind, ev.Peer))
		}
	}
	return strings.Join(parts, " ")
}

func connected(net *transport.Network, ids []int64) string {
	var pairs []string
	for i, a := range ids {
		for _, b := range ids[i+1:] {
			if net.Connected(a, b) {
				pairs = append(pairs, fmt.Sprintf("%d-%d", a, b))
			}
		}
	}
	return strings.Join(pairs, " ")
}

func TestNetworkPartitionAndHeal(t *testing.T) {
	net, eps := manualNet(t, 5)
	ids := net.Peers()
	net.Partition([]int64{1, 2}, []int64{3, 4})
	if got, want := connected(net, ids), "1-2 3-4"; got != want {
		t.Fatalf("connected %q, want %q (5 is in no group: isolated)", got, want)
	}
	net.DeliverAll()
	if got := trace(drain(eps[1])); got != "Down3 Down4 Down5" {
		t.Fatalf("peer 1 saw %q", got)
	}
	if err := eps[1].Send(3, []byte("x")); !errors.Is(err, transport.ErrNotConnected) {
		t.Fatalf("Send across the partition: %v", err)
	}
	if err := eps[1].Send(2, []byte("x")); err != nil {
		t.Fatalf("Send inside a group: %v", err)
	}
	net.Heal()
	net.DeliverAll()
	if got, want := connected(net, ids), "1-2 1-3 1-4 1-5 2-3 2-4 2-5 3-4 3-5 4-5"; got != want {
		t.Fatalf("after Heal: %q", got)
	}
	if got := trace(drain(eps[2])); got != "Down3 Down4 Down5 F1:x Up3 Up4 Up5" {
		t.Fatalf("peer 2 saw %q", got)
	}
}

func TestNetworkIsolateAndCut(t *testing.T) {
	net, _ := manualNet(t, 4)
	ids := net.Peers()
	net.Isolate(1) // a leader cut from its followers
	if got, want := connected(net, ids), "2-3 2-4 3-4"; got != want {
		t.Fatalf("isolated: %q, want %q", got, want)
	}
	net.Heal()
	net.Cut(2, 3) // a partial partition: 2 and 3 still reach 1 and 4
	if got, want := connected(net, ids), "1-2 1-3 1-4 2-4 3-4"; got != want {
		t.Fatalf("cut: %q, want %q", got, want)
	}
	if net.Break(2, 3) {
		t.Fatal("Break of a cut pair found a connection")
	}
	net.Heal()
	if !net.Connected(2, 3) {
		t.Fatal("Heal did not restore 2-3")
	}
}

func TestNetworkBlockOneWay(t *testing.T) {
	net, eps := manualNet(t, 2)
	net.BlockOneWay(1, 2)
	// Nothing is in flight, so the connection lives, and 2 -> 1 works.
	if err := eps[2].Send(1, []byte("up")); err != nil {
		t.Fatal(err)
	}
	net.DeliverAll()
	if got := trace(drain(eps[1])); got != "F2:up" {
		t.Fatalf("peer 1 saw %q", got)
	}
	// 1 -> 2 is accepted and lost, which breaks the connection for good.
	if err := eps[1].Send(2, []byte("lost")); err != nil {
		t.Fatalf("Send into the block: %v", err)
	}
	if net.Connected(1, 2) {
		t.Fatal("still connected after a lost frame")
	}
	net.DeliverAll()
	if a, b := trace(drain(eps[1])), trace(drain(eps[2])); a != "Down2" || b != "Down1" {
		t.Fatalf("peer 1 saw %q, peer 2 %q", a, b)
	}
	if st := net.Stats()[transport.Link{From: 1, To: 2}]; st.Sent != 1 || st.Dropped != 1 || st.Delivered != 0 {
		t.Fatalf("stats 1->2: %+v", st)
	}
	net.Heal()
	net.DeliverAll()
	if a, b := trace(drain(eps[1])), trace(drain(eps[2])); a != "Up2" || b != "Up1" {
		t.Fatalf("after Heal peer 1 saw %q, peer 2 %q", a, b)
	}
	// A block with frames already in flight breaks at once.
	if err := eps[1].Send(2, []byte("in flight")); err != nil {
		t.Fatal(err)
	}
	net.BlockOneWay(1, 2)
	if net.Connected(1, 2) {
		t.Fatal("a block over a frame in flight kept the connection")
	}
	net.DeliverAll()
	if b := trace(drain(eps[2])); b != "Down1" {
		t.Fatalf("peer 2 saw %q", b)
	}
}

func TestNetworkPause(t *testing.T) {
	net, eps := manualNet(t, 3)
	net.Pause(2)
	eps[1].Send(2, []byte("a"))
	eps[2].Send(3, []byte("b")) // a paused process's sends queue too
	eps[1].Send(3, []byte("c"))
	net.Break(1, 2)
	if got := net.Pending(); len(got) != 2 || got[0].To != 1 || got[0].Kind != transport.EventDown ||
		got[1].To != 3 || got[1].Kind != transport.EventFrame || got[1].From != 1 {
		t.Fatalf("pending while 2 is paused: %+v", got)
	}
	net.DeliverAll()
	if got := trace(drain(eps[3])); got != "F1:c" {
		t.Fatalf("peer 3 saw %q", got)
	}
	net.Resume(2)
	net.DeliverAll()
	if got := trace(drain(eps[2])); got != "Down1 Up1" {
		t.Fatalf("peer 2 saw %q (its frame from 1 was lost with the connection)", got)
	}
	if got := trace(drain(eps[3])); got != "F2:b" {
		t.Fatalf("peer 3 saw %q", got)
	}
}

func TestNetworkCrashRestart(t *testing.T) {
	net, eps := manualNet(t, 3)
	eps[2].Send(1, []byte("lost with 2"))
	net.Crash(2)
	if _, ok := <-eps[2].Events(); ok {
		t.Fatal("a crashed endpoint's Events is open")
	}
	if err := eps[2].Send(1, nil); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("Send on a crashed endpoint: %v", err)
	}
	net.DeliverAll()
	if got := trace(drain(eps[1])); got != "Down2" {
		t.Fatalf("peer 1 saw %q", got)
	}
	if net.Endpoint(2) != eps[2] {
		t.Fatal("Endpoint replaced a crashed endpoint without Restart")
	}
	e2 := net.Restart(2)
	net.DeliverAll()
	if got := trace(drain(e2)); got != "Up1 Up3" {
		t.Fatalf("the new 2 saw %q", got)
	}
	if got := trace(drain(eps[3])); got != "Down2 Up2" {
		t.Fatalf("peer 3 saw %q", got)
	}
	if st := net.Stats()[transport.Link{From: 2, To: 1}]; st.Dropped != 1 {
		t.Fatalf("stats 2->1: %+v", st)
	}
}

// TestNetworkManualBackPressure: a receiver with a full channel is not
// pending, so Deliver never blocks and DeliverAll ends.
func TestNetworkManualBackPressure(t *testing.T) {
	transporttest.CheckGoroutines(t)
	net := transport.NewNetwork(transport.NetworkOptions{Peers: []int64{1, 2}, Manual: true, EventBuffer: 2})
	defer net.Close()
	e1, e2 := net.Endpoint(1), net.Endpoint(2)
	net.DeliverAll()
	drain(e1)
	drain(e2)
	for i := range 5 {
		if err := e1.Send(2, []byte{byte('0' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := net.DeliverAll(); n != 2 {
		t.Fatalf("delivered %d into a channel of 2", n)
	}
	if got := net.Pending(); len(got) != 0 {
		t.Fatalf("pending with a full receiver: %+v", got)
	}
	if got := trace(drain(e2)); got != "F1:0 F1:1" {
		t.Fatalf("got %q", got)
	}
	net.DeliverAll()
	if got := trace(drain(e2)); got != "F1:2 F1:3" {
		t.Fatalf("got %q", got)
	}
}

func TestNetworkDeliverChecksPending(t *testing.T) {
	net, eps := manualNet(t, 2)
	eps[1].Send(2, []byte("a"))
	eps[1].Send(2, []byte("b"))
	ps := net.Pending()
	if len(ps) != 1 || ps[0].Size != 1 {
		t.Fatalf("pending: %+v (only the head of a link)", ps)
	}
	stale := ps[0]
	if err := net.Deliver(stale); err != nil {
		t.Fatal(err)
	}
	if err := net.Deliver(stale); !errors.Is(err, transport.ErrNotPending) {
		t.Fatalf("delivering twice: %v", err)
	}
	net.Break(1, 2)
	if got := net.Pending(); len(got) != 2 || got[0].Kind != transport.EventDown {
		t.Fatalf("after Break: %+v", got)
	}
}

// TestNetworkManualStartsNoGoroutine: manual mode runs on the caller's
// goroutine only.
func TestNetworkManualStartsNoGoroutine(t *testing.T) {
	before := leak.Take()
	net, eps := manualNet(t, 5)
	eps[1].Send(2, []byte("x"))
	net.Partition([]int64{1, 2})
	net.Heal()
	net.Restart(3)
	net.DeliverAll()
	if fresh := before.Fresh(); len(fresh) > 0 {
		t.Fatalf("manual mode started goroutines:\n%s", strings.Join(fresh, "\n\n"))
	}
}

// simulate runs a seeded random scenario on a manual network and returns
// its trace: what every endpoint saw, in order, and the final stats.
func simulate(seed uint64, steps int) string {
	rng := rand.New(rand.NewPCG(seed, 42))
	ids := []int64{1, 2, 3, 4, 5}
	net := transport.NewNetwork(transport.NetworkOptions{Peers: ids, Manual: true, MaxQueue: 4 << 10})
	defer net.Close()
	eps := make(map[int64]*transport.Endpoint)
	for _, id := range ids {
		eps[id] = net.Endpoint(id)
	}
	var b strings.Builder
	pick := func() int64 { return ids[rng.IntN(len(ids))] }
	for i := range steps {
		switch r := rng.IntN(100); {
		case r < 40:
			from, to := pick(), pick()
			err := eps[from].Send(to, fmt.Appendf(nil, "%d", i))
			fmt.Fprintf(&b, "send %d->%d %v\n", from, to, err)
		case r < 80:
			if ps := net.Pending(); len(ps) > 0 {
				p := ps[rng.IntN(len(ps))]
				fmt.Fprintf(&b, "deliver %+v %v\n", p, net.Deliver(p))
			}
		case r < 84:
			a, c := pick(), pick()
			fmt.Fprintf(&b, "break %d-%d %v\n", a, c, a != c && net.Break(a, c))
		case r < 87:
			net.Partition(ids[:2], ids[2:4])
		case r < 90:
			net.Heal()
		case r < 93:
			net.Pause(pick())
		case r < 95:
			net.Resume(pick())
		case r < 97:
			id := pick()
			eps[id] = net.Restart(id)
		default:
			net.BlockOneWay(pick(), pick())
		}
		for _, id := range ids {
			if evs := drain(eps[id]); len(evs) > 0 {
				fmt.Fprintf(&b, "  %d: %s\n", id, trace(evs))
			}
		}
	}
	stats := net.Stats()
	links := make([]transport.Link, 0, len(stats))
	for l := range stats {
		links = append(links, l)
	}
	slices.SortFunc(links, func(x, y transport.Link) int {
		if x.From != y.From {
			return int(x.From - y.From)
		}
		return int(x.To - y.To)
	})
	for _, l := range links {
		fmt.Fprintf(&b, "%v %+v\n", l, stats[l])
	}
	return b.String()
}

// TestNetworkDeterministic: a seeded simulation replays bit for bit, and
// different seeds explore different runs.
func TestNetworkDeterministic(t *testing.T) {
	transporttest.CheckGoroutines(t)
	seed := uint64(time.Now().UnixNano())
	a, b := simulate(seed, 3000), simulate(seed, 3000)
	if a != b {
		t.Fatalf("seed %d: two runs differ", seed)
	}
	if c := simulate(seed+1, 3000); c == a {
		t.Fatalf("seeds %d and %d gave the same run", seed, seed+1)
	}
	if !strings.Contains(a, "Down") || !strings.Contains(a, " F") {
		t.Fatalf("seed %d: the scenario delivered no frame or no Down:\n%s", seed, a)
	}
}

// TestNetworkAutoDelay: a delayed link is overtaken by an undelayed one,
// keeps its own FIFO order when the delay changes, and still arrives.
func TestNetworkAutoDelay(t *testing.T) {
	transporttest.CheckGoroutines(t)
	net := transport.NewNetwork(transport.NetworkOptions{Peers: []int64{1, 2, 3}})
	defer net.Close()
	e1, e2, e3 := net.Endpoint(1), net.Endpoint(2), net.Endpoint(3)
	next := func(e *transport.Endpoint) transport.Event {
		t.Helper()
		select {
		case ev := <-e.Events():
			return ev
		case <-time.After(20 * time.Second):
			t.Fatal("no event")
		}
		return transport.Event{}
	}
	for _, e := range []*transport.Endpoint{e1, e3} {
		for range 2 {
			if ev := next(e); ev.Kind != transport.EventUp {
				t.Fatalf("peer %d: %v", e.ID(), ev.Kind)
			}
		}
	}
	var ups []string
	for range 2 {
		ups = append(ups, trace([]transport.Event{next(e2)}))
	}
	net.SetDelay(1, 2, time.Second)
	if err := e1.Send(2, []byte("slow")); err != nil {
		t.Fatal(err)
	}
	net.SetDelay(1, 2, 0)
	if err := e1.Send(2, []byte("after")); err != nil { // must not overtake "slow"
		t.Fatal(err)
	}
	if err := e3.Send(2, []byte("fast")); err != nil {
		t.Fatal(err)
	}
	var got []transport.Event
	for range 3 {
		got = append(got, next(e2))
	}
	if s := trace(got); s != "F3:fast F1:slow F1:after" {
		t.Fatalf("peer 2 saw %q after %v", s, ups)
	}
}
