package recipes

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/embedzk/zk"
)

// leaders counts the latches that lead now.
func leaders(ls []*LeaderLatch) []int {
	var out []int
	for i, l := range ls {
		if l.HasLeadership() {
			out = append(out, i)
		}
	}
	return out
}

// TestLeaderLatch: one leader at a time; Close hands leadership on in
// queue order; listeners hear gains, and losses on Close only with
// CloseNotifyLeader (a and c; b closes silently, Curator's default);
// terms' tokens increase; an unknown close mode is refused.
func TestLeaderLatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var mu sync.Mutex
		var heard []string
		var ls []*LeaderLatch
		for i, id := range []string{"a", "b", "c"} {
			var opts []LatchOption
			if id != "b" {
				opts = append(opts, WithCloseMode(CloseNotifyLeader))
			}
			l := must[*LeaderLatch](t)(NewLeaderLatch(w.client(), "/election", id, opts...))
			l.AddListener(func(leader bool) {
				mu.Lock()
				heard = append(heard, map[bool]string{true: "+", false: "-"}[leader]+id)
				mu.Unlock()
			})
			if _, err := l.Await(w.ctx); !errors.Is(err, ErrNotStarted) {
				t.Fatalf("await before start: %v", err)
			}
			if err := l.Start(); err != nil {
				t.Fatal(err)
			}
			if err := l.Start(); !errors.Is(err, ErrAlreadyStarted) {
				t.Fatalf("second start: %v", err)
			}
			ls = append(ls, l)
			if i == 0 {
				must[*Lease](t)(l.Await(w.ctx))
			}
			synctest.Wait()
		}
		var tokens []int64
		for i := range ls {
			if got := leaders(ls); !slices.Equal(got, []int{i}) {
				t.Fatalf("leaders %v, want [%d]", got, i)
			}
			lease := must[*Lease](t)(ls[i].Await(w.ctx))
			tokens = append(tokens, lease.Token())
			p, ok, err := ls[i].Leader(w.ctx)
			if err != nil || !ok || p.Token != lease.Token() || p.ID != []string{"a", "b", "c"}[i] {
				t.Fatalf("leader %+v %v %v", p, ok, err)
			}
			if err := ls[i].Close(w.ctx); err != nil {
				t.Fatal(err)
			}
			if lease.Err() == nil {
				t.Fatal("a closed latch's lease is live")
			}
			synctest.Wait()
		}
		if !slices.IsSorted(tokens) {
			t.Fatalf("tokens %v", tokens)
		}
		if want := []string{"+a", "-a", "+b", "+c", "-c"}; !slices.Equal(heard, want) {
			t.Fatalf("listeners heard %v, want %v", heard, want)
		}
		if err := ls[0].Close(w.ctx); err != nil {
			t.Fatalf("second close: %v", err)
		}
		if _, err := ls[0].Await(w.ctx); !errors.Is(err, zk.ErrClosed) {
			t.Fatalf("await after close: %v", err)
		}
		if _, err := NewLeaderLatch(w.client(), "/election", "d", WithCloseMode(7)); !errors.Is(err, zk.ErrBadArguments) {
			t.Fatalf("an unknown close mode: %v", err)
		}
	})
}

// TestLeaderLatchLosesWithSession: the leader's session expires: its lease
// ends before the next participant leads.
func TestLeaderLatchLosesWithSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		sa, ca := w.session()
		a := must[*LeaderLatch](t)(NewLeaderLatch(ca, "/e", "a"))
		b := must[*LeaderLatch](t)(NewLeaderLatch(w.client(), "/e", "b"))
		a.Start()
		la := must[*Lease](t)(a.Await(w.ctx))
		b.Start()
		synctest.Wait()
		w.expire(sa)
		lb := must[*Lease](t)(b.Await(w.ctx))
		if la.Err() == nil {
			t.Fatal("two leaders")
		}
		if lb.Token() <= la.Token() {
			t.Fatalf("token %d after %d", lb.Token(), la.Token())
		}
		synctest.Wait()
		if a.HasLeadership() {
			t.Fatal("a still leads")
		}
		a.Close(w.ctx)
		b.Close(w.ctx)
	})
}

// TestLeaderLatchNodeDeleted: the leader's node is deleted by someone: it
// loses leadership and queues again behind the others.
func TestLeaderLatchNodeDeleted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		admin, _ := w.session()
		a := must[*LeaderLatch](t)(NewLeaderLatch(w.client(), "/d", "a"))
		b := must[*LeaderLatch](t)(NewLeaderLatch(w.client(), "/d", "b"))
		a.Start()
		la := must[*Lease](t)(a.Await(w.ctx))
		b.Start()
		synctest.Wait()
		if err := admin.Delete(w.ctx, la.Node(), -1); err != nil {
			t.Fatal(err)
		}
		must[*Lease](t)(b.Await(w.ctx))
		synctest.Wait()
		ps := must[[]Participant](t)(a.Participants(w.ctx))
		if len(ps) != 2 || ps[0].ID != "b" || ps[1].ID != "a" {
			t.Fatalf("participants %+v", ps)
		}
		if err := b.Close(w.ctx); err != nil {
			t.Fatal(err)
		}
		must[*Lease](t)(a.Await(w.ctx))
		a.Close(w.ctx)
	})
}

// TestLeaderSelector: each participant leads while its function runs;
// leadership passes when it returns; AutoRequeue queues again; the
// function's context ends on Close.
func TestLeaderSelector(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var mu sync.Mutex
		var terms []string
		var leading int
		running := make(chan struct{}, 1)
		var sels []*LeaderSelector
		for _, id := range []string{"a", "b"} {
			s := must[*LeaderSelector](t)(NewLeaderSelector(w.client(), "/sel", id, func(ctx context.Context, l *Lease) error {
				mu.Lock()
				leading++
				if leading > 1 {
					t.Error("two leaders")
				}
				terms = append(terms, id)
				n := len(terms)
				mu.Unlock()
				defer func() { mu.Lock(); leading--; mu.Unlock() }()
				if n >= 4 {
					running <- struct{}{}
					<-ctx.Done() // lead until closed
					if !errors.Is(context.Cause(ctx), zk.ErrClosed) {
						t.Errorf("cause %v", context.Cause(ctx))
					}
				}
				return nil
			}))
			s.AutoRequeue()
			sels = append(sels, s)
		}
		for _, s := range sels {
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
		}
		<-running
		mu.Lock()
		n := len(terms)
		mu.Unlock()
		if n != 4 {
			t.Fatalf("terms %v", terms)
		}
		for _, s := range sels {
			if err := s.Close(w.ctx); err != nil {
				t.Fatal(err)
			}
		}
		w.noChildren("/sel", "nodes")
	})
}

// TestLeaderSelectorRequeue: without AutoRequeue a participant leads once
// until Requeue; a lost leadership cancels the function's context.
func TestLeaderSelectorRequeue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		sa, ca := w.session()
		var mu sync.Mutex
		count := 0
		lost := make(chan error, 1)
		s := must[*LeaderSelector](t)(NewLeaderSelector(ca, "/rq", "a", func(ctx context.Context, l *Lease) error {
			mu.Lock()
			count++
			c := count
			mu.Unlock()
			if c == 2 {
				<-ctx.Done()
				lost <- context.Cause(ctx)
			}
			return nil
		}))
		s.Start()
		synctest.Wait()
		if s.Requeue() != true {
			t.Fatal("requeue refused")
		}
		synctest.Wait()
		if s.Requeue() {
			t.Fatal("requeued while leading")
		}
		w.expire(sa)
		if err := <-lost; !errors.Is(err, ErrLockLost) {
			t.Fatalf("cause %v", err)
		}
		s.Close(w.ctx)
		mu.Lock()
		defer mu.Unlock()
		if count != 2 {
			t.Fatalf("%d terms", count)
		}
	})
}
