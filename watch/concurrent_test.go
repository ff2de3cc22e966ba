package watch

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// added is a registration of the concurrent test: one-shot kinds get a
// ChanSink, persistent ones a Queue, as the engine does.
type added struct {
	id    ID
	kind  Kind
	sink  *ChanSink
	q     *Queue
	taken []Event // received by the reader while the test ran
}

// try takes one event if one is there, without waiting.
func (a *added) try() {
	if a.q != nil {
		if e, ok := a.q.TryNext(); ok {
			a.taken = append(a.taken, e)
		}
		return
	}
	select {
	case e, ok := <-a.sink.C():
		if ok {
			a.taken = append(a.taken, e)
		}
	default:
	}
}

// rest returns every event, once the registration has ended.
func (a *added) rest() []Event {
	events := a.taken
	if a.q != nil {
		for e, ok := a.q.TryNext(); ok; e, ok = a.q.TryNext() {
			events = append(events, e)
		}
		return events
	}
	for e := range a.sink.C() {
		events = append(events, e)
	}
	return events
}

// TestConcurrentAddTrigger runs readers that Add, drain and remove watches
// while an apply loop Triggers, then drops every session. Under -race it
// checks that sinks are only used serially; it then checks that every
// registration saw its events in zxid order and ended exactly once.
func TestConcurrentAddTrigger(t *testing.T) {
	const (
		readers  = 4
		perRdr   = 300
		triggers = 2000
	)
	seed := uint64(20260101)
	m := NewManager()
	paths := []string{"/", "/a", "/a/b", "/a/b/c", "/d", "/d/e"}
	results := make([][]*added, readers)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the apply loop
		defer wg.Done()
		rng := rand.New(rand.NewPCG(seed, 0))
		for z := int64(1); z <= triggers; z++ {
			p := paths[1+rng.IntN(len(paths)-1)]
			typ := znode.ChangeType(1 + rng.IntN(3))
			m.Trigger([]znode.Change{{Type: typ, Path: p, Zxid: z, ACL: worldRead, ParentACL: worldRead}}, allow)
		}
	}()
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(r+1)))
			var mine []*added
			for i := 0; i < perRdr; i++ {
				k := Kind(1 + rng.IntN(5))
				a := &added{kind: k}
				var s Sink
				if k.OneShot() {
					a.sink = NewChanSink(1)
					s = a.sink
				} else {
					a.q = NewQueue(1 + rng.IntN(4))
					s = a.q
				}
				a.id = add(m, int64(r+1), paths[rng.IntN(len(paths))], k, s)
				mine = append(mine, a)
				if rng.IntN(4) == 0 {
					m.RemoveID(mine[rng.IntN(len(mine))].id)
				}
				if rng.IntN(3) == 0 { // a consumer takes what is there
					mine[rng.IntN(len(mine))].try()
				}
				m.SessionWatches(int64(r + 1))
			}
			results[r] = mine
		}(r)
	}
	wg.Wait()
	for r := 0; r < readers; r++ {
		m.DropSession(int64(r+1), zkerr.ErrSessionExpired)
	}
	if w, p, s := m.Count(); w != 0 || p != 0 || s != 0 {
		t.Fatalf("Count after dropping every session = %d %d %d", w, p, s)
	}
	for _, mine := range results {
		for _, a := range mine {
			if err := checkStream(a); err != nil {
				t.Fatalf("seed %d: watch %d (%v): %v", seed, a.id, a.kind, err)
			}
		}
	}
}

// checkStream takes the rest of a's events (a receiver may have taken some
// already) and checks the shape of the whole stream.
func checkStream(a *added) error {
	var last int64
	fired, terminal := 0, 0
	for _, e := range a.rest() {
		if terminal > 0 {
			return fmt.Errorf("event %+v after the terminal event", e)
		}
		if e.Type.terminal() {
			terminal++
			continue
		}
		if e.Zxid <= last {
			return fmt.Errorf("zxid %d after %d", e.Zxid, last)
		}
		last = e.Zxid
		fired++
	}
	if a.kind.OneShot() && fired > 1 {
		return fmt.Errorf("one-shot fired %d times", fired)
	}
	if !a.kind.OneShot() && terminal != 1 {
		// A persistent watch only ends by removal, drop or overflow, each
		// of which queues a terminal event in the reserved slot.
		return fmt.Errorf("persistent watch ended with %d terminal events", terminal)
	}
	return nil
}

// TestSlowConsumerDoesNotBlock: a consumer that never reads its channel
// neither blocks Trigger nor costs other watches an event; it learns of the
// overflow.
func TestSlowConsumerDoesNotBlock(t *testing.T) {
	m := NewManager()
	slow, fast := NewChanSink(1), NewChanSink(1000)
	m.Add(1, "/a", KindPersistent, slow)
	m.Add(2, "/a", KindPersistent, fast)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for z := int64(1); z <= 1000; z++ {
			m.Trigger([]znode.Change{changed("/a", z)}, nil)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Trigger blocked on a slow consumer")
	}
	if n := len(fast.C()); n != 1000 {
		t.Fatalf("fast consumer has %d events, want 1000", n)
	}
	got := drain(slow)
	if len(got) != 2 || got[0].Zxid != 1 || got[1].Type != EventNotWatching || !errors.Is(got[1].Err, zkerr.ErrWatchOverflow) {
		t.Fatalf("slow consumer got %+v", got)
	}
}
