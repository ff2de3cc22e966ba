package watch

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

func ev(zxid int64) Event {
	return Event{Type: EventNodeDataChanged, Path: "/a", Zxid: zxid}
}

// takeAll takes every queued event without waiting.
func takeAll(q *Queue) []Event {
	var out []Event
	for {
		e, ok := q.TryNext()
		if !ok {
			return out
		}
		out = append(out, e)
	}
}

func TestQueueIdleHoldsNoBuffer(t *testing.T) {
	q := NewQueue(1024)
	if q.ring != nil {
		t.Fatal("a new queue allocated its ring")
	}
	for i := int64(1); i <= 100; i++ {
		q.Deliver(ev(i))
	}
	if len(q.ring) != 128 {
		t.Fatalf("ring of %d for 100 events, want 128 (doubling from %d)", len(q.ring), minRing)
	}
	got := takeAll(q)
	if len(got) != 100 || got[0].Zxid != 1 || got[99].Zxid != 100 {
		t.Fatalf("took %d events: %v..", len(got), got[:min(3, len(got))])
	}
	// A drained queue keeps at most the smallest ring, so that a steady
	// trickle of events does not allocate one per event.
	if len(q.ring) > minRing || q.Len() != 0 {
		t.Fatalf("a drained queue keeps a ring of %d", len(q.ring))
	}
	q.Deliver(ev(101))
	takeAll(q)
	if len(q.ring) > minRing {
		t.Fatalf("ring of %d after one event, want at most %d", len(q.ring), minRing)
	}
}

func TestQueueShrinksAsTheConsumerCatchesUp(t *testing.T) {
	q := NewQueue(1024)
	for i := int64(1); i <= 1000; i++ {
		q.Deliver(ev(i))
	}
	next := int64(1)
	for q.Len() > 10 {
		e, _ := q.TryNext()
		if e.Zxid != next {
			t.Fatalf("took zxid %d, want %d", e.Zxid, next)
		}
		next++
		if len(q.ring) > 4*max(q.Len(), minRing) {
			t.Fatalf("ring of %d for %d queued events", len(q.ring), q.Len())
		}
	}
	// Wrap-around: keep delivering while taking.
	for i := int64(1001); i <= 3000; i++ {
		q.Deliver(ev(i))
		e, _ := q.TryNext()
		if e.Zxid != next {
			t.Fatalf("took zxid %d, want %d", e.Zxid, next)
		}
		next++
	}
	for _, e := range takeAll(q) {
		if e.Zxid != next {
			t.Fatalf("took zxid %d, want %d", e.Zxid, next)
		}
		next++
	}
	if next != 3001 {
		t.Fatalf("took up to %d, want 3000", next-1)
	}
}

func TestQueueBoundAndOverflow(t *testing.T) {
	q := NewQueue(3)
	for i := int64(1); i <= 3; i++ {
		if !q.Deliver(ev(i)) {
			t.Fatalf("event %d refused", i)
		}
	}
	if q.Deliver(Event{Type: EventNodeCreated, Path: "/lost", Zxid: 4}) {
		t.Fatal("a full queue took a fourth event")
	}
	if len(q.ring) != 4 {
		t.Fatalf("ring of %d for a limit of 3, want 4", len(q.ring))
	}
	if q.Err() != nil {
		t.Fatal("Err before Overflow")
	}
	q.Overflow()
	q.Close() // ignored after Overflow
	if q.Deliver(ev(5)) {
		t.Fatal("Deliver after Overflow accepted")
	}
	got := takeAll(q)
	want := Event{Type: EventNotWatching, Path: "/lost", Err: zkerr.ErrWatchOverflow}
	if len(got) != 4 || got[2].Zxid != 3 || got[3] != want {
		t.Fatalf("got %+v", got)
	}
	if !errors.Is(q.Err(), zkerr.ErrWatchOverflow) {
		t.Fatalf("Err = %v", q.Err())
	}
	if _, err := q.Next(context.Background()); !errors.Is(err, zkerr.ErrWatchOverflow) {
		t.Fatalf("Next after the end: %v", err)
	}
}

// TestQueueFinalEventAlwaysFits: a removal event is queued behind a full
// queue, and Next then reports the end.
func TestQueueFinalEventAlwaysFits(t *testing.T) {
	for _, tc := range []struct {
		final Event
		err   error
	}{
		{Event{Type: EventPersistentWatchRemoved, Path: "/a"}, zkerr.ErrNoWatcher},
		{Event{Type: EventNotWatching, Path: "/a", Err: zkerr.ErrSessionExpired}, zkerr.ErrSessionExpired},
		{Event{Type: EventNotWatching, Path: "/a", Err: zkerr.ErrClosed}, zkerr.ErrClosed},
	} {
		q := NewQueue(1)
		q.Deliver(ev(1))
		if !q.Deliver(tc.final) {
			t.Fatalf("%v refused by a full queue", tc.final)
		}
		q.Close()
		ctx := context.Background()
		if e, err := q.Next(ctx); err != nil || e.Zxid != 1 {
			t.Fatalf("first: %+v %v", e, err)
		}
		if e, err := q.Next(ctx); err != nil || e != tc.final {
			t.Fatalf("final: %+v %v", e, err)
		}
		for i := 0; i < 2; i++ {
			if _, err := q.Next(ctx); !errors.Is(err, tc.err) {
				t.Fatalf("after %v: Next = %v, want %v", tc.final.Type, err, tc.err)
			}
		}
		if q.Err() != nil {
			t.Fatalf("Err = %v without an overflow", q.Err())
		}
	}
}

func TestQueueReadyAndNext(t *testing.T) {
	q := NewQueue(10)
	select {
	case <-q.Ready():
		t.Fatal("Ready fired on an empty queue")
	default:
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with a done ctx on an empty queue: %v", err)
	}
	q.Deliver(ev(1))
	q.Deliver(ev(2))
	// An event already queued is returned even if ctx is done.
	if e, err := q.Next(ctx); err != nil || e.Zxid != 1 {
		t.Fatalf("Next = %+v, %v", e, err)
	}
	// Ready keeps firing while something is left.
	<-q.Ready()
	if e, ok := q.TryNext(); !ok || e.Zxid != 2 {
		t.Fatalf("TryNext = %+v, %v", e, ok)
	}
	q.Close()
	<-q.Ready() // the end wakes the consumer too
	if _, err := q.Next(context.Background()); !errors.Is(err, zkerr.ErrClosed) {
		t.Fatalf("Next after Close without a final event: %v", err)
	}
}

// TestQueueNextWaits: a consumer blocked in Next gets events in order as a
// producer delivers them, then the end.
func TestQueueNextWaits(t *testing.T) {
	q := NewQueue(4)
	const n = 5000
	var wg sync.WaitGroup
	var got []Event
	var err error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			e, e2 := q.Next(context.Background())
			if e2 != nil {
				err = e2
				return
			}
			got = append(got, e)
		}
	}()
	for i := int64(1); i <= n; {
		if q.Deliver(ev(i)) {
			i++
		} else {
			runtime.Gosched() // full: the consumer catches up
		}
	}
	q.Deliver(Event{Type: EventPersistentWatchRemoved, Path: "/a"})
	q.Close()
	wg.Wait()
	if !errors.Is(err, zkerr.ErrNoWatcher) || len(got) != n+1 {
		t.Fatalf("got %d events, end %v", len(got), err)
	}
	for i, e := range got[:n] {
		if e.Zxid != int64(i+1) {
			t.Fatalf("event %d has zxid %d", i, e.Zxid)
		}
	}
}

func TestNewQueuePanicsOnZero(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewQueue(0) did not panic")
		}
	}()
	NewQueue(0)
}

// TestQueueUnderManager: a persistent watch with a Queue sink overflows
// through the Manager as it did with a channel: the registration goes, the
// consumer gets the queued events and then the overflow.
func TestQueueUnderManager(t *testing.T) {
	m := NewManager()
	q := NewQueue(2)
	add(m, 1, "/a", KindPersistent, q)
	for z := int64(1); z <= 3; z++ {
		m.Trigger([]znode.Change{{Type: znode.ChangeDataChanged, Path: "/a", Zxid: z}}, nil)
	}
	if w, _, _ := m.Count(); w != 0 || m.Overflows() != 1 {
		t.Fatalf("%d registrations, %d overflows counted after an overflow", w, m.Overflows())
	}
	got := takeAll(q)
	if len(got) != 3 || got[1].Zxid != 2 || got[2].Type != EventNotWatching || !errors.Is(got[2].Err, zkerr.ErrWatchOverflow) {
		t.Fatalf("got %+v", got)
	}
}
