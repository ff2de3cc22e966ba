package recipes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/embedzk/zk"
)

// midOp arranges a leader change in the middle of an operation: at the
// k-th write a Client sends through cc (counting from 1), the leader is
// isolated, either before the write goes (it fails, its outcome unknown to
// the Client) or after it happened (its reply is lost). A new leader is
// elected by the two others; heal lets the old one back as a follower.
type midOp struct {
	cl        *cluster
	cc        *counter
	k         int
	replyLost bool

	mu     sync.Mutex
	writes int
	fired  bool
}

func (m *midOp) arm() {
	isWrite := func(name string) bool { return name == "create" || name == "delete" || name == "multi" }
	due := func(name string) bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		if !isWrite(name) || m.fired {
			return false
		}
		m.writes++
		if m.writes == m.k {
			m.fired = true
			return true
		}
		return false
	}
	if !m.replyLost {
		m.cc.set(func(name string) error {
			if due(name) {
				m.cl.net.Isolate(int64(m.cl.leader() + 1))
			}
			return nil
		}, nil)
		return
	}
	m.cc.set(nil, func(name string, err error) error {
		if err == nil && due(name) {
			m.cl.net.Isolate(int64(m.cl.leader() + 1))
			return fmt.Errorf("reply lost: %w", zk.ErrConnectionLoss)
		}
		return err
	})
}

func (m *midOp) didFire() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fired
}

// clusterCase is one recipe's scripted operations: run uses c (whose
// writes midOp watches) and other (a Client on another peer), and fails
// the test if the outcome is wrong.
type clusterCase struct {
	name string
	k    int // the write at which the leader changes
	run  func(t *testing.T, ctx context.Context, c, other *Client)
}

// TestLeaderChangeMidOperation: every recipe's operations come out right
// when the leader changes in the middle of one of them, before a write is
// sent or after it happened with its reply lost.
func TestLeaderChangeMidOperation(t *testing.T) {
	for _, cs := range clusterCases() {
		for _, lost := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/replyLost=%v", cs.name, lost), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) { runClusterCase(t, cs, lost) })
			})
		}
	}
}

func runClusterCase(t *testing.T, cs clusterCase, replyLost bool) {
	cl := newCluster(t)
	f := cl.follower()
	s := must[*zk.Session](t)(cl.ens[f].NewSession(t.Context(), zk.WithSessionTimeout(20*tickTime)))
	cc := &counter{Conn: s}
	c := must[*Client](t)(NewClient(cc))
	defer c.Close(context.Background())
	o := must[*zk.Session](t)(cl.ens[(f+1)%3].NewSession(t.Context(), zk.WithSessionTimeout(20*tickTime)))
	other := must[*Client](t)(NewClient(o))
	defer other.Close(context.Background())
	if (f+1)%3 == cl.leader() {
		// other's peer is the leader that goes: give it the third peer.
		o2 := must[*zk.Session](t)(cl.ens[3-f-cl.leader()].NewSession(t.Context(), zk.WithSessionTimeout(20*tickTime)))
		other.Close(context.Background())
		other = must[*Client](t)(NewClient(o2))
		defer other.Close(context.Background())
	}
	old := cl.leader()
	m := &midOp{cl: cl, cc: cc, k: cs.k, replyLost: replyLost}
	m.arm()
	cs.run(t, t.Context(), c, other)
	if !m.didFire() {
		t.Fatalf("the operations made fewer than %d writes: no leader change", cs.k)
	}
	cl.waitFor("a new leader", func() bool {
		for i, e := range cl.ens {
			if st := e.Status(); i != old && st.Mode == zk.ModeLeading && st.Serving {
				return true
			}
		}
		return false
	})
	cl.net.Heal()
}

func clusterCases() []clusterCase {
	return []clusterCase{
		{"queue", 3, clusterQueue},
		{"priority queue", 4, clusterPriorityQueue},
		{"delay queue", 2, clusterDelayQueue},
		{"atomic long", 2, clusterAtomicLong},
		{"shared count", 3, clusterSharedCount},
		{"barrier", 1, clusterBarrier},
		{"double barrier", 1, clusterDoubleBarrier},
		{"group member", 1, clusterGroupMember},
		{"service discovery", 2, clusterDiscovery},
	}
}

// clusterQueue: three puts and three takes; each item acknowledged once.
func clusterQueue(t *testing.T, ctx context.Context, c, other *Client) {
	q := must[*DistributedQueue](t)(NewDistributedQueue(c, "/q"))
	for i := range 3 {
		if err := q.Put(ctx, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for range 3 {
		got = append(got, takeAck(t, ctx, q.Take))
	}
	if !slices.Equal(got, []string{"0", "1", "2"}) {
		t.Fatalf("took %v", got)
	}
	oq := must[*DistributedQueue](t)(NewDistributedQueue(other, "/q"))
	if items := must[[]string](t)(oq.Items(ctx)); len(items) != 0 {
		t.Fatalf("items left: %v", items)
	}
}

// clusterPriorityQueue: three items come out by priority, each
// acknowledged once.
func clusterPriorityQueue(t *testing.T, ctx context.Context, c, other *Client) {
	q := must[*DistributedPriorityQueue](t)(NewDistributedPriorityQueue(c, "/pq"))
	for _, p := range []int32{5, -1, 2} {
		if err := q.Put(ctx, []byte(fmt.Sprint(p)), p); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for range 3 {
		got = append(got, takeAck(t, ctx, q.Take))
	}
	if !slices.Equal(got, []string{"-1", "2", "5"}) {
		t.Fatalf("took %v", got)
	}
	oq := must[*DistributedPriorityQueue](t)(NewDistributedPriorityQueue(other, "/pq"))
	if items := must[[]string](t)(oq.Items(ctx)); len(items) != 0 {
		t.Fatalf("items left: %v", items)
	}
}

// clusterDelayQueue: two items come out earliest first, none before its
// time, each acknowledged once.
func clusterDelayQueue(t *testing.T, ctx context.Context, c, other *Client) {
	q := must[*DistributedDelayQueue](t)(NewDistributedDelayQueue(c, "/dq"))
	due := map[string]time.Time{"later": time.Now().Add(time.Minute), "now": time.Now()}
	for _, name := range []string{"later", "now"} {
		if err := q.Put(ctx, []byte(name), due[name]); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for range 2 {
		name := takeAck(t, ctx, q.Take)
		if time.Now().Before(due[name]) {
			t.Fatalf("%s taken %v early", name, due[name].Sub(time.Now()))
		}
		got = append(got, name)
	}
	if !slices.Equal(got, []string{"now", "later"}) {
		t.Fatalf("took %v", got)
	}
	oq := must[*DistributedDelayQueue](t)(NewDistributedDelayQueue(other, "/dq"))
	if items := must[[]string](t)(oq.Items(ctx)); len(items) != 0 {
		t.Fatalf("items left: %v", items)
	}
}

// clusterAtomicLong: five increments, each done once.
func clusterAtomicLong(t *testing.T, ctx context.Context, c, other *Client) {
	a := must[*DistributedAtomicLong](t)(NewDistributedAtomicLong(c, "/n"))
	for i := range 5 {
		v, err := a.Increment(ctx)
		if err != nil || !v.Succeeded || v.PostValue != int64(i+1) {
			t.Fatalf("increment %d: %+v %v", i, v, err)
		}
	}
	b := must[*DistributedAtomicLong](t)(NewDistributedAtomicLong(other, "/n"))
	if v := must[AtomicValue](t)(b.Get(ctx)); v.PostValue != 5 {
		t.Fatalf("value %d after 5 increments", v.PostValue)
	}
}

// clusterSharedCount: three compare-and-sets, each done once.
func clusterSharedCount(t *testing.T, ctx context.Context, c, other *Client) {
	sc := must[*SharedCount](t)(NewSharedCount(c, "/sc", 0))
	if err := sc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	for i := range 3 {
		if ok, err := sc.TrySetCount(ctx, sc.VersionedCount(), int32(i+1)); !ok || err != nil {
			t.Fatalf("try set %d: %v %v", i, ok, err)
		}
	}
	oc := must[*SharedCount](t)(NewSharedCount(other, "/sc", 0))
	if err := oc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer oc.Close()
	if got := oc.VersionedCount(); got != (VersionedCount{Version: 3, Count: 3}) {
		t.Fatalf("count %+v", got)
	}
}

// clusterBarrier: a waiter on the other peer passes once c removes the
// barrier c set.
func clusterBarrier(t *testing.T, ctx context.Context, c, other *Client) {
	b := must[*DistributedBarrier](t)(NewDistributedBarrier(c, "/b"))
	if err := b.Set(ctx); err != nil {
		t.Fatal(err)
	}
	ob := must[*DistributedBarrier](t)(NewDistributedBarrier(other, "/b"))
	done := make(chan error, 1)
	go func() { done <- ob.Wait(ctx) }()
	synctest.Wait()
	if len(done) != 0 {
		t.Fatal("passed a set barrier")
	}
	if err := b.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// clusterDoubleBarrier: two members enter together and leave together.
func clusterDoubleBarrier(t *testing.T, ctx context.Context, c, other *Client) {
	ms := []*DistributedDoubleBarrier{
		must[*DistributedDoubleBarrier](t)(NewDistributedDoubleBarrier(c, "/db", 2)),
		must[*DistributedDoubleBarrier](t)(NewDistributedDoubleBarrier(other, "/db", 2)),
	}
	for _, step := range []func(*DistributedDoubleBarrier) error{
		func(m *DistributedDoubleBarrier) error { return m.Enter(ctx) },
		func(m *DistributedDoubleBarrier) error { return m.Leave(ctx) },
	} {
		errs := make(chan error, 2)
		for _, m := range ms {
			go func() { errs <- step(m) }()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}
}

// clusterGroupMember: a member joins; the other peer's member sees it.
func clusterGroupMember(t *testing.T, ctx context.Context, c, other *Client) {
	g := must[*GroupMember](t)(NewGroupMember(c, "/g", "a", []byte("pa")))
	og := must[*GroupMember](t)(NewGroupMember(other, "/g", "b", nil))
	if err := og.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer og.Close(ctx)
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer g.Close(ctx)
	for {
		changed := og.Changed() // before the read: no change missed
		if string(og.Members()["a"]) == "pa" {
			break
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
}

// clusterDiscovery: a registration lands once; the other peer's cache
// sees it.
func clusterDiscovery(t *testing.T, ctx context.Context, c, other *Client) {
	od := must[*ServiceDiscovery](t)(NewServiceDiscovery(other, "/svc"))
	defer od.Close(ctx)
	cache := must[*ServiceCache](t)(od.NewServiceCache("api"))
	if err := cache.Start(ctx); err != nil {
		t.Fatal(err)
	}
	d := must[*ServiceDiscovery](t)(NewServiceDiscovery(c, "/svc"))
	defer d.Close(ctx)
	inst := must[ServiceInstance](t)(d.Register(ctx, ServiceInstance{Name: "api", ID: "i1", Address: "h"}))
	for {
		changed := cache.Changed() // before the read: no change missed
		if len(cache.Instances()) == 1 {
			break
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	if got := cache.Instances()[0]; got.ID != inst.ID || got.Address != "h" {
		t.Fatalf("cache has %+v", got)
	}
	if err := d.Unregister(ctx, inst); err != nil && !errors.Is(err, zk.ErrNoNode) {
		t.Fatal(err)
	}
}
