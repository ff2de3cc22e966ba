package session

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// waitDeadline bounds every blocking wait of these tests.
const waitDeadline = 10 * time.Second

func TestSequencerInOrder(t *testing.T) {
	var s Sequencer
	ctx := context.Background()
	a, b, c := s.Issue(), s.Issue(), s.Issue()
	if a != 1 || b != 2 || c != 3 {
		t.Fatalf("tickets %d %d %d", a, b, c)
	}
	if err := s.Wait(ctx, a); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait(ctx, c) }()
	s.Done(b) // out of order: c must still wait for a
	select {
	case err := <-done:
		t.Fatalf("Wait(c) returned %v before a was Done", err)
	default:
	}
	s.Done(a)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitDeadline):
		t.Fatal("Wait(c) not released after a and b were Done")
	}
	s.Done(c)
	if len(s.waiters) != 0 || len(s.finished) != 0 {
		t.Fatalf("leftover state: %d waiters, %d finished", len(s.waiters), len(s.finished))
	}
}

func TestSequencerReadyIgnoresEndedContext(t *testing.T) {
	var s Sequencer
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a := s.Issue()
	if err := s.Wait(ctx, a); err != nil {
		t.Fatalf("ready ticket with an ended ctx: %v", err)
	}
	b := s.Issue()
	if err := s.Wait(ctx, b); !errors.Is(err, context.Canceled) {
		t.Fatalf("blocked ticket with an ended ctx: %v", err)
	}
	if s.waiters == nil || s.waiters[b] == nil {
		t.Fatal("the slow path did not register a waiter")
	}
	s.Done(a)
	if err := s.Wait(ctx, b); err != nil {
		t.Fatalf("after a is Done: %v", err)
	}
	s.Done(b)
}

func TestSequencerContextEndsWait(t *testing.T) {
	var s Sequencer
	s.Issue()
	b := s.Issue()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Wait(ctx, b) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v", err)
		}
	case <-time.After(waitDeadline):
		t.Fatal("cancel did not end Wait")
	}
}

func TestSequencerMisusePanics(t *testing.T) {
	var s Sequencer
	a := s.Issue()
	s.Issue()
	s.Done(2)
	for name, f := range map[string]func(){
		"never issued":         func() { s.Done(3) },
		"zero":                 func() { s.Done(0) },
		"twice out of order":   func() { s.Done(2) },
		"twice after in order": func() { s.Done(a); s.Done(a) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestSequencerRandomized has many goroutines issue calls on one session;
// each call completes after a random amount of scheduling, Waits, records its
// reply, then is Done. The replies must come out in ticket order. Some calls
// give up waiting (ended ctx) and record nothing, but are still Done.
func TestSequencerRandomized(t *testing.T) {
	const seed = 0x5e90
	for round := 0; round < 20; round++ {
		var (
			s       Sequencer
			mu      sync.Mutex
			replies []uint64
			wg      sync.WaitGroup
			issueMu sync.Mutex
			skipped = map[uint64]bool{}
		)
		canceled, cancel := context.WithCancel(context.Background())
		cancel()
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seed, uint64(round*100+g)))
				for i := 0; i < 200; i++ {
					issueMu.Lock()
					ticket := s.Issue()
					giveUp := rng.IntN(20) == 0
					if giveUp {
						skipped[ticket] = true
					}
					issueMu.Unlock()
					for n := rng.IntN(4); n > 0; n-- {
						runtime.Gosched()
					}
					ctx := context.Background()
					if giveUp {
						ctx = canceled
					}
					if err := s.Wait(ctx, ticket); err == nil {
						mu.Lock()
						replies = append(replies, ticket)
						mu.Unlock()
					} else if !giveUp {
						t.Errorf("Wait(%d): %v", ticket, err)
					}
					s.Done(ticket)
				}
			}(g)
		}
		wg.Wait()
		for i := 1; i < len(replies); i++ {
			if replies[i] <= replies[i-1] {
				t.Fatalf("seed %#x round %d: reply %d after %d", seed, round, replies[i], replies[i-1])
			}
		}
		if len(replies) < 1600-len(skipped) {
			t.Fatalf("seed %#x round %d: %d replies, %d skipped of 1600", seed, round, len(replies), len(skipped))
		}
		if s.through.Load() != 1600 || len(s.finished) != 0 || len(s.waiters) != 0 {
			t.Fatalf("round %d: through %d, %d finished, %d waiters left", round, s.through.Load(), len(s.finished), len(s.waiters))
		}
	}
}
