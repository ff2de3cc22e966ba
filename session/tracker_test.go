package session

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
)

var flagSeed = flag.Uint64("session.seed", 0, "run the randomized tracker test with this seed only")

func TestTrackerDeadlines(t *testing.T) {
	tr := NewTracker()
	if err := tr.Add(1, 2); err != nil {
		t.Fatal(err)
	}
	if err := tr.Add(2, 5); err != nil {
		t.Fatal(err)
	}
	if d, ok := tr.Deadline(1); !ok || d != 3 {
		t.Fatalf("Deadline(1) = %d, %v; want 3 (touched during tick 0, 2 ticks, next boundary)", d, ok)
	}
	want := map[int64][]int64{3: {1}, 6: {2}}
	for tick := int64(1); tick <= 8; tick++ {
		got := tr.Tick()
		if tr.Now() != tick {
			t.Fatalf("Now = %d after %d ticks", tr.Now(), tick)
		}
		if !slices.Equal(got, want[tick]) {
			t.Fatalf("tick %d: expired %v, want %v", tick, got, want[tick])
		}
	}
	if tr.Len() != 2 || !tr.IsClosing(1) || !tr.IsClosing(2) {
		t.Fatal("expired sessions must stay known as closing until Remove")
	}
	if tr.Touch(1) {
		t.Fatal("Touch of an expired session succeeded")
	}
	if err := tr.Add(1, 2); !errors.Is(err, zkerr.ErrBadArguments) {
		t.Fatalf("Add of a closing session: %v", err)
	}
	tr.Remove(1)
	tr.Remove(1)
	if tr.Len() != 1 || tr.IsClosing(1) {
		t.Fatal("Remove did not forget the session")
	}
	if _, ok := tr.Deadline(1); ok {
		t.Fatal("Deadline of a removed session")
	}
}

func TestTrackerTouchMovesLater(t *testing.T) {
	tr := NewTracker()
	tr.Add(7, 3) // deadline 4
	tr.Tick()    // now 1
	tr.Tick()    // now 2
	if !tr.Touch(7) {
		t.Fatal("Touch failed")
	}
	if d, _ := tr.Deadline(7); d != 6 {
		t.Fatalf("deadline after touch at tick 2 = %d, want 6", d)
	}
	for i := 0; i < 3; i++ {
		if got := tr.Tick(); got != nil {
			t.Fatalf("tick %d: %v expired early", tr.Now(), got)
		}
	}
	if got := tr.Tick(); !slices.Equal(got, []int64{7}) {
		t.Fatalf("tick 6: %v", got)
	}
}

func TestTrackerBadAdd(t *testing.T) {
	tr := NewTracker()
	for _, timeout := range []int{0, -1} {
		if err := tr.Add(1, timeout); !errors.Is(err, zkerr.ErrBadArguments) {
			t.Fatalf("Add with timeout %d: %v", timeout, err)
		}
	}
	tr.Add(1, 1)
	if err := tr.Add(1, 4); !errors.Is(err, zkerr.ErrBadArguments) {
		t.Fatalf("duplicate Add: %v", err)
	}
	if tr.Touch(99) || tr.SetClosing(99) || tr.IsClosing(99) {
		t.Fatal("unknown session accepted")
	}
}

func TestTrackerSetClosing(t *testing.T) {
	tr := NewTracker()
	tr.Add(1, 1)
	tr.Add(2, 1)
	if !tr.SetClosing(1) || tr.SetClosing(1) {
		t.Fatal("SetClosing result")
	}
	if got := tr.Tick(); got != nil {
		t.Fatalf("tick 1: %v", got)
	}
	if got := tr.Tick(); !slices.Equal(got, []int64{2}) {
		t.Fatalf("tick 2: %v (a closing session must not be reported)", got)
	}
	if tr.Touch(1) || !tr.IsClosing(1) {
		t.Fatal("closing session touched")
	}
}

// trackerModel is the naive Tracker: every Tick scans every session.
type trackerModel struct {
	now      int64
	timeout  map[int64]int64
	touched  map[int64]int64
	closing  map[int64]bool
	deadline map[int64]int64
}

func (m *trackerModel) tick() []int64 {
	m.now++
	var out []int64
	for id, d := range m.deadline {
		if !m.closing[id] && d == m.now {
			out = append(out, id)
			m.closing[id] = true
		}
	}
	slices.Sort(out)
	return out
}

func TestTrackerRandomized(t *testing.T) {
	seeds := []uint64{*flagSeed}
	if *flagSeed == 0 {
		seeds = seeds[:0]
		for i := uint64(1); i <= 200; i++ {
			seeds = append(seeds, i*0x2545f4914f6cdd1d)
		}
	}
	for _, seed := range seeds {
		if err := runTrackerModel(seed, 600); err != nil {
			t.Fatalf("seed %d (rerun with -session.seed=%d): %v", seed, seed, err)
		}
	}
}

func runTrackerModel(seed uint64, steps int) error {
	rng := rand.New(rand.NewPCG(seed, 7))
	tr := NewTracker()
	m := &trackerModel{timeout: map[int64]int64{}, touched: map[int64]int64{},
		closing: map[int64]bool{}, deadline: map[int64]int64{}}
	for step := 0; step < steps; step++ {
		id := int64(1 + rng.IntN(40))
		_, known := m.timeout[id]
		switch op := rng.IntN(100); {
		case op < 20:
			timeout := 1 + rng.IntN(8)
			err := tr.Add(id, timeout)
			if known != (err != nil) {
				return fmt.Errorf("step %d: Add(%d) = %v, known %v", step, id, err, known)
			}
			if !known {
				m.timeout[id], m.touched[id] = int64(timeout), m.now
				m.deadline[id] = m.now + int64(timeout) + 1
			}
		case op < 55:
			ok := known && !m.closing[id]
			if got := tr.Touch(id); got != ok {
				return fmt.Errorf("step %d: Touch(%d) = %v, want %v", step, id, got, ok)
			}
			if ok {
				m.touched[id], m.deadline[id] = m.now, m.now+m.timeout[id]+1
			}
		case op < 62:
			tr.Remove(id)
			delete(m.timeout, id)
			delete(m.touched, id)
			delete(m.closing, id)
			delete(m.deadline, id)
		case op < 65:
			ok := known && !m.closing[id]
			if got := tr.SetClosing(id); got != ok {
				return fmt.Errorf("step %d: SetClosing(%d) = %v, want %v", step, id, got, ok)
			}
			if ok {
				m.closing[id] = true
			}
		default:
			got, want := tr.Tick(), m.tick()
			if !slices.Equal(got, want) {
				return fmt.Errorf("step %d: Tick at %d = %v, model %v", step, m.now, got, want)
			}
			for _, id := range got {
				// Touched during tick t (anywhere in [t, t+1) of real
				// time), it expires at the boundary t+T+1: after at least
				// T and at most T+1 ticks of real time.
				if idle := m.now - m.touched[id]; idle != m.timeout[id]+1 {
					return fmt.Errorf("step %d: %d expired %d ticks after its touch, timeout %d", step, id, idle, m.timeout[id])
				}
			}
		}
		if err := compareTracker(tr, m); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
	}
	return nil
}

func compareTracker(tr *Tracker, m *trackerModel) error {
	if tr.Len() != len(m.timeout) || tr.Now() != m.now {
		return fmt.Errorf("Len %d Now %d, model %d %d", tr.Len(), tr.Now(), len(m.timeout), m.now)
	}
	for id := int64(1); id <= 40; id++ {
		d, ok := tr.Deadline(id)
		md, mok := m.deadline[id]
		if ok != mok || d != md || tr.IsClosing(id) != m.closing[id] {
			return fmt.Errorf("session %d: deadline %d,%v closing %v; model %d,%v %v", id, d, ok, tr.IsClosing(id), md, mok, m.closing[id])
		}
	}
	return compareBuckets(tr.Buckets(), m)
}

// compareBuckets: every session not closing is in the bucket of its
// deadline, the buckets in order, each one's ids sorted.
func compareBuckets(got []Bucket, m *trackerModel) error {
	byDeadline := map[int64][]int64{}
	for id := int64(1); id <= 40; id++ {
		if d, ok := m.deadline[id]; ok && !m.closing[id] {
			byDeadline[d] = append(byDeadline[d], id)
		}
	}
	if len(got) != len(byDeadline) {
		return fmt.Errorf("%d buckets, model %d", len(got), len(byDeadline))
	}
	for i, b := range got {
		if i > 0 && got[i-1].Deadline >= b.Deadline {
			return fmt.Errorf("bucket %d out of order: %d after %d", i, b.Deadline, got[i-1].Deadline)
		}
		if want := byDeadline[b.Deadline]; !slices.Equal(b.IDs, want) {
			return fmt.Errorf("bucket of tick %d holds %v, model %v", b.Deadline, b.IDs, want)
		}
	}
	return nil
}

// FuzzTracker lets the fuzzer pick seeds and lengths of the randomized
// tracker test: go test -run x -fuzz FuzzTracker ./session/
func FuzzTracker(f *testing.F) {
	f.Add(uint64(1), uint16(600))
	f.Fuzz(func(t *testing.T, seed uint64, steps uint16) {
		if err := runTrackerModel(seed, int(steps%3000)); err != nil {
			t.Fatalf("seed %d steps %d: %v", seed, steps%3000, err)
		}
	})
}
