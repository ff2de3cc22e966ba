package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// resumeLoad makes random changes under /r through a few sessions: creates
// (persistent, ephemeral, sequential), sets, deletes, multis that create
// and delete the same node, ACLs the watchers cannot read, and sessions that
// close with their ephemerals. Many writes fail (no node, node exists, bad
// version): their no-op entries are in the log too. do runs a client call
// (directly, or while driving a cluster).
type resumeLoad struct {
	t     testing.TB
	rng   *rand.Rand
	do    func(func(ctx context.Context) error) error
	open  func() *Session // a new writer session
	ws    []*Session
	names []string
}

func newResumeLoad(t testing.TB, seed uint64, do func(func(ctx context.Context) error) error, open func() *Session) *resumeLoad {
	l := &resumeLoad{t: t, rng: rand.New(rand.NewPCG(seed, 7)), do: do, open: open}
	for i := 0; i < 3; i++ {
		l.ws = append(l.ws, l.writer())
	}
	return l
}

// writer opens a session that may also pass the secret ACL.
func (l *resumeLoad) writer() *Session {
	s := l.open()
	if err := l.do(func(ctx context.Context) error { return s.AddAuth(ctx, "digest", []byte("owner:pw")) }); err != nil {
		l.t.Fatalf("AddAuth: %v", err)
	}
	return s
}

func (l *resumeLoad) path() string {
	depth := 1 + l.rng.IntN(3)
	p := "/r"
	for i := 0; i < depth; i++ {
		p += "/" + string(rune('a'+l.rng.IntN(4)))
	}
	if l.rng.IntN(4) == 0 && len(l.names) > 0 {
		return l.names[l.rng.IntN(len(l.names))]
	}
	return p
}

func (l *resumeLoad) data() []byte { return []byte(fmt.Sprintf("v%d", l.rng.IntN(1000))) }

// step makes one random write; its error is ignored unless it is not one
// of ZooKeeper's ordinary refusals.
func (l *resumeLoad) step() {
	s := l.ws[l.rng.IntN(len(l.ws))]
	p := l.path()
	var fn func(ctx context.Context) error
	switch k := l.rng.IntN(20); {
	case k < 5:
		fn = func(ctx context.Context) error {
			_, err := s.Create(ctx, p, l.data(), WithParents())
			return err
		}
	case k < 7:
		fn = func(ctx context.Context) error {
			_, err := s.Create(ctx, p, l.data(), WithMode(ModeEphemeral))
			return err
		}
	case k < 8:
		fn = func(ctx context.Context) error {
			got, err := s.Create(ctx, p+"-", l.data(), WithMode(ModePersistentSequential))
			if err == nil {
				l.names = append(l.names, got)
			}
			return err
		}
	case k < 12:
		fn = func(ctx context.Context) error {
			_, err := s.Set(ctx, p, l.data(), -1)
			return err
		}
	case k < 15:
		fn = func(ctx context.Context) error { return s.Delete(ctx, p, -1) }
	case k < 17:
		q := l.path()
		fn = func(ctx context.Context) error {
			_, err := s.Multi(ctx, CreateOp(q, l.data()), SetOp(q, l.data(), -1), CreateOp(p, nil), DeleteOp(q, -1))
			return err
		}
	case k < 18:
		acl := OpenACLUnsafe()
		if l.rng.IntN(2) == 0 {
			acl = []ACL{DigestACL(PermAll, "owner", "pw")}
		}
		fn = func(ctx context.Context) error {
			_, err := s.SetACL(ctx, p, acl, -1)
			return err
		}
	case k < 19:
		fn = func(ctx context.Context) error {
			_, err := s.Create(ctx, p, l.data(), WithACL(DigestACL(PermAll, "owner", "pw")))
			return err
		}
	default:
		i := l.rng.IntN(len(l.ws))
		old := l.ws[i]
		if err := l.do(old.Close); err != nil {
			l.t.Fatalf("closing a writer: %v", err)
		}
		l.ws[i] = l.writer()
		return
	}
	if err := l.do(fn); err != nil && !ordinary(err) {
		l.t.Fatalf("write on %s: %v", p, err)
	}
}

func ordinary(err error) bool {
	for _, e := range []error{ErrNoNode, ErrNodeExists, ErrNotEmpty, ErrBadVersion, ErrNoChildrenForEphemerals, ErrNoAuth} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// drain takes every event queued in w now.
func drain(w *Watch) []Event {
	var out []Event
	for {
		ev, ok := w.TryNext()
		if !ok {
			return out
		}
		out = append(out, ev)
	}
}

// after returns the events of evs with a zxid above z.
func after(evs []Event, z int64) []Event {
	var out []Event
	for _, ev := range evs {
		if ev.Zxid > z {
			out = append(out, ev)
		}
	}
	return out
}

// sameEvents fails the test if got differs from want.
func sameEvents(t testing.TB, what string, want, got []Event) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s: events differ (-live +resumed):\n%s", what, diff)
	}
}

// resumeAll resumes a watch on s from every zxid in [from, to] (stepping by
// step) and checks each stream equals live after that zxid. Every other
// resume empties the peer's journal first, so that resumes are served
// both by the journal and by a replay of the log.
func resumeAll(t testing.TB, s *Session, do func(func(ctx context.Context) error) error, path string, recursive bool, live []Event, from, to, step int64, opts ...WatchOption) int {
	t.Helper()
	n := 0
	for z := from; z <= to; z += step {
		s.e.journal.mu.Lock()
		s.e.journal.skip = n%2 == 1
		s.e.journal.mu.Unlock()
		var w *Watch
		err := do(func(ctx context.Context) (err error) {
			w, err = s.AddWatch(ctx, path, recursive, append([]WatchOption{FromZxid(z), WithWatchBuffer(1 << 16)}, opts...)...)
			return err
		})
		if err != nil {
			t.Fatalf("resume from %#x: %v", z, err)
		}
		s.e.journal.mu.Lock()
		s.e.journal.skip = false
		s.e.journal.mu.Unlock()
		sameEvents(t, fmt.Sprintf("resume %s from %#x", path, z), after(live, z), drain(w))
		w.Remove()
		n++
	}
	return n
}
