package transporttest

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/embedzk/zk/zab/transport"
)

// env is one subtest's cluster with a recorder on every transport.
type env struct {
	t   *testing.T
	o   Options
	c   Cluster
	ids []int64
	rng *rand.Rand

	mu     sync.Mutex
	notify chan struct{}       // closed and replaced on every recorded event
	recs   map[int64]*recorder // current incarnation per id
	all    []*recorder
	stop   chan struct{} // closed at cleanup: recorders ignore holds
	wg     sync.WaitGroup
}

// recorder logs and checks the events of one transport incarnation. All
// fields are guarded by env.mu.
type recorder struct {
	id     int64
	tr     transport.Transport
	log    map[int64][]transport.Event // per peer, in arrival order
	up     map[int64]bool
	closed bool
	held   chan struct{} // non-nil while held; closed on release
	errs   []string
}

func newEnv(t *testing.T, o Options, ids []int64, seed int64) *env {
	e := &env{
		t: t, o: o, ids: ids,
		rng:    rand.New(rand.NewPCG(uint64(seed), 0x7a6b)),
		notify: make(chan struct{}),
		recs:   make(map[int64]*recorder),
		stop:   make(chan struct{}),
	}
	e.c = o.New(t, slices.Clone(ids), seed)
	t.Cleanup(e.cleanup)
	for _, id := range ids {
		e.attach(id, e.c.Transport(id))
	}
	return e
}

func (e *env) cleanup() {
	e.c.Close()
	close(e.stop)
	if e.o.Manual {
		e.drain()
	}
	e.wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.all {
		if !r.closed {
			e.t.Errorf("peer %d: Events channel not closed after Close", r.id)
		}
		for _, msg := range r.errs {
			e.t.Errorf("peer %d: %s", r.id, msg)
		}
	}
}

func (e *env) attach(id int64, tr transport.Transport) *recorder {
	if got := tr.ID(); got != id {
		e.t.Fatalf("transport for peer %d reports ID %d", id, got)
	}
	r := &recorder{id: id, tr: tr, log: make(map[int64][]transport.Event), up: make(map[int64]bool)}
	e.mu.Lock()
	e.recs[id] = r
	e.all = append(e.all, r)
	e.mu.Unlock()
	if !e.o.Manual {
		e.wg.Add(1)
		go e.pump(r)
	}
	return r
}

// pump reads r's channel until it is closed (automatic mode).
func (e *env) pump(r *recorder) {
	defer e.wg.Done()
	ch := r.tr.Events()
	for {
		e.mu.Lock()
		gate := r.held
		e.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-e.stop:
			}
		}
		ev, ok := <-ch
		e.record(r, ev, ok)
		if !ok {
			return
		}
	}
}

// drain reads every channel that is not held, without blocking (manual
// mode).
func (e *env) drain() {
	e.mu.Lock()
	recs := slices.Clone(e.all)
	e.mu.Unlock()
	for _, r := range recs {
		for {
			e.mu.Lock()
			skip := r.closed || (r.held != nil && !isClosed(e.stop))
			e.mu.Unlock()
			if skip {
				break
			}
			select {
			case ev, ok := <-r.tr.Events():
				e.record(r, ev, ok)
				continue
			default:
			}
			break
		}
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// record checks ev against the contract and logs it.
func (e *env) record(r *recorder, ev transport.Event, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	close(e.notify)
	e.notify = make(chan struct{})
	if !ok {
		r.closed = true
		return
	}
	bad := func(format string, args ...any) {
		r.errs = append(r.errs, fmt.Sprintf("event %v from %d: ", ev.Kind, ev.Peer)+fmt.Sprintf(format, args...))
	}
	p := ev.Peer
	if p == r.id || !slices.Contains(e.ids, p) {
		bad("not a peer")
	}
	switch ev.Kind {
	case transport.EventUp:
		if r.up[p] {
			bad("Up while already up")
		}
		r.up[p] = true
	case transport.EventDown:
		if !r.up[p] {
			bad("Down while not up")
		}
		r.up[p] = false
	case transport.EventFrame:
		if !r.up[p] {
			bad("Frame while not up")
		}
		if len(ev.Frame) > e.o.MaxFrame {
			bad("frame of %d bytes over MaxFrame %d", len(ev.Frame), e.o.MaxFrame)
		}
	default:
		bad("unknown kind")
	}
	if ev.Kind != transport.EventFrame && ev.Frame != nil {
		bad("carries a frame")
	}
	r.log[p] = append(r.log[p], ev)
}

// waitFor makes progress until cond (called with e.mu held) is true, or
// fails the test after the timeout, or, in manual mode, when nothing is
// left to deliver.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	e.wait(what, cond, false)
}

// waitForBusy is waitFor while other goroutines feed the transports: in
// manual mode, nothing to deliver only means "not yet".
func (e *env) waitForBusy(what string, cond func() bool) {
	e.t.Helper()
	e.wait(what, cond, true)
}

func (e *env) wait(what string, cond func() bool, busy bool) {
	e.t.Helper()
	deadline := time.Now().Add(e.o.Timeout)
	timer := time.NewTimer(e.o.Timeout)
	defer timer.Stop()
	for {
		if e.o.Manual {
			e.drain()
		}
		e.mu.Lock()
		ok, ch := cond(), e.notify
		e.mu.Unlock()
		if ok {
			return
		}
		if e.o.Manual {
			if !e.c.Step() {
				if busy {
					runtime.Gosched() // the feeding goroutines will add work
				} else {
					e.drain()
					e.mu.Lock()
					ok = cond()
					e.mu.Unlock()
					if !ok {
						e.t.Fatalf("quiescent, still waiting for %s\n%s", what, e.dump())
					}
					return
				}
			}
			if time.Now().After(deadline) {
				e.t.Fatalf("timed out waiting for %s\n%s", what, e.dump())
			}
			continue
		}
		select {
		case <-ch:
		case <-timer.C:
			e.t.Fatalf("timed out after %v waiting for %s\n%s", e.o.Timeout, what, e.dump())
		}
	}
}

// changed returns a channel closed at the next recorded event.
func (e *env) changed() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.notify
}

// dump describes every recorder's log, for failure messages.
func (e *env) dump() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for _, r := range e.all {
		fmt.Fprintf(&b, "peer %d (closed %v, held %v):\n", r.id, r.closed, r.held != nil)
		for _, p := range e.ids {
			evs := r.log[p]
			if len(evs) == 0 {
				continue
			}
			fmt.Fprintf(&b, "  from %d: %s\n", p, summarize(evs))
		}
	}
	return b.String()
}

// summarize shortens a log to "Up F*3 Down Up F*10".
func summarize(evs []transport.Event) string {
	var parts []string
	frames := 0
	flush := func() {
		if frames > 0 {
			parts = append(parts, fmt.Sprintf("F*%d", frames))
			frames = 0
		}
	}
	for _, ev := range evs {
		if ev.Kind == transport.EventFrame {
			frames++
			continue
		}
		flush()
		parts = append(parts, ev.Kind.String())
	}
	flush()
	return strings.Join(parts, " ")
}

func (e *env) tr(id int64) transport.Transport {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.recs[id].tr
}

// restart replaces id's transport and records the new one.
func (e *env) restart(id int64) transport.Transport {
	tr := e.c.Restart(id)
	e.attach(id, tr)
	return tr
}

// hold stops reading id's events; release resumes.
func (e *env) hold(id int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.recs[id].held = make(chan struct{})
}

func (e *env) release(id int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.recs[id]
	if r.held != nil {
		close(r.held)
		r.held = nil
	}
}

// The helpers below are called with e.mu held (inside waitFor conditions)
// or from the test goroutine through locked.

func (e *env) locked(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f()
}

// isUp reports whether a's current transport believes b is up.
func (e *env) isUp(a, b int64) bool { return e.recs[a].up[b] }

// count counts the events of kind a's current transport got from b.
func (e *env) count(a, b int64, kind transport.EventKind) int {
	n := 0
	for _, ev := range e.recs[a].log[b] {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// frames returns the frames a's current transport got from b.
func (e *env) frames(a, b int64) [][]byte {
	var out [][]byte
	for _, ev := range e.recs[a].log[b] {
		if ev.Kind == transport.EventFrame {
			out = append(out, ev.Frame)
		}
	}
	return out
}

func (e *env) allUp() bool {
	for _, a := range e.ids {
		for _, b := range e.ids {
			if a != b && !e.isUp(a, b) {
				return false
			}
		}
	}
	return true
}

func (e *env) waitAllUp() {
	e.t.Helper()
	e.waitFor("every pair up", e.allUp)
}
