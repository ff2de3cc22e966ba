package recipes_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"sync"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/recipes"
)

// start opens a standalone ensemble in a temporary directory and a session
// on it (opts configure the session); stop closes both.
func start(opts ...zk.SessionOption) (sess *zk.Session, stop func()) {
	dir, err := os.MkdirTemp("", "recipes-example-")
	if err != nil {
		log.Fatal(err)
	}
	ens, err := zk.NewEnsemble(zk.Config{DataDir: dir})
	if err != nil {
		log.Fatal(err)
	}
	sess, err = ens.NewSession(context.Background(), opts...)
	if err != nil {
		log.Fatal(err)
	}
	return sess, func() {
		ens.Close()
		os.RemoveAll(dir)
	}
}

// newClient makes the Client every recipe on a session shares.
func newClient(sess *zk.Session, opts ...recipes.ClientOption) *recipes.Client {
	c, err := recipes.NewClient(sess, opts...)
	if err != nil {
		log.Fatal(err)
	}
	return c
}

// The seed's 12306 program (seed 002, §4.13), ported: two booking agencies
// (携程 and 飞猪) sell the tickets of one database, as two threads of one
// program that share one InterProcessMutex at /lock. A Mutex shared by
// goroutines excludes them as sync.Mutex does, so the tickets are sold one
// by one, each once. (Which agency sells which ticket varies from run to
// run.) The seed ignored a failed acquire (after 3 s) and sold anyway; the
// port tries again. The seed's loop never ends; the port stops when the
// tickets are sold out.
func Example_ticket12306() {
	// The Ticket12306 constructor: the client (a session of 60 s, which
	// the ensemble negotiates into its bounds) and the lock.
	sess, stop := start(zk.WithSessionTimeout(60 * time.Second))
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)
	lock, err := recipes.NewMutex(client, "/lock")
	if err != nil {
		log.Fatal(err)
	}
	tickets := 10 // the database's tickets

	sell := func(agency string) {
		for {
			// Acquire the lock, waiting at most 3 seconds.
			actx, cancel := context.WithTimeout(ctx, 3*time.Second)
			err := lock.Lock(actx)
			cancel()
			if err != nil {
				continue
			}
			left := tickets
			if tickets > 0 {
				fmt.Println("ticket", tickets, "sold") // the seed prints the thread and the ticket
				time.Sleep(100 * time.Millisecond)
				tickets--
			}
			// Release the lock.
			if err := lock.Unlock(ctx); err != nil {
				log.Print(agency, ": ", err)
			}
			if left == 0 {
				return
			}
		}
	}
	var wg sync.WaitGroup
	for _, agency := range []string{"携程", "飞猪"} {
		wg.Go(func() { sell(agency) })
	}
	wg.Wait()
	fmt.Println("tickets left:", tickets)
	// Output:
	// ticket 10 sold
	// ticket 9 sold
	// ticket 8 sold
	// ticket 7 sold
	// ticket 6 sold
	// ticket 5 sold
	// ticket 4 sold
	// ticket 3 sold
	// ticket 2 sold
	// ticket 1 sold
	// tickets left: 0
}

// A Mutex guards a critical section across processes; the lease's context
// ends if the lock may be lost, and its token fences the resource.
func ExampleMutex() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)

	m, err := recipes.NewMutex(client, "/app/locks/report")
	if err != nil {
		log.Fatal(err)
	}
	lease, err := m.Acquire(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// Work under the lock with the lease's context: it ends as soon as the
	// lock may be lost (session disconnected or expired, node deleted).
	work := lease.Context()
	fmt.Println("holding:", work.Err() == nil, "token > 0:", lease.Token() > 0)
	if err := lease.Release(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after release:", context.Cause(work))
	// Output:
	// holding: true token > 0: true
	// after release: recipes: released
}

// Re-entrancy is explicit: Reenter takes a held lock again, without
// waiting; the lock goes when every lease is released.
func ExampleLease_Reenter() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)

	m, _ := recipes.NewMutex(client, "/reentrant")
	outer, _ := m.Acquire(ctx)
	inner, err := outer.Reenter()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same token:", inner.Token() == outer.Token())
	inner.Release(ctx)
	fmt.Println("still held:", outer.Err() == nil)
	outer.Release(ctx)
	fmt.Println("released:", outer.Err())
	// Output:
	// same token: true
	// still held: true
	// released: recipes: released
}

// A fencing token lets a resource refuse a holder that was superseded.
func ExampleLease_Token() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)
	m, _ := recipes.NewMutex(client, "/fenced")

	var highest int64 // kept by the resource
	write := func(token int64) error {
		if token < highest {
			return fmt.Errorf("stale holder (token %d < %d)", token, highest)
		}
		highest = token
		return nil
	}
	first, _ := m.Acquire(ctx)
	first.Release(ctx)
	second, _ := m.Acquire(ctx)
	defer second.Release(ctx)
	fmt.Println("second holder:", write(second.Token()))
	fmt.Println("first holder, late:", write(first.Token()) != nil)
	// Output:
	// second holder: <nil>
	// first holder, late: true
}

// A SemaphoreMutex is an exclusive lock that cannot be re-entered.
func ExampleSemaphoreMutex() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)

	m, _ := recipes.NewSemaphoreMutex(client, "/batch")
	if err := m.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("locked")
	if err := m.Unlock(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("unlock again:", m.Unlock(ctx))
	// Output:
	// locked
	// unlock again: recipes: unlock /batch: recipes: not locked
}

// Readers share an RWMutex; a writer waits for them and excludes them.
func ExampleRWMutex() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)

	rw, _ := recipes.NewRWMutex(client, "/config-lock")
	r1, _ := rw.ReadLock().Acquire(ctx)
	r2, _ := rw.ReadLock().Acquire(ctx)
	ps, _ := rw.Participants(ctx)
	for _, p := range ps {
		fmt.Println(p.Kind, "holds:", p.Holder)
	}
	r1.Release(ctx)
	r2.Release(ctx)
	w, _ := rw.WriteLock().Acquire(ctx)
	// Downgrade: take the read lock while writing, then stop writing.
	r, _ := rw.ReadLock().AcquireHolding(ctx, w)
	w.Release(ctx)
	fmt.Println("downgraded, reading:", r.Err() == nil)
	r.Release(ctx)
	// Output:
	// read holds: true
	// read holds: true
	// downgraded, reading: true
}

// A Semaphore hands out at most n leases at once.
func ExampleSemaphore() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)

	sem, _ := recipes.NewSemaphore(client, "/pool", 2)
	leases, err := sem.AcquireN(ctx, 2)
	if err != nil {
		log.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = sem.Acquire(short)
	fmt.Println("a third lease:", err != nil)
	for _, l := range leases {
		l.Release(ctx)
	}
	// Output:
	// a third lease: true
}

// A MultiLock takes several locks as one, all or none.
func ExampleMultiLock() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)

	from, _ := recipes.NewMutex(client, "/accounts/a")
	to, _ := recipes.NewMutex(client, "/accounts/b")
	both, _ := recipes.NewMultiLock(from, to)
	lease, err := both.Acquire(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("tokens:", len(lease.Tokens()))
	lease.Release(ctx) // in reverse order
	// Output:
	// tokens: 2
}

// A LeaderLatch elects one leader among participants; closing it hands
// leadership on (and, with CloseNotifyLeader, tells the listeners).
func ExampleLeaderLatch() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)

	latch, _ := recipes.NewLeaderLatch(client, "/election", "node-1", recipes.WithCloseMode(recipes.CloseNotifyLeader))
	changes := make(chan bool, 2) // listeners run on the latch's goroutine
	latch.AddListener(func(leader bool) { changes <- leader })
	if err := latch.Start(); err != nil {
		log.Fatal(err)
	}
	lease, err := latch.Await(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("leader:", <-changes)
	p, _, _ := latch.Leader(ctx)
	fmt.Println("leading as", p.ID, "token > 0:", lease.Token() > 0)
	latch.Close(ctx)
	fmt.Println("leader:", <-changes)
	// Output:
	// leader: true
	// leading as node-1 token > 0: true
	// leader: false
}

// A LeaderSelector runs a function while the participant leads; its
// context ends when leadership may be lost.
func ExampleLeaderSelector() {
	sess, stop := start()
	defer stop()
	ctx := context.Background()
	client := newClient(sess)
	defer client.Close(ctx)

	done := make(chan struct{})
	sel, _ := recipes.NewLeaderSelector(client, "/scheduler", "node-1", func(ctx context.Context, lease *recipes.Lease) error {
		fmt.Println("leading")
		close(done) // a real leader works until ctx ends
		return nil
	})
	if err := sel.Start(); err != nil {
		log.Fatal(err)
	}
	<-done
	sel.Close(ctx)
	// Output:
	// leading
}
