package recipesim

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/embedzk/zk"
)

// A gate holds a write (or a session's creation or close) until the driver
// lets it go: after synctest.Wait every pending one is known, and they go
// one at a time in the order of their keys (which name the actor, the kind
// of call and the path without its random marker), so the writes reach the
// peers in an order the seed decides, not the scheduler.
type gateReq struct {
	key  string
	seq  int
	pass chan struct{}
}

// gate waits until the driver lets the call go; false if done (or the run)
// ended first.
func (w *World) gate(done <-chan struct{}, key string) bool {
	g := &gateReq{key: key, pass: make(chan struct{})}
	w.mu.Lock()
	w.stats.Gated++
	g.seq = w.stats.Gated
	w.gates = append(w.gates, g)
	w.mu.Unlock()
	select {
	case <-g.pass:
		return true
	case <-done:
	case <-w.ctx.Done():
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if i := slices.Index(w.gates, g); i >= 0 {
		w.gates = slices.Delete(w.gates, i, i+1)
		return false
	}
	return true // the driver let it go meanwhile
}

// nextGate takes the first pending gate in key order.
func (w *World) nextGate() *gateReq {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.gates) == 0 {
		return nil
	}
	i := 0
	for j, g := range w.gates {
		if c := cmp.Compare(g.key, w.gates[i].key); c < 0 {
			i = j
		}
	}
	g := w.gates[i]
	w.gates = slices.Delete(w.gates, i, i+1)
	return g
}

func (w *World) gatesPending() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.gates) > 0
}

// gateConn is the session an actor's recipes use. Every way zk wakes the
// recipes passes a gate: a write waits before it is sent and again once it
// is answered; a watch's event and a change of the session's state are
// handed on through a gate. After the driver acts, the goroutines it woke
// then run one at a time, in key order, not as the scheduler pleases.
type gateConn struct {
	*zk.Session
	w      *World
	name   string
	states chan zk.SessionState
	once   sync.Once
}

func (g *gateConn) pass(ctx context.Context, op, path string) error {
	if g.w.gate(ctx.Done(), g.name+" "+op+" "+unmark(path)) {
		return nil
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return zk.ErrClosed
}

// answered lets a write's answer through its gate.
func (g *gateConn) answered(op, path string) {
	g.w.gate(nil, g.name+" "+op+" answered "+unmark(path))
}

func (g *gateConn) Create(ctx context.Context, path string, data []byte, opts ...zk.CreateOption) (string, error) {
	if err := g.pass(ctx, "create", path); err != nil {
		return "", err
	}
	defer g.answered("create", path)
	return g.Session.Create(ctx, path, data, opts...)
}

func (g *gateConn) Delete(ctx context.Context, path string, version int32) error {
	if err := g.pass(ctx, "delete", path); err != nil {
		return err
	}
	defer g.answered("delete", path)
	if g.w.opts.Sabotage == SabotageNoDelete {
		return nil
	}
	return g.Session.Delete(ctx, path, version)
}

func (g *gateConn) Multi(ctx context.Context, ops ...zk.Op) ([]zk.OpResult, error) {
	if err := g.pass(ctx, "multi", ""); err != nil {
		return nil, err
	}
	defer g.answered("multi", "")
	return g.Session.Multi(ctx, ops...)
}

func (g *gateConn) GetW(ctx context.Context, path string) ([]byte, zk.Stat, <-chan zk.Event, error) {
	data, st, ch, err := g.Session.GetW(ctx, path)
	return data, st, g.events(ch, "getw "+unmark(path)), err
}

func (g *gateConn) ExistsW(ctx context.Context, path string) (bool, zk.Stat, <-chan zk.Event, error) {
	ok, st, ch, err := g.Session.ExistsW(ctx, path)
	if g.w.opts.Sabotage == SabotageToken && g.name == victim {
		st.Czxid = 1
	}
	return ok, st, g.events(ch, "existsw "+unmark(path)), err
}

func (g *gateConn) ChildrenW(ctx context.Context, path string) ([]string, zk.Stat, <-chan zk.Event, error) {
	kids, st, ch, err := g.Session.ChildrenW(ctx, path)
	return kids, st, g.events(ch, "childrenw "+unmark(path)), err
}

// events hands a watch's events on through a gate.
func (g *gateConn) events(in <-chan zk.Event, key string) <-chan zk.Event {
	if in == nil {
		return nil
	}
	out := make(chan zk.Event, 1)
	go func() {
		defer close(out)
		for ev := range in {
			if !g.w.gate(nil, g.name+" event "+key) {
				return
			}
			out <- ev
		}
	}()
	return out
}

// States hands the session's states on through a gate.
func (g *gateConn) States() <-chan zk.SessionState {
	g.once.Do(func() {
		g.states = make(chan zk.SessionState, 8)
		in := g.Session.States()
		go func() {
			defer close(g.states)
			for st := range in {
				if !g.w.gate(nil, g.name+" state") {
					return
				}
				select {
				case g.states <- st:
				default: // the Client is behind: it reads State() anyway
				}
			}
		}()
	})
	return g.states
}

// WatchStates is States: the session's one consumer is its Client, whose
// states must pass the gate (the promoted Session.WatchStates would not).
func (g *gateConn) WatchStates() (<-chan zk.SessionState, func()) { return g.States(), func() {} }

// unmark drops the protection marker ("_c_<uuid>-", random) from a path.
func unmark(path string) string {
	i := strings.LastIndexByte(path, '/')
	if j := strings.Index(path[i+1:], "_c_"); j == 0 && len(path) > i+1+3+36+1 {
		return path[:i+1] + path[i+1+3+36+1:]
	}
	return path
}
