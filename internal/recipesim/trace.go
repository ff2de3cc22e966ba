package recipesim

import (
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"strings"
	"sync"
)

// tracer hashes the run's events in order (a seed must give the same
// hash) and keeps the last lines for a failure report.
type tracer struct {
	mu   sync.Mutex
	h    hash.Hash64
	out  io.Writer
	ring []string
	next int
	full bool
}

func newTracer(out io.Writer) *tracer {
	return &tracer{h: fnv.New64a(), out: out, ring: make([]string, 300)}
}

func (t *tracer) line(now int64, format string, args ...any) {
	s := fmt.Sprintf("%6d "+format, append([]any{now}, args...)...)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.h.Write([]byte(s + "\n"))
	t.ring[t.next] = s
	t.next = (t.next + 1) % len(t.ring)
	t.full = t.full || t.next == 0
	if t.out != nil {
		fmt.Fprintln(t.out, s)
	}
}

func (t *tracer) sum() uint64 { return t.h.Sum64() }

func (t *tracer) tail() string {
	var b strings.Builder
	if t.full {
		for _, s := range t.ring[t.next:] {
			b.WriteString(s + "\n")
		}
	}
	for _, s := range t.ring[:t.next] {
		b.WriteString(s + "\n")
	}
	return b.String()
}

// Stats counts what a run did.
type Stats struct {
	Faults    map[string]int // faults injected, by kind
	Acquired  map[string]int // holds granted, by recipe
	Lost      map[string]int // holds that ended other than by release, by cause
	Events    map[string]int // failed acquisitions, by cause
	Sessions  int
	Expired   int   // sessions seen to expire
	Gated     int   // writes that passed the gate
	HealTicks int64 // ticks from healing until every actor acquired
}

func newStats() Stats {
	return Stats{Faults: map[string]int{}, Acquired: map[string]int{}, Lost: map[string]int{}, Events: map[string]int{}}
}

func (s Stats) String() string {
	n := 0
	for _, v := range s.Acquired {
		n += v
	}
	return fmt.Sprintf("%d holds %v, lost %v, %d sessions (%d expired), %d writes, every actor acquired %d ticks after healing",
		n, s.Acquired, s.Lost, s.Sessions, s.Expired, s.Gated, s.HealTicks)
}

// Add accumulates o into s (for a campaign's totals).
func (s *Stats) Add(o Stats) {
	if s.Faults == nil {
		*s = newStats()
	}
	for _, m := range [][2]map[string]int{{s.Faults, o.Faults}, {s.Acquired, o.Acquired}, {s.Lost, o.Lost}, {s.Events, o.Events}} {
		for k, v := range m[1] {
			m[0][k] += v
		}
	}
	s.Sessions += o.Sessions
	s.Expired += o.Expired
	s.Gated += o.Gated
	s.HealTicks = max(s.HealTicks, o.HealTicks)
}
