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

// takeAck takes one item and acknowledges it, returning its data.
func takeAck(t *testing.T, ctx context.Context, take func(context.Context) (*QueueItem, error)) string {
	t.Helper()
	it := must[*QueueItem](t)(take(ctx))
	if err := it.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	return string(it.Data())
}

// TestQueueFIFO: items come out in the order they were put, each once;
// nothing is left (items, claims) once they are acknowledged.
func TestQueueFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		c := w.client()
		q := must[*DistributedQueue](t)(NewDistributedQueue(c, "/jobs"))
		for i := range 5 {
			if err := q.Put(w.ctx, []byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.PutMulti(w.ctx, [][]byte{[]byte("a"), []byte("b")}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for range 5 {
			got = append(got, takeAck(t, w.ctx, q.Take))
		}
		if want := []string{"0", "1", "2", "3", "4"}; !slices.Equal(got, want) {
			t.Fatalf("took %v, want %v", got, want)
		}
		it := must[*QueueItem](t)(q.Take(w.ctx))
		if vs := it.Values(); len(vs) != 2 || string(vs[0]) != "a" || string(vs[1]) != "b" {
			t.Fatalf("multi item %q", vs)
		}
		if err := it.Ack(w.ctx); err != nil {
			t.Fatal(err)
		}
		if err := it.Ack(w.ctx); !errors.Is(err, ErrNotLocked) {
			t.Fatalf("second ack: %v", err)
		}
		if it.Context().Err() == nil {
			t.Fatal("an acknowledged item's context is live")
		}
		w.noChildren("/jobs", "items")
		w.noChildren("/jobs-locks", "claims")
	})
}

// TestQueueTakeWaits: Take waits for a Put; two consumers never get one
// item; a released item is taken again.
func TestQueueTakeWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		qa := must[*DistributedQueue](t)(NewDistributedQueue(w.client(), "/q"))
		qb := must[*DistributedQueue](t)(NewDistributedQueue(w.client(), "/q"))
		got := make(chan *QueueItem, 2)
		for _, q := range []*DistributedQueue{qa, qb} {
			go func() { got <- must[*QueueItem](t)(q.Take(w.ctx)) }()
		}
		synctest.Wait()
		if len(got) != 0 {
			t.Fatal("took from an empty queue")
		}
		if err := qa.Put(w.ctx, []byte("x")); err != nil {
			t.Fatal(err)
		}
		first := <-got
		synctest.Wait()
		if len(got) != 0 {
			t.Fatal("two consumers took one item")
		}
		if err := first.Release(w.ctx); err != nil {
			t.Fatal(err)
		}
		second := <-got
		if second.Node() != first.Node() {
			t.Fatalf("took %s after %s was released", second.Node(), first.Node())
		}
		if err := first.Ack(w.ctx); !errors.Is(err, ErrNotLocked) {
			t.Fatalf("ack after release: %v", err)
		}
		if err := second.Ack(w.ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestQueueConsumersShare: four consumers on two sessions drain 40 items;
// each is acknowledged exactly once.
func TestQueueConsumersShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		prod := must[*DistributedQueue](t)(NewDistributedQueue(w.client(), "/q"))
		const n = 40
		for i := range n {
			if err := prod.Put(w.ctx, []byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for range 2 {
			q := must[*DistributedQueue](t)(NewDistributedQueue(w.client(), "/q"))
			for range 2 {
				wg.Go(func() {
					for {
						mu.Lock()
						total := len(seen)
						mu.Unlock()
						if total == n {
							return
						}
						ctx, cancel := context.WithTimeout(w.ctx, time.Second)
						it, err := q.Take(ctx)
						cancel()
						if err != nil {
							continue
						}
						if err := it.Ack(w.ctx); err != nil {
							t.Error(err)
						}
						mu.Lock()
						seen[string(it.Data())]++
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		for k, v := range seen {
			if v != 1 {
				t.Errorf("item %s acknowledged %d times", k, v)
			}
		}
	})
}

// TestQueueClaimLostWithSession: a consumer's session expires while it
// holds an item: its item's context ends, its Ack fails, and another
// consumer takes the item (at least once) and acknowledges it.
func TestQueueClaimLostWithSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		sa, ca := w.session()
		qa := must[*DistributedQueue](t)(NewDistributedQueue(ca, "/q"))
		qb := must[*DistributedQueue](t)(NewDistributedQueue(w.client(), "/q"))
		qa.Put(w.ctx, []byte("job"))
		ia := must[*QueueItem](t)(qa.Take(w.ctx))
		w.expire(sa)
		<-ia.Context().Done()
		if !errors.Is(context.Cause(ia.Context()), ErrLockLost) {
			t.Fatalf("lost claim's cause: %v", context.Cause(ia.Context()))
		}
		ib := must[*QueueItem](t)(qb.Take(w.ctx))
		if ib.Node() != ia.Node() {
			t.Fatalf("b took %s, a had %s", ib.Node(), ia.Node())
		}
		if err := ia.Ack(w.ctx); err == nil {
			t.Fatal("the expired consumer acknowledged")
		}
		if err := ib.Ack(w.ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestQueueAckOutcomeUnknown: an Ack whose reply is lost although it
// happened is tried again and reported done (the claim is gone: ours
// happened); one lost before it was sent happens on the retry.
func TestQueueAckOutcomeUnknown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		_, cc, c := w.countedClient()
		defer c.Close(context.Background())
		q := must[*DistributedQueue](t)(NewDistributedQueue(c, "/q"))
		q.Put(w.ctx, []byte("1"))
		q.Put(w.ctx, []byte("2"))
		lose := func(after bool) {
			once := true
			f := func(name string, err error) error {
				if name == "multi" && once {
					once = false
					return fmt.Errorf("lost: %w", zk.ErrConnectionLoss)
				}
				return err
			}
			if after {
				cc.set(nil, f)
			} else {
				cc.set(func(name string) error { return f(name, nil) }, nil)
			}
		}
		for _, after := range []bool{true, false} {
			it := must[*QueueItem](t)(q.Take(w.ctx))
			lose(after)
			if err := it.Ack(w.ctx); err != nil {
				t.Fatalf("ack (reply lost: %v): %v", after, err)
			}
			cc.set(nil, nil)
		}
		w.noChildren("/q", "items")
		w.noChildren("/q-locks", "claims")
	})
}

// TestQueuePutOutcomeUnknown: a Put whose reply is lost although the item
// was created finds it by its marker: one item, not two.
func TestQueuePutOutcomeUnknown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		_, cc, c := w.countedClient()
		defer c.Close(context.Background())
		q := must[*DistributedQueue](t)(NewDistributedQueue(c, "/q"))
		once := true
		cc.set(nil, func(name string, err error) error {
			if name == "create" && err == nil && once {
				once = false
				return fmt.Errorf("lost: %w", zk.ErrConnectionLoss)
			}
			return err
		})
		if err := q.Put(w.ctx, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if kids := w.children("/q"); len(kids) != 1 {
			t.Fatalf("items %v, want one", kids)
		}
	})
}

// TestPriorityQueue: lower priorities first (negative ones too), then in
// put order.
func TestPriorityQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		q := must[*DistributedPriorityQueue](t)(NewDistributedPriorityQueue(w.client(), "/pq"))
		for i, p := range []int32{5, -3, 0, 5, 1 << 30, -1 << 31, 2} {
			if err := q.Put(w.ctx, []byte(fmt.Sprintf("%d:%d", p, i)), p); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for range 7 {
			got = append(got, takeAck(t, w.ctx, q.Take))
		}
		want := []string{"-2147483648:5", "-3:1", "0:2", "2:6", "5:0", "5:3", "1073741824:4"}
		if !slices.Equal(got, want) {
			t.Fatalf("took %v, want %v", got, want)
		}
	})
}

// TestDelayQueue: an item is not taken before its time; items come out
// earliest first.
func TestDelayQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		q := must[*DistributedDelayQueue](t)(NewDistributedDelayQueue(w.client(), "/dq"))
		now := time.Now()
		q.Put(w.ctx, []byte("late"), now.Add(2*time.Minute))
		q.Put(w.ctx, []byte("soon"), now.Add(time.Minute))
		q.Put(w.ctx, []byte("due"), now.Add(-time.Second))
		if got := takeAck(t, w.ctx, q.Take); got != "due" {
			t.Fatalf("took %s first", got)
		}
		got := takeAck(t, w.ctx, q.Take)
		if got != "soon" || time.Since(now) < time.Minute {
			t.Fatalf("took %s after %v", got, time.Since(now))
		}
		got = takeAck(t, w.ctx, q.Take)
		if got != "late" || time.Since(now) < 2*time.Minute {
			t.Fatalf("took %s after %v", got, time.Since(now))
		}
	})
}

// TestQueueItemFormat: items are stored in Curator's ItemSerializer
// format, and an item written by hand is taken as one value.
func TestQueueItemFormat(t *testing.T) {
	enc := encodeItems([][]byte{[]byte("hi"), {}})
	want := []byte{0, 1, 0, 1, 1, 0, 0, 0, 2, 'h', 'i', 1, 0, 0, 0, 0, 2}
	if !slices.Equal(enc, want) {
		t.Fatalf("encoded % x, want % x", enc, want)
	}
	if got := decodeItems(enc); len(got) != 2 || string(got[0]) != "hi" || len(got[1]) != 0 {
		t.Fatalf("decoded %q", got)
	}
	for _, raw := range [][]byte{nil, []byte("plain"), {0, 1, 0, 1, 1, 0, 0, 9, 'x', 2}, {0, 1, 0, 1, 7}} {
		if got := decodeItems(raw); len(got) != 1 || !slices.Equal(got[0], raw) {
			t.Errorf("raw % x decoded as %q", raw, got)
		}
	}
	if priorityKey(-1) != "0FFFFFFFF" || priorityKey(1) != "100000001" {
		t.Fatalf("priority keys %s %s", priorityKey(-1), priorityKey(1))
	}
}

// TestQueueAckSessionEndsOutcomeUnknown: an Ack whose reply is lost
// although it happened, and whose session then expires before it can find
// out, reports its outcome unknown (it reported the expiry alone, which
// says the Ack did not happen: a consumer would process the item again
// though no one can take it).
func TestQueueAckSessionEndsOutcomeUnknown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		s, cc, c := w.countedClient()
		defer c.Close(context.Background())
		q := must[*DistributedQueue](t)(NewDistributedQueue(c, "/q"))
		if err := q.Put(w.ctx, []byte("1")); err != nil {
			t.Fatal(err)
		}
		it := must[*QueueItem](t)(q.Take(w.ctx))
		once := true
		cc.set(nil, func(name string, err error) error {
			if name == "multi" && once && err == nil {
				once = false
				w.expire(s)
				return fmt.Errorf("lost: %w", zk.ErrConnectionLoss)
			}
			return err
		})
		err := it.Ack(w.ctx)
		if !errors.Is(err, zk.ErrOutcomeUnknown) {
			t.Fatalf("ack that happened, then the session expired: %v", err)
		}
		w.noChildren("/q", "items")
	})
}

// TestQueueDirsOutliveEmptiness: the queue's directory and its claims'
// are persistent, as Curator's DistributedQueue.start creates them: once
// every item is acknowledged, the leader's container sweep leaves them,
// so a Curator producer (whose put creates no parent) still finds the
// queue. Their ancestors are containers and go once nothing is under them.
func TestQueueDirsOutliveEmptiness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		q := must[*DistributedQueue](t)(NewDistributedQueue(w.client(), "/app/jobs", WithLockPath("/app/claims/jobs")))
		if err := q.Put(w.ctx, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if got := takeAck(t, w.ctx, q.Take); got != "x" {
			t.Fatalf("took %q", got)
		}
		time.Sleep(3 * time.Minute) // the sweep runs every minute
		s, _ := w.session()
		for _, dir := range []string{"/app/jobs", "/app/claims/jobs"} {
			if ok, _, err := s.Exists(w.ctx, dir); err != nil || !ok {
				t.Fatalf("%s after the queue emptied: exists %v, %v", dir, ok, err)
			}
		}
		if err := s.Delete(w.ctx, "/app/claims/jobs", -1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Minute)
		if ok, _, err := s.Exists(w.ctx, "/app/claims"); err != nil || ok {
			t.Fatalf("/app/claims, a container with nothing under it: exists %v, %v", ok, err)
		}
	})
}
