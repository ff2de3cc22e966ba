package watch

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/embedzk/zk/internal/zkerr"
)

// ID identifies one registration. IDs are never reused by a Manager.
type ID uint64

// Registration describes one live registration.
type Registration struct {
	ID      ID
	Session int64
	Path    string
	Kind    Kind
}

// reg is one registration. pidx and sidx are its positions in its path list
// and in its session's list, for O(1) removal.
type reg struct {
	sink    Sink
	path    string
	session int64
	id      ID
	pidx    int32
	sidx    int32
	kind    Kind
}

// pathWatches holds the registrations on one path, split so that a change
// reaches only the ones it fires: data (data and exist watches), child,
// persistent and recursive.
type pathWatches struct {
	path   string
	data   []*reg
	child  []*reg
	persis []*reg
	recur  []*reg
}

func (pw *pathWatches) list(k Kind) *[]*reg {
	switch k {
	case KindData, KindExist:
		return &pw.data
	case KindChild:
		return &pw.child
	case KindPersistent:
		return &pw.persis
	default:
		return &pw.recur
	}
}

func (pw *pathWatches) empty() bool {
	return len(pw.data) == 0 && len(pw.child) == 0 && len(pw.persis) == 0 && len(pw.recur) == 0
}

// sessionWatches holds the registrations of one session.
type sessionWatches struct {
	regs []*reg
}

// Manager holds the watch registrations of every session. It is safe for
// concurrent use; see the package documentation for what it calls with its
// lock held.
type Manager struct {
	mu        sync.Mutex
	nextID    ID
	changes   uint64 // changes triggered (ChangeSink)
	inTrigger bool   // Trigger is delivering the events of change number changes
	byID      map[ID]*reg
	byPath    map[string]*pathWatches
	bySession map[int64]*sessionWatches
	recursive int // number of live recursive registrations
	limit     int // registrations per session; 0 = no limit
	overflows atomic.Int64
}

// NewManager returns an empty Manager, without a limit on the registrations
// of a session.
func NewManager() *Manager {
	return &Manager{
		byID:      make(map[ID]*reg),
		byPath:    make(map[string]*pathWatches),
		bySession: make(map[int64]*sessionWatches),
	}
}

// SetSessionLimit limits the live registrations of one session to n (of
// every kind together); n <= 0 removes the limit. Registrations a session
// already has stay when the limit drops below their number; Add refuses new
// ones until the session is back under it.
func (m *Manager) SetSessionLimit(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.limit = max(n, 0)
}

// Add registers a watch of session on path and returns its ID. One-shot
// kinds (KindData, KindExist, KindChild) fire once and are removed: the event
// is delivered, then the sink is closed. Persistent kinds stay until removed
// or until the session is dropped.
//
// If session already has as many registrations as the limit
// (SetSessionLimit), Add registers nothing, never calls sink and returns an
// error wrapping zkerr.ErrTooManyWatches.
//
// Add does not validate path (the caller has); it panics on an unknown kind
// or a nil sink, which are programming errors.
func (m *Manager) Add(session int64, path string, kind Kind, sink Sink) (ID, error) {
	if !kind.valid() {
		panic("watch: Add: invalid kind " + kind.String())
	}
	if sink == nil {
		panic("watch: Add: nil sink")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	sw := m.bySession[session]
	if m.limit > 0 && sw != nil && len(sw.regs) >= m.limit {
		return 0, fmt.Errorf("%w: session 0x%x holds %d, its limit", zkerr.ErrTooManyWatches, session, len(sw.regs))
	}
	m.nextID++
	r := &reg{sink: sink, session: session, id: m.nextID, kind: kind}
	pw := m.byPath[path]
	if pw == nil {
		// Clone: the caller's string may pin a larger request buffer.
		pw = &pathWatches{path: strings.Clone(path)}
		m.byPath[pw.path] = pw
	}
	r.path = pw.path // share one copy of the path string per path
	l := pw.list(kind)
	r.pidx = int32(len(*l))
	*l = append(*l, r)
	if sw == nil {
		sw = &sessionWatches{}
		m.bySession[session] = sw
	}
	r.sidx = int32(len(sw.regs))
	sw.regs = append(sw.regs, r)
	m.byID[r.id] = r
	if kind == KindPersistentRecursive {
		m.recursive++
	}
	return r.id, nil
}

// Count returns the number of live registrations, of paths with at least one
// registration and of sessions with at least one registration.
func (m *Manager) Count() (watches int, paths int, sessions int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byID), len(m.byPath), len(m.bySession)
}

// SessionWatches returns the live registrations of session, in ID order, in
// a fresh slice.
func (m *Manager) SessionWatches(session int64) []Registration {
	m.mu.Lock()
	defer m.mu.Unlock()
	sw := m.bySession[session]
	if sw == nil {
		return nil
	}
	out := make([]Registration, 0, len(sw.regs))
	for _, r := range sw.regs {
		out = append(out, Registration{ID: r.id, Session: r.session, Path: r.path, Kind: r.kind})
	}
	slices.SortFunc(out, func(a, b Registration) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// unlinkSession removes r from its session's list (and the session entry
// when it becomes empty), and from byID.
func (m *Manager) unlinkSession(r *reg) {
	delete(m.byID, r.id)
	if r.kind == KindPersistentRecursive {
		m.recursive--
	}
	sw := m.bySession[r.session]
	last := len(sw.regs) - 1
	moved := sw.regs[last]
	sw.regs[r.sidx] = moved
	moved.sidx = r.sidx
	sw.regs[last] = nil
	sw.regs = sw.regs[:last]
	if last == 0 {
		delete(m.bySession, r.session)
	}
}

// unlinkPath removes r from its path list (and the path entry when it
// becomes empty).
func (m *Manager) unlinkPath(r *reg) {
	pw := m.byPath[r.path]
	l := pw.list(r.kind)
	last := len(*l) - 1
	moved := (*l)[last]
	(*l)[r.pidx] = moved
	moved.pidx = r.pidx
	(*l)[last] = nil
	*l = (*l)[:last]
	if last == 0 {
		*l = nil // let a drained list release its array
	}
	m.dropPathIfEmpty(pw)
}

func (m *Manager) dropPathIfEmpty(pw *pathWatches) {
	if pw.empty() {
		delete(m.byPath, pw.path)
	}
}

// unlink removes r from every index.
func (m *Manager) unlink(r *reg) {
	m.unlinkPath(r)
	m.unlinkSession(r)
}

// end delivers the final event ev (if any) to r's sink, then closes it, or
// reports an overflow if the sink could not take ev. r must already be
// unlinked.
func (m *Manager) end(r *reg, ev *Event) {
	if ev != nil && !m.deliver(r.sink, *ev) {
		m.overflow(r)
		return
	}
	r.sink.Close()
}

// deliver hands ev to s, with the number of the change that raised it if
// s is a ChangeSink and Trigger raised it.
func (m *Manager) deliver(s Sink, ev Event) bool {
	if cs, ok := s.(ChangeSink); ok && m.inTrigger {
		return cs.DeliverChange(ev, m.changes)
	}
	return s.Deliver(ev)
}

// overflow ends r's stream with an overflow, and counts it.
func (m *Manager) overflow(r *reg) {
	m.overflows.Add(1)
	r.sink.Overflow()
}

// Overflows returns how many watches ended because their consumer did not
// keep up (their sink refused an event), since the Manager was made.
func (m *Manager) Overflows() int64 { return m.overflows.Load() }
