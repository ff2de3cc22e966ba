package session

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/embedzk/zk/internal/zkerr"
)

// tracked is one session in the Tracker. While not closing it sits in the
// doubly linked list of the bucket of its deadline.
type tracked struct {
	id         int64
	timeout    int64 // ticks
	deadline   int64 // tick at which Tick reports it
	prev, next *tracked
	closing    bool
}

// Tracker tracks session expiry in tick buckets, as ZooKeeper's
// SessionTrackerImpl over an ExpiryQueue whose interval is one tick. All
// operations are O(1) except Tick, which costs O(k log k) for the k sessions
// it reports. It is not safe for concurrent use.
type Tracker struct {
	now      int64
	sessions map[int64]*tracked
	buckets  map[int64]*tracked // deadline -> first session of the bucket
}

// NewTracker returns an empty Tracker at tick 0.
func NewTracker() *Tracker {
	return &Tracker{sessions: make(map[int64]*tracked), buckets: make(map[int64]*tracked)}
}

// Add starts tracking session id with a timeout of timeoutTicks, as if
// touched now: its deadline is Now()+timeoutTicks+1. It fails (wrapping
// zkerr.ErrBadArguments) if id is already known, closing or not, or if
// timeoutTicks < 1.
func (t *Tracker) Add(id int64, timeoutTicks int) error {
	if timeoutTicks < 1 {
		return fmt.Errorf("session: track 0x%x: timeout of %d ticks: %w", id, timeoutTicks, zkerr.ErrBadArguments)
	}
	if _, ok := t.sessions[id]; ok {
		return fmt.Errorf("session: track 0x%x: already tracked: %w", id, zkerr.ErrBadArguments)
	}
	s := &tracked{id: id, timeout: int64(timeoutTicks)}
	s.deadline = t.now + s.timeout + 1
	t.sessions[id] = s
	t.link(s)
	return nil
}

// Touch pushes the session's deadline to Now()+timeout+1. It returns false
// if the session is unknown or closing (expired or SetClosing), as
// ZooKeeper's touchSession.
func (t *Tracker) Touch(id int64) bool {
	s := t.sessions[id]
	if s == nil || s.closing {
		return false
	}
	if d := t.now + s.timeout + 1; d > s.deadline {
		t.unlink(s)
		s.deadline = d
		t.link(s)
	}
	return true
}

// SetClosing marks the session closing without waiting for its deadline
// (ZooKeeper's setSessionClosing, used when the client closes it): Touch
// fails and Tick does not report it. It stays known until Remove. It returns
// false if the session is unknown or already closing.
func (t *Tracker) SetClosing(id int64) bool {
	s := t.sessions[id]
	if s == nil || s.closing {
		return false
	}
	t.unlink(s)
	s.closing = true
	return true
}

// IsClosing reports whether the session is known and closing (expired or
// SetClosing), so that its requests fail with ErrSessionExpired.
func (t *Tracker) IsClosing(id int64) bool {
	s := t.sessions[id]
	return s != nil && s.closing
}

// Remove forgets the session (closing or not); unknown ids are ignored.
func (t *Tracker) Remove(id int64) {
	s := t.sessions[id]
	if s == nil {
		return
	}
	if !s.closing {
		t.unlink(s)
	}
	delete(t.sessions, id)
}

// Tick advances the clock by one tick and returns, sorted, the sessions
// whose deadline is the new tick. Each is reported once: it becomes closing
// and stays known until Remove. It returns nil when none expired.
func (t *Tracker) Tick() []int64 {
	t.now++
	head := t.buckets[t.now]
	if head == nil {
		return nil
	}
	delete(t.buckets, t.now)
	var ids []int64
	for s := head; s != nil; {
		next := s.next
		s.prev, s.next, s.closing = nil, nil, true
		ids = append(ids, s.id)
		s = next
	}
	slices.Sort(ids)
	return ids
}

// Now returns the current tick: the number of Tick calls so far.
func (t *Tracker) Now() int64 { return t.now }

// Len returns the number of known sessions, closing ones included.
func (t *Tracker) Len() int { return len(t.sessions) }

// Deadline returns the tick at which the session expires (for a closing
// session: the tick it expired at, or would have without SetClosing) and
// whether the session is known.
func (t *Tracker) Deadline(id int64) (int64, bool) {
	s := t.sessions[id]
	if s == nil {
		return 0, false
	}
	return s.deadline, true
}

// Bucket is the sessions that expire at one tick, as ZooKeeper's expiry
// queue groups them.
type Bucket struct {
	Deadline int64   // the tick
	IDs      []int64 // sorted
}

// Buckets returns the sessions waiting for their deadline, grouped by it
// (ZooKeeper's ExpiryQueue.dump): the buckets in order of their deadline.
// Closing sessions are in none.
func (t *Tracker) Buckets() []Bucket {
	out := make([]Bucket, 0, len(t.buckets))
	for d, head := range t.buckets {
		b := Bucket{Deadline: d}
		for s := head; s != nil; s = s.next {
			b.IDs = append(b.IDs, s.id)
		}
		slices.Sort(b.IDs)
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b Bucket) int { return cmp.Compare(a.Deadline, b.Deadline) })
	return out
}

func (t *Tracker) link(s *tracked) {
	head := t.buckets[s.deadline]
	s.prev, s.next = nil, head
	if head != nil {
		head.prev = s
	}
	t.buckets[s.deadline] = s
}

func (t *Tracker) unlink(s *tracked) {
	if s.prev != nil {
		s.prev.next = s.next
	} else if s.next != nil {
		t.buckets[s.deadline] = s.next
	} else {
		delete(t.buckets, s.deadline)
	}
	if s.next != nil {
		s.next.prev = s.prev
	}
	s.prev, s.next = nil, nil
}
