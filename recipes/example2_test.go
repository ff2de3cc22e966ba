package recipes_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/recipes"
)

// sessions opens n sessions on one standalone ensemble (each stands for
// a process: a Client reads its session's state changes, so a session has
// one Client); stop closes the ensemble.
func sessions(n int) (ss []*zk.Session, stop func()) {
	dir, err := os.MkdirTemp("", "recipes-example-")
	check(err)
	ens, err := zk.NewEnsemble(zk.Config{DataDir: dir})
	check(err)
	for range n {
		s, err := ens.NewSession(context.Background())
		check(err)
		ss = append(ss, s)
	}
	return ss, func() {
		ens.Close()
		os.RemoveAll(dir)
	}
}

// check ends an example on an unexpected error.
func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// A DistributedBarrier holds workers back until a coordinator removes it.
func ExampleDistributedBarrier() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)

	b, err := recipes.NewDistributedBarrier(client, "/app/barrier")
	check(err)
	check(b.Set(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		check(b.Wait(ctx)) // returns once the barrier is removed
		fmt.Println("worker passed")
	})
	fmt.Println("removing the barrier")
	check(b.Remove(ctx))
	wg.Wait()
	// Output:
	// removing the barrier
	// worker passed
}

// Three members of a DistributedDoubleBarrier enter together: Enter
// returns once all three are in, Leave once all three are out.
func ExampleDistributedDoubleBarrier() {
	ss, stop := sessions(3)
	defer stop()
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lines []string
	for i, sess := range ss {
		wg.Go(func() {
			client := newClient(sess)
			defer client.Close(ctx)
			d, err := recipes.NewDistributedDoubleBarrier(client, "/app/round", 3)
			check(err)
			check(d.Enter(ctx)) // returns once the three are in
			mu.Lock()
			lines = append(lines, fmt.Sprintf("member %d computed", i))
			mu.Unlock()
			check(d.Leave(ctx)) // returns once the three are out
		})
	}
	wg.Wait()
	slices.Sort(lines)
	fmt.Println(strings.Join(lines, "\n"))
	// Output:
	// member 0 computed
	// member 1 computed
	// member 2 computed
}

// A DistributedQueue hands items out in the order they were put; a taken
// item is claimed until Ack removes it (if the consumer's session ends
// first, the item goes back to the queue).
func ExampleDistributedQueue() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)

	q, err := recipes.NewDistributedQueue(client, "/app/jobs")
	check(err)
	for _, job := range []string{"resize", "encode", "upload"} {
		check(q.Put(ctx, []byte(job)))
	}
	for range 3 {
		item, err := q.Take(ctx)
		check(err)
		fmt.Println("took", string(item.Data()))
		check(item.Ack(ctx))
	}
	// Output:
	// took resize
	// took encode
	// took upload
}

// A DistributedPriorityQueue hands out the lowest priority number first.
func ExampleDistributedPriorityQueue() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)

	q, err := recipes.NewDistributedPriorityQueue(client, "/app/tickets")
	check(err)
	check(q.Put(ctx, []byte("low"), 10))
	check(q.Put(ctx, []byte("urgent"), -5))
	check(q.Put(ctx, []byte("normal"), 0))
	for range 3 {
		item, err := q.Take(ctx)
		check(err)
		fmt.Println(string(item.Data()))
		check(item.Ack(ctx))
	}
	// Output:
	// urgent
	// normal
	// low
}

// A DistributedDelayQueue hands out an item no earlier than its time,
// earliest first.
func ExampleDistributedDelayQueue() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)

	q, err := recipes.NewDistributedDelayQueue(client, "/app/reminders")
	check(err)
	now := time.Now()
	due := map[string]time.Time{"in 200ms": now.Add(200 * time.Millisecond), "due already": now.Add(-time.Second)}
	check(q.Put(ctx, []byte("in 200ms"), due["in 200ms"]))
	check(q.Put(ctx, []byte("due already"), due["due already"]))
	for range 2 {
		item, err := q.Take(ctx) // waits for the next item's time
		check(err)
		name := string(item.Data())
		fmt.Println(name, "taken early:", time.Now().Before(due[name]))
		check(item.Ack(ctx))
	}
	// Output:
	// due already taken early: false
	// in 200ms taken early: false
}

// A SharedCount is an integer every process shares; TrySetCount is a
// compare-and-set on the version read, and listeners hear each new value.
func ExampleSharedCount() {
	ss, stop := sessions(2)
	defer stop()
	ctx := context.Background()
	ca, cb := newClient(ss[0]), newClient(ss[1])
	defer ca.Close(ctx)
	defer cb.Close(ctx)

	a, err := recipes.NewSharedCount(ca, "/app/workers", 4)
	check(err)
	b, err := recipes.NewSharedCount(cb, "/app/workers", 0)
	check(err)
	heard := make(chan int32, 10)
	b.AddListener(func(v recipes.VersionedCount) { heard <- v.Count })
	check(a.Start(ctx))
	check(b.Start(ctx))
	defer a.Close()
	defer b.Close()
	fmt.Println("count:", b.Count()) // the first seed wins

	v := a.VersionedCount()
	ok, err := a.TrySetCount(ctx, v, v.Count+1)
	check(err)
	fmt.Println("set to 5:", ok)
	ok, err = a.TrySetCount(ctx, v, 100) // v is stale now
	check(err)
	fmt.Println("set from a stale version:", ok)
	for n := range heard {
		if n == 5 {
			fmt.Println("b heard 5")
			break
		}
	}
	// Output:
	// count: 4
	// set to 5: true
	// set from a stale version: false
	// b heard 5
}

// A DistributedAtomicLong counts without losing an increment, whatever the
// number of processes (here goroutines, each with its own handle).
func ExampleDistributedAtomicLong() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			n, err := recipes.NewDistributedAtomicLong(client, "/app/visits",
				recipes.WithRetryPolicy(recipes.RetryPolicy{Tries: 100, Backoff: time.Millisecond}))
			check(err)
			for range 5 {
				v, err := n.Increment(ctx)
				check(err)
				if !v.Succeeded {
					log.Fatal("increment gave up")
				}
			}
		})
	}
	wg.Wait()
	n, err := recipes.NewDistributedAtomicLong(client, "/app/visits")
	check(err)
	v, err := n.Get(ctx)
	check(err)
	fmt.Println("visits:", v.PostValue)
	cas, err := n.CompareAndSet(ctx, 20, 0)
	check(err)
	fmt.Println("reset:", cas.Succeeded, cas.PreValue, "->", cas.PostValue)
	// Output:
	// visits: 20
	// reset: true 20 -> 0
}

// GroupMember: each member keeps an ephemeral node in the group and sees
// the others; a member that leaves (or whose session ends) disappears.
func ExampleGroupMember() {
	ss, stop := sessions(2)
	defer stop()
	ctx := context.Background()

	var clients []*recipes.Client
	defer func() {
		for _, c := range clients {
			c.Close(ctx)
		}
	}()
	join := func(sess *zk.Session, id string) *recipes.GroupMember {
		client := newClient(sess)
		clients = append(clients, client)
		g, err := recipes.NewGroupMember(client, "/app/group", id, []byte("host-"+id))
		check(err)
		check(g.Start(ctx))
		return g
	}
	// waitFor waits until g's view has n members.
	waitFor := func(g *recipes.GroupMember, n int) map[string][]byte {
		for {
			ch := g.Changed()
			if m := g.Members(); len(m) == n {
				return m
			}
			<-ch
		}
	}
	a, b := join(ss[0], "a"), join(ss[1], "b")
	m := waitFor(a, 2)
	fmt.Println("a sees:", string(m["a"]), string(m["b"]))
	check(b.Close(ctx))
	m = waitFor(a, 1)
	fmt.Println("after b left, a sees", len(m), "member")
	check(a.Close(ctx))
	// Output:
	// a sees: host-a host-b
	// after b left, a sees 1 member
}

// ServiceDiscovery registers instances of a service (as Curator
// x-discovery's JSON) and finds them by query or through a ServiceCache
// that follows the registry.
func ExampleServiceDiscovery() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)

	d, err := recipes.NewServiceDiscovery(client, "/services")
	check(err)
	defer d.Close(ctx)
	port := 8080
	inst, err := d.Register(ctx, recipes.ServiceInstance{Name: "billing", ID: "b1", Address: "10.0.0.7", Port: &port})
	check(err)

	cache, err := d.NewServiceCache("billing")
	check(err)
	check(cache.Start(ctx))
	defer cache.Close()
	for _, in := range cache.Instances() {
		fmt.Printf("cached: %s %s:%d\n", in.ID, in.Address, *in.Port)
	}

	changed := cache.Changed()
	check(d.Unregister(ctx, inst))
	<-changed
	names, err := d.QueryForNames(ctx)
	check(err)
	fmt.Println("services:", names, "cached instances:", len(cache.Instances()))
	// Output:
	// cached: b1 10.0.0.7:8080
	// services: [billing] cached instances: 0
}

// CreateProtected creates a node at most once even when the outcome of a
// try is unknown (Curator's withProtection): the name carries a marker by
// which the node is found. DeleteGuaranteed keeps deleting until done.
func ExampleClient_CreateProtected() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)

	node, err := client.CreateProtected(ctx, "/app/workers/w-", []byte("me"), zk.ModeEphemeralSequential)
	check(err)
	fmt.Println("marked:", strings.HasPrefix(node, "/app/workers/_c_"))
	check(client.DeleteGuaranteed(ctx, node))
	found, _, err := sess.Exists(ctx, node)
	check(err)
	fmt.Println("still there:", found)
	// Output:
	// marked: true
	// still there: false
}
