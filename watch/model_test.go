package watch

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

var (
	flagSeed  = flag.Uint64("watch.seed", 0, "run the randomized model test with this seed only")
	flagSeeds = flag.Int("watch.seeds", 300, "number of seeds of the randomized model test")
)

// The model is a second, deliberately naive implementation of the rules:
// every change is matched against every live registration, in ID order.

type mreg struct {
	id      ID
	session int64
	path    string
	kind    Kind
	alive   bool
	cap     int
	pending int
	events  []Event
	end     string // "", "close", "overflow"
}

func (r *mreg) deliver(e Event) bool {
	if r.cap > 0 && r.pending >= r.cap {
		return false
	}
	r.pending++
	r.events = append(r.events, e)
	return true
}

func (r *mreg) finish(e *Event) {
	r.alive = false
	if e != nil && !r.deliver(*e) {
		r.end = "overflow"
		return
	}
	r.end = "close"
}

func isAncestorOrSelf(a, p string) bool {
	return a == p || a == "/" || strings.HasPrefix(p, a+"/")
}

// match returns the event r gets from c and the ACL it is checked against.
func (r *mreg) match(c znode.Change) (Event, []znode.ACL, bool) {
	typ := map[znode.ChangeType]EventType{znode.ChangeCreated: EventNodeCreated,
		znode.ChangeDeleted: EventNodeDeleted, znode.ChangeDataChanged: EventNodeDataChanged}[c.Type]
	onP := Event{Type: typ, Path: c.Path, Zxid: c.Zxid}
	structural := c.Type != znode.ChangeDataChanged && c.Path != "/"
	onParent := structural && r.path == parent(c.Path)
	kids := Event{Type: EventNodeChildrenChanged, Path: r.path, Zxid: c.Zxid}
	switch r.kind {
	case KindData, KindExist:
		return onP, c.ACL, r.path == c.Path
	case KindChild:
		if r.path == c.Path && c.Type == znode.ChangeDeleted {
			return onP, c.ACL, true
		}
		return kids, c.ParentACL, onParent
	case KindPersistent:
		if r.path == c.Path {
			return onP, c.ACL, true
		}
		return kids, c.ParentACL, onParent
	default:
		return onP, c.ACL, isAncestorOrSelf(r.path, c.Path)
	}
}

type model struct {
	regs  []*mreg // in ID order
	limit int     // registrations per session; 0 = none
}

// live returns the number of live registrations of session.
func (md *model) live(session int64) int {
	n := 0
	for _, r := range md.regs {
		if r.alive && r.session == session {
			n++
		}
	}
	return n
}

func (md *model) trigger(changes []znode.Change) {
	for _, c := range changes {
		for _, r := range md.regs {
			if !r.alive {
				continue
			}
			ev, acl, ok := r.match(c)
			if !ok {
				continue
			}
			readable := allow(r.session, acl)
			switch {
			case r.kind.OneShot() && readable:
				r.finish(&ev)
			case r.kind.OneShot():
				r.finish(&Event{Type: EventNotWatching, Path: r.path, Err: zkerr.ErrNoAuth})
			case readable && !r.deliver(ev):
				r.alive, r.end = false, "overflow"
			}
		}
	}
}

func (md *model) remove(session int64, path string, typ WatcherType) int {
	n := 0
	for _, r := range md.regs {
		if r.alive && r.session == session && r.path == path && typ.Matches(r.kind) {
			r.finish(&Event{Type: r.kind.removedEvent(), Path: path})
			n++
		}
	}
	return n
}

func (md *model) counts() (int, int, int) {
	paths, sessions := map[string]bool{}, map[int64]bool{}
	w := 0
	for _, r := range md.regs {
		if r.alive {
			w++
			paths[r.path], sessions[r.session] = true, true
		}
	}
	return w, len(paths), len(sessions)
}

// tree is the znode tree the random changes keep consistent.
type tree map[string]bool

var universe = func() []string {
	out := []string{"/"}
	for _, a := range []string{"a", "b"} {
		out = append(out, "/"+a)
		for _, b := range []string{"x", "y"} {
			out = append(out, "/"+a+"/"+b)
			for _, c := range []string{"p", "q"} {
				out = append(out, "/"+a+"/"+b+"/"+c)
			}
		}
	}
	return out
}()

func (t tree) hasChildren(p string) bool {
	for q := range t {
		if q != "/" && parent(q) == p {
			return true
		}
	}
	return false
}

func randACL(rng *rand.Rand) []znode.ACL {
	switch rng.IntN(4) {
	case 0:
		return noRead
	case 1:
		return onlySession(int64(1 + rng.IntN(4)))
	default:
		return worldRead
	}
}

func (t tree) randChange(rng *rand.Rand, zxid int64) znode.Change {
	for {
		p := universe[rng.IntN(len(universe))]
		c := znode.Change{Path: p, Zxid: zxid, ACL: randACL(rng), ParentACL: randACL(rng)}
		switch {
		case p == "/":
			c.Type, c.ParentACL = znode.ChangeDataChanged, nil
			return c
		case !t[p] && t[parent(p)]:
			c.Type, t[p] = znode.ChangeCreated, true
			return c
		case t[p] && !t.hasChildren(p) && rng.IntN(2) == 0:
			c.Type = znode.ChangeDeleted
			delete(t, p)
			return c
		case t[p]:
			c.Type = znode.ChangeDataChanged
			return c
		}
	}
}

func TestRandomizedAgainstModel(t *testing.T) {
	seeds := make([]uint64, 0, *flagSeeds)
	if *flagSeed != 0 {
		seeds = append(seeds, *flagSeed)
	} else {
		for i := 1; i <= *flagSeeds; i++ {
			seeds = append(seeds, uint64(i)*0x9e3779b97f4a7c15)
		}
	}
	for _, seed := range seeds {
		if err := runModel(seed, 400); err != nil {
			t.Fatalf("seed %d (rerun with -watch.seed=%d): %v", seed, seed, err)
		}
	}
}

func runModel(seed uint64, steps int) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x5a5a))
	m := NewManager()
	md := &model{limit: []int{0, 0, 2, 5}[seed%4]}
	m.SetSessionLimit(md.limit)
	sinks := map[ID]*recSink{}
	tr := tree{"/": true}
	zxid := int64(0)
	for step := 0; step < steps; step++ {
		if err := randomStep(rng, m, md, sinks, tr, &zxid); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		if err := checkIndexes(m); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		w, p, s := m.Count()
		mw, mp, ms := md.counts()
		if w != mw || p != mp || s != ms {
			return fmt.Errorf("step %d: Count = %d %d %d, model %d %d %d", step, w, p, s, mw, mp, ms)
		}
	}
	for session := int64(1); session <= 4; session++ {
		var want []Registration
		for _, r := range md.regs {
			if r.alive && r.session == session {
				want = append(want, Registration{r.id, r.session, r.path, r.kind})
			}
		}
		if got := m.SessionWatches(session); !slices.Equal(got, want) {
			return fmt.Errorf("SessionWatches(%d) = %v, model %v", session, got, want)
		}
	}
	return compareSinks(md, sinks)
}

func randomStep(rng *rand.Rand, m *Manager, md *model, sinks map[ID]*recSink, tr tree, zxid *int64) error {
	session := int64(1 + rng.IntN(4))
	path := universe[rng.IntN(len(universe))]
	switch op := rng.IntN(100); {
	case op < 40:
		kind := Kind(1 + rng.IntN(5))
		capacity := []int{0, 0, 1, 2, 3}[rng.IntN(5)]
		s := &recSink{cap: capacity}
		id, err := m.Add(session, path, kind, s)
		full := md.limit > 0 && md.live(session) >= md.limit
		if full != errors.Is(err, zkerr.ErrTooManyWatches) || (!full && err != nil) {
			return fmt.Errorf("Add(%d, %s, %v) with %d live (limit %d): %v", session, path, kind, md.live(session), md.limit, err)
		}
		if full {
			if len(s.events) > 0 || s.ended() {
				return fmt.Errorf("a refused Add touched its sink")
			}
			return nil
		}
		sinks[id] = s
		md.regs = append(md.regs, &mreg{id: id, session: session, path: path, kind: kind, alive: true, cap: capacity})
	case op < 75:
		changes := make([]znode.Change, 1+rng.IntN(3))
		for i := range changes {
			*zxid++
			changes[i] = tr.randChange(rng, *zxid)
		}
		m.Trigger(changes, allow)
		md.trigger(changes)
	case op < 83:
		typ := WatcherType(1 + rng.IntN(5))
		n, err := m.Remove(session, path, typ)
		want := md.remove(session, path, typ)
		if n != want || (want == 0) != errors.Is(err, zkerr.ErrNoWatcher) || (want > 0 && err != nil) {
			return fmt.Errorf("Remove(%d, %s, %v) = %d, %v; model %d", session, path, typ, n, err, want)
		}
	case op < 88 && len(md.regs) > 0:
		r := md.regs[rng.IntN(len(md.regs))]
		if got := m.RemoveID(r.id); got != r.alive {
			return fmt.Errorf("RemoveID(%d) = %v, model alive %v", r.id, got, r.alive)
		}
		if r.alive {
			r.finish(&Event{Type: r.kind.removedEvent(), Path: r.path})
		}
	case op < 92:
		reason := []error{zkerr.ErrSessionExpired, zkerr.ErrClosed}[rng.IntN(2)]
		m.DropSession(session, reason)
		for _, r := range md.regs {
			if r.alive && r.session == session {
				r.finish(&Event{Type: EventNotWatching, Path: r.path, Err: reason})
			}
		}
	case len(md.regs) > 0:
		r := md.regs[rng.IntN(len(md.regs))]
		r.pending, sinks[r.id].pending = 0, 0 // the consumer drains
	}
	return nil
}

func compareSinks(md *model, sinks map[ID]*recSink) error {
	for _, r := range md.regs {
		s := sinks[r.id]
		if s.violation != "" {
			return fmt.Errorf("watch %d: %s", r.id, s.violation)
		}
		if !slices.EqualFunc(s.events, r.events, func(a, b Event) bool {
			return a.Type == b.Type && a.Path == b.Path && a.Zxid == b.Zxid && errors.Is(a.Err, b.Err) && errors.Is(b.Err, a.Err)
		}) {
			return fmt.Errorf("watch %d (%v on %s, session %d): events %v, model %v", r.id, r.kind, r.path, r.session, s.events, r.events)
		}
		end := ""
		switch {
		case s.closes == 1 && s.overflows == 0:
			end = "close"
		case s.overflows == 1 && s.closes == 0:
			end = "overflow"
		case s.closes+s.overflows > 1:
			return fmt.Errorf("watch %d ended %d+%d times", r.id, s.closes, s.overflows)
		}
		if end != r.end {
			return fmt.Errorf("watch %d (%v on %s): ended %q, model %q", r.id, r.kind, r.path, end, r.end)
		}
	}
	return nil
}

// FuzzModel lets the fuzzer pick seeds and lengths of the randomized model
// test: go test -run x -fuzz FuzzModel ./watch/
func FuzzModel(f *testing.F) {
	f.Add(uint64(1), uint16(400))
	f.Add(uint64(0xdeadbeef), uint16(2000))
	f.Fuzz(func(t *testing.T, seed uint64, steps uint16) {
		if err := runModel(seed, int(steps%3000)); err != nil {
			t.Fatalf("seed %d steps %d: %v", seed, steps%3000, err)
		}
	})
}
