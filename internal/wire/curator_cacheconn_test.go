package wire_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/recipes"
	"github.com/embedzk/zk/zab/transport"
)

// TestCuratorCacheConnEvents compares the connection events of a
// recipes TreeCache made WithConnectionEvents with those of Curator 5.4's
// TreeCache (testdata/curator's CacheConnEvents), through the same two
// faults on a 3-peer zk ensemble, while a session on the leader changes
// the cached tree:
//   - a short cut: Curator's connection, through a proxy to a follower,
//     is refused for less than its session timeout, and the Go cache's
//     peer, the other follower, is cut off from the quorum for as long;
//     three changes are made meanwhile;
//   - an expiry: the same, for longer than Curator's session timeout (its
//     ConnectionStateManager tells LOST then, Curator 5's default), and
//     the Go cache's session is expired by the leader; three more changes;
//   - a short cut again, with a node changed twice and another created and
//     deleted meanwhile: the documented difference.
//
// The recipes cache runs in process (its sessions are a peer's), so its
// disconnection is its peer's: no proxy can cut it. Through the first two
// faults the two sequences of events must be the same, connection events
// in place, the node events between two of them compared as sets (kind,
// path, data): Curator's order among them is its reads' (it reads each
// node again on reconnection), the Go cache's is the changes' own.
// Through the third, Curator tells what its reads find (the node's last
// data only, nothing of the node gone again), the Go cache every change.
func TestCuratorCacheConnEvents(t *testing.T) {
	x := newConnCompare(t, "tree", "/cc")
	x.threeFaults("initialized again", counts("Initialized", 2))
	x.compareFaults("TreeCache", []string{"NodeCreated /cc r"}, []string{"Initialized - -"})
}

// threeFaults runs the comparison's three faults; once healed after the
// expiry, it waits until afterLost holds of both caches' events.
func (x *connCompare) threeFaults(what string, afterLost func([]string) bool) {
	t, jv, goRec := x.t, x.jv, x.goRec
	// The short cut.
	x.cut(1)
	x.write("c /cc/a 1", "s /cc/b 2", "d /cc/c")
	x.heal()
	jv.until(t, "the changes after reconnection", nodeEventsAfterLast("Reconnected", 3))
	goRec.until(t, "the changes after reconnection", nodeEventsAfterLast("Reconnected", 3))

	// The expiry.
	x.cut(2)
	must(t, x.leader.ExpireSession(x.ctx, goRec.sessionID()))
	x.write("c /cc/d 1", "s /cc/a 2", "d /cc/b")
	jv.until(t, "lost", counts("Lost", 1))
	x.heal()
	jv.until(t, what, afterLost)
	goRec.until(t, what, afterLost)

	// The documented difference.
	x.cut(3)
	x.write("s /cc/d 2", "s /cc/d 3", "c /cc/t t", "d /cc/t")
	x.heal()
	jv.until(t, "the change after reconnection", nodeEventsAfterLast("Reconnected", 1))
	goRec.until(t, "the changes after reconnection", nodeEventsAfterLast("Reconnected", 4))
	x.end()
}

// compareFaults checks both caches' events through threeFaults, node
// events sorted between connection events: the root's own events first
// (root), and after the changes made while the session was lost those
// the shape tells then (afterLost).
func (x *connCompare) compareFaults(shape string, root, afterLost []string) {
	same := append(slices.Clone(root), "NodeCreated /cc/b 1", "NodeCreated /cc/c 1", "Initialized - -",
		"Suspended - -", "Reconnected - -",
		"NodeChanged /cc/b 2", "NodeCreated /cc/a 1", "NodeDeleted /cc/c 1",
		"Suspended - -", "Lost - -", "Reconnected - -",
		"NodeChanged /cc/a 2", "NodeCreated /cc/d 1", "NodeDeleted /cc/b 2")
	same = append(append(same, afterLost...), "Suspended - -", "Reconnected - -")
	x.compare(shape, bySegment(x.jv.snapshot()), bySegment(x.goRec.snapshot()),
		append(slices.Clone(same), "NodeChanged /cc/d 3"),
		append(slices.Clone(same), "NodeChanged /cc/d 2", "NodeChanged /cc/d 3", "NodeCreated /cc/t t", "NodeDeleted /cc/t t"))
}

// end closes Curator's program (it closes its cache and client and says
// END) and the Go cache.
func (x *connCompare) end() {
	x.t.Helper()
	must(x.t, x.jv.j.stdin.Close())
	x.jv.until(x.t, "its end", func([]string) bool { return x.jv.ended })
	x.jv.j.wait()
	must(x.t, x.goRec.cache.Close())
}

// compare fails unless Curator's events (as the test arranged them) are
// wantJava and the Go cache's wantGo.
func (x *connCompare) compare(shape string, gotJava, gotGo, wantJava, wantGo []string) {
	x.t.Helper()
	x.t.Logf("Curator 5.4's %s: %q", shape, x.jv.snapshot())
	x.t.Logf("the recipes %s:   %q", shape, x.goRec.snapshot())
	if !slices.Equal(gotJava, wantJava) {
		x.t.Errorf("Curator's events:\n got %q\nwant %q", gotJava, wantJava)
	}
	if !slices.Equal(gotGo, wantGo) {
		x.t.Errorf("the recipes cache's events:\n got %q\nwant %q", gotGo, wantGo)
	}
}

// connCompare is TestCuratorCacheConnEvents' world: a 3-peer ensemble, a
// session on its leader that writes, Curator's cache through a proxy to
// one follower and the Go cache on the other.
type connCompare struct {
	t                        *testing.T
	ctx                      context.Context
	network                  *transport.Network
	leader, goPeer, javaPeer *engine.Ensemble
	w                        *zk.Session
	proxy                    *switchProxy
	jv                       *javaEvents
	goRec                    *goConnCache
}

// newConnCompare starts the ensemble and both caches of root, of kind
// "tree", "children" or "node" (CacheConnEvents' argument), /cc made with
// two children, b and c, and waits for their initial loads (a NodeCache
// tells none after it).
func newConnCompare(t *testing.T, kind, root string) *connCompare {
	cp := compileCurator(t)
	peers, network := startClusterNet(t, 3, nil)
	x := &connCompare{t: t, network: network}
	var followers []*engine.Ensemble
	for _, e := range peers {
		if e.Status().Mode == engine.ModeLeading {
			x.leader = e
		} else {
			followers = append(followers, e)
		}
	}
	if x.leader == nil || len(followers) != 2 {
		t.Fatalf("no leader and two followers: %d followers", len(followers))
	}
	x.goPeer, x.javaPeer = followers[0], followers[1]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	x.ctx = ctx
	var err error
	x.w, err = x.leader.NewSession(ctx)
	must(t, err)
	x.write("c /cc r", "c /cc/b 1", "c /cc/c 1")
	x.goRec = startGoConnCache(t, ctx, x.goPeer, kind, root)
	x.proxy = newSwitchProxy(t, x.javaPeer.ClientAddr())
	x.jv = &javaEvents{j: startJava(t, cp, "CacheConnEvents", x.proxy.ln.Addr().String(), root, "4000", kind)}
	loaded := counts("Initialized", 1)
	if kind == "node" {
		loaded = counts("NodeChanged", 1)
	}
	x.jv.until(t, "its initial load", loaded)
	x.goRec.until(t, "its initial load", counts("NodeCreated", 1))
	return x
}

// write makes changes on the leader, in order: "c path data" creates,
// "s path data" sets, "d path" deletes.
func (x *connCompare) write(changes ...string) {
	x.t.Helper()
	for _, ch := range changes {
		f := append(strings.Fields(ch), "")
		var err error
		switch f[0] {
		case "c":
			_, err = x.w.Create(x.ctx, f[1], []byte(f[2]))
		case "s":
			_, err = x.w.Set(x.ctx, f[1], []byte(f[2]), -1)
		case "d":
			err = x.w.Delete(x.ctx, f[1], -1)
		default:
			x.t.Fatalf("bad change %q", ch)
		}
		must(x.t, err)
	}
}

// cut refuses Curator's connection and cuts the Go cache's peer off from
// the quorum, and waits until both caches are suspended (the n-th time;
// for NodeCaches, which tell none, until Curator's client is).
func (x *connCompare) cut(n int) {
	x.t.Helper()
	x.proxy.cut("")
	x.network.Isolate(x.goPeer.Status().ID)
	if !x.goRec.connEvents {
		// A NodeCache tells no connection event: its client's state says.
		x.jv.untilState(x.t, "SUSPENDED", n)
		return
	}
	x.jv.until(x.t, "suspended", counts("Suspended", n))
	x.goRec.until(x.t, "suspended", counts("Suspended", n))
}

// heal undoes cut.
func (x *connCompare) heal() {
	x.network.Heal()
	x.proxy.cut(x.javaPeer.ClientAddr())
}

// bySegment sorts the node events between two connection events (or
// Initialized), leaving those in place.
func bySegment(evs []string) []string {
	var out, seg []string
	flush := func() {
		slices.Sort(seg)
		out = append(out, seg...)
		seg = nil
	}
	for _, ev := range evs {
		if strings.HasPrefix(ev, "Node") {
			seg = append(seg, ev)
			continue
		}
		flush()
		out = append(out, ev)
	}
	flush()
	return out
}

// counts is the wait condition "at least n events of kind".
func counts(kind string, n int) func([]string) bool {
	return func(evs []string) bool {
		k := 0
		for _, ev := range evs {
			if strings.HasPrefix(ev, kind+" ") {
				k++
			}
		}
		return k >= n
	}
}

// nodeEventsAfterLast is the wait condition "the last event that is not
// a node event is of kind, and at least n node events follow it".
func nodeEventsAfterLast(kind string, n int) func([]string) bool {
	return func(evs []string) bool {
		k := 0
		for i := len(evs) - 1; i >= 0; i-- {
			if !strings.HasPrefix(evs[i], "Node") {
				return strings.HasPrefix(evs[i], kind+" ") && k >= n
			}
			k++
		}
		return false
	}
}

// curatorKinds names Curator's TreeCacheEvent types as the recipes'.
var curatorKinds = map[string]string{
	"NODE_ADDED": "NodeCreated", "NODE_UPDATED": "NodeChanged", "NODE_REMOVED": "NodeDeleted",
	"INITIALIZED": "Initialized", "CONNECTION_SUSPENDED": "Suspended",
	"CONNECTION_RECONNECTED": "Reconnected", "CONNECTION_LOST": "Lost",
	// PathChildrenCacheEvent's
	"CHILD_ADDED": "NodeCreated", "CHILD_UPDATED": "NodeChanged", "CHILD_REMOVED": "NodeDeleted",
	// what CacheConnEvents prints for NodeCacheListener.nodeChanged
	"NODE_CHANGED": "NodeChanged",
}

// javaEvents reads CacheConnEvents' lines: its events, as "Kind path
// data", its client's connection states, and its END.
type javaEvents struct {
	j      *javaProc
	mu     sync.Mutex
	evs    []string
	states []string
	ended  bool
}

// untilState reads the program's lines until its client's connection has
// taken state n times.
func (jv *javaEvents) untilState(t *testing.T, state string, n int) {
	t.Helper()
	jv.until(t, "connection state "+state, func([]string) bool {
		jv.mu.Lock()
		defer jv.mu.Unlock()
		return counts(state, n)(jv.states)
	})
}

// until reads the program's lines until cond holds of its events (30 s
// at most).
func (jv *javaEvents) until(t *testing.T, what string, cond func([]string) bool) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for !cond(jv.snapshot()) {
		select {
		case l, ok := <-jv.j.lines:
			if !ok {
				t.Fatalf("Curator's cache ended before %s: %q\nstderr:\n%s", what, jv.snapshot(), jv.j.stderr.String())
			}
			jv.take(t, l)
		case <-timeout:
			t.Fatalf("Curator's cache: no %s in 30s: %q\nstderr:\n%s", what, jv.snapshot(), jv.j.stderr.String())
		}
	}
}

func (jv *javaEvents) take(t *testing.T, l string) {
	t.Helper()
	f := strings.Fields(l)
	jv.mu.Lock()
	defer jv.mu.Unlock()
	switch {
	case l == "END":
		jv.ended = true
	case len(f) == 2 && f[0] == "STATE":
		jv.states = append(jv.states, f[1]+" ")
	case len(f) == 4 && f[0] == "EVENT" && curatorKinds[f[1]] != "":
		jv.evs = append(jv.evs, curatorKinds[f[1]]+" "+f[2]+" "+f[3])
	default:
		t.Fatalf("unexpected line from Curator's cache: %q", l)
	}
}

// snapshot is Curator's events so far, each Reconnected moved before the
// node events told since the Suspended or Lost before it: Curator tells
// CONNECTION_RECONNECTED from its connection-state thread after sending
// its reads off, and their first results, told from the client's event
// thread, can come first.
func (jv *javaEvents) snapshot() []string {
	jv.mu.Lock()
	defer jv.mu.Unlock()
	return reconnectedFirst(jv.evs)
}

// reconnectedFirst is evs with each Reconnected moved before the node
// events between it and the connection event before it.
func reconnectedFirst(evs []string) []string {
	out := make([]string, 0, len(evs))
	since := 0 // where the node events after the last connection event start
	for _, ev := range evs {
		switch {
		case strings.HasPrefix(ev, "Node"):
			out = append(out, ev)
		case strings.HasPrefix(ev, "Reconnected "):
			out = slices.Insert(out, since, ev)
			since = len(out)
		default:
			out = append(out, ev)
			since = len(out)
		}
	}
	return out
}

// goConnCache is a recipes cache of root (a TreeCache, PathChildrenCache or
// NodeCache, by kind, the first two made WithConnectionEvents) on a session
// of peer (and, after its session ends, on the next one there), with its
// events as "Kind path data".
type goConnCache struct {
	cache      *recipes.Cache
	connEvents bool
	mu         sync.Mutex
	sess       *zk.Session
	evs        []string
	wake       chan struct{}
}

func startGoConnCache(t *testing.T, ctx context.Context, peer *engine.Ensemble, kind, root string) *goConnCache {
	t.Helper()
	g := &goConnCache{wake: make(chan struct{}, 1), connEvents: kind != "node"}
	var err error
	g.sess, err = peer.NewSession(ctx, zk.WithSessionTimeout(10*time.Second))
	must(t, err)
	mk, opts := recipes.NewTreeCache, []recipes.CacheOption{recipes.WithConnectionEvents()}
	switch kind {
	case "children":
		mk = recipes.NewPathChildrenCache
	case "node":
		mk, opts = recipes.NewNodeCache, nil
	}
	g.cache, err = mk(g.sess, root, append(opts,
		recipes.WithReconnect(func(ctx context.Context) (recipes.CacheSession, error) {
			s, err := peer.NewSession(ctx, zk.WithSessionTimeout(10*time.Second))
			if err != nil {
				return nil, err
			}
			g.mu.Lock()
			g.sess = s
			g.mu.Unlock()
			return s, nil
		}))...)
	must(t, err)
	g.cache.Listen(g.record)
	must(t, g.cache.Start(ctx))
	t.Cleanup(func() { g.cache.Close() })
	return g
}

func (g *goConnCache) record(ev recipes.CacheEvent) {
	path, data := "-", "-"
	if ev.Node.Path != "" {
		path, data = ev.Node.Path, string(ev.Node.Data)
	}
	g.mu.Lock()
	g.evs = append(g.evs, ev.Type.String()+" "+path+" "+data)
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

func (g *goConnCache) sessionID() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sess.ID()
}

func (g *goConnCache) snapshot() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.evs)
}

// until waits until cond holds of the cache's events (30 s at most).
func (g *goConnCache) until(t *testing.T, what string, cond func([]string) bool) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for !cond(g.snapshot()) {
		select {
		case <-g.wake:
		case <-timeout:
			t.Fatalf("the recipes cache: no %s in 30s: %q (err %v)", what, g.snapshot(), g.cache.Err())
		}
	}
}

// TestReconnectedFirst: a node event Curator told before its RECONNECTED
// (as a CI run saw) is put after it; events after other connection events
// keep their place.
func TestReconnectedFirst(t *testing.T) {
	got := reconnectedFirst([]string{"Initialized - -", "Suspended - -", "NodeDeleted /cc/c 1", "Reconnected - -",
		"NodeChanged /cc/b 2", "Suspended - -", "Lost - -", "Reconnected - -", "NodeCreated /cc/d 1", "Initialized - -"})
	want := []string{"Initialized - -", "Suspended - -", "Reconnected - -", "NodeDeleted /cc/c 1",
		"NodeChanged /cc/b 2", "Suspended - -", "Lost - -", "Reconnected - -", "NodeCreated /cc/d 1", "Initialized - -"}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
