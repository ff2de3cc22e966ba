package session

import (
	"context"
	"runtime"
	"testing"
)

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// fill adds n sessions with timeouts of 2..21 ticks.
func fill(tr *Tracker, g *IDGen, n int) {
	for i := 0; i < n; i++ {
		if err := tr.Add(g.Next(), 2+i%20); err != nil {
			panic(err)
		}
	}
}

// BenchmarkTrackerTick: one Tick with 100k sessions tracked, where every
// session expires (so each Tick reports about 1/20 of them); the expired ones
// are replaced outside the timer to keep 100k tracked.
func BenchmarkTrackerTick(b *testing.B) {
	const n = 100_000
	tr, g := NewTracker(), NewIDGen(1, 1)
	fill(tr, g, n)
	expired := 0
	for b.Loop() {
		ids := tr.Tick()
		expired += len(ids)
		b.StopTimer()
		for i, id := range ids {
			tr.Remove(id)
			if err := tr.Add(g.Next(), 2+i%20); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(expired)/float64(b.N), "expired/op")
}

// BenchmarkTrackerTickIdle: one Tick with 100k sessions that all stay alive
// (clients ping them): the ticks' cost when nothing expires, plus a touch of
// every session every 10 ticks, spread evenly (10k Touch per op).
func BenchmarkTrackerTickIdle(b *testing.B) {
	const n = 100_000
	tr, g := NewTracker(), NewIDGen(1, 1)
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = g.Next()
		tr.Add(ids[i], 20)
	}
	next := 0
	for b.Loop() {
		for j := 0; j < n/10; j++ {
			tr.Touch(ids[next])
			next = (next + 1) % n
		}
		if got := tr.Tick(); got != nil {
			b.Fatalf("%d sessions expired", len(got))
		}
	}
}

func BenchmarkTrackerTouch(b *testing.B) {
	const n = 100_000
	tr, g := NewTracker(), NewIDGen(1, 1)
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = g.Next()
		tr.Add(ids[i], 20)
	}
	i := 0
	for b.Loop() {
		if i%n == 0 {
			tr.Tick() // moves every touch to a new bucket
		}
		tr.Touch(ids[i%n])
		i++
	}
}

// BenchmarkTrackerMemory reports the heap a Tracker holds per session.
func BenchmarkTrackerMemory(b *testing.B) {
	const n = 100_000
	var per float64
	for b.Loop() {
		before := heapAlloc()
		tr := NewTracker()
		fill(tr, NewIDGen(1, 1), n)
		per = float64(heapAlloc()-before) / n
		runtime.KeepAlive(tr)
	}
	b.ReportMetric(per, "B/session")
}

// BenchmarkSequencer: Issue, Wait and Done of one call with no other call
// outstanding (the common case: no channel operation).
func BenchmarkSequencer(b *testing.B) {
	var s Sequencer
	ctx := context.Background()
	for b.Loop() {
		t := s.Issue()
		if err := s.Wait(ctx, t); err != nil {
			b.Fatal(err)
		}
		s.Done(t)
	}
}

// BenchmarkSequencerParallel: many goroutines share one session's Sequencer.
func BenchmarkSequencerParallel(b *testing.B) {
	var s Sequencer
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			t := s.Issue()
			if err := s.Wait(ctx, t); err != nil {
				b.Error(err)
			}
			s.Done(t)
		}
	})
}
