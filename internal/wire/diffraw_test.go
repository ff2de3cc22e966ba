package wire_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/jute"
)

// The raw differential test: the requests go-zookeeper does not send
// (addWatch, removeWatches, checkWatches, getEphemerals,
// getAllChildrenNumber, multiRead, sync, whoAmI, create2, getChildren2,
// setWatches and setWatches2 on a reconnect, ping, setACL, getACL, a
// check outside a multi; a reconnect while the old connection is still
// open, which the server closes) with the others, and arguments no client
// library sends (diffraw_odd_test.go), sent as seeded random steps over hand-driven connections to a real ZooKeeper
// 3.8 and to a zk peer. Each system has three sessions; every step's
// transcript (reply headers, bodies, Stat fields, and the watch events each
// connection received, in their order relative to the replies) must be the
// same on both.

var (
	diffRawSteps = flag.Int("wire.diffrawsteps", 300, "steps of the raw differential test")
	diffRawSeed  = flag.Uint64("wire.diffrawseed", 1, "seed of the raw differential test")
	diffRawTrace = flag.Bool("wire.diffrawtrace", false, "log every step of the raw differential test")
)

const rawSessions = 3

// persistentSess is the session that sets persistent watches (addWatch);
// the others set one-shot watches. ZooKeeper 3.8 keeps one watch mode per
// connection and path, so a one-shot watch on a path with a persistent one
// replaces it (ZOOKEEPER-4466, fixed in 3.9, where zk follows it: a
// deliberate difference, README "Differences from ZooKeeper"); keeping the
// kinds on separate connections compares everything else.
const persistentSess = 2

// rawPaths are the paths the steps draw: a small tree, so that changes hit
// watches, with /d/a and /d/ab to tell getEphemerals' string prefix from a
// subtree.
var rawPaths = []string{"/d", "/d/a", "/d/ab", "/d/a/x", "/d/a/y", "/d/b", "/d/b/z", "/e", "/e/f"}

// rawWatchModel is what a client library would remember of its watches
// (ZooKeeper's ZKWatchManager): what it re-registers with setWatches on a
// reconnect. It only follows replies and events, which the test compares,
// so it is the same on both systems.
type rawWatchModel struct {
	data, exist, child, persistent, recursive map[string]bool
}

func newRawWatchModel() rawWatchModel {
	return rawWatchModel{data: map[string]bool{}, exist: map[string]bool{}, child: map[string]bool{},
		persistent: map[string]bool{}, recursive: map[string]bool{}}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// fired removes the one-shot watches an event ends on the server;
// persistent ones stay. An exists watch on a missing node (exist) ends only
// with NodeCreated: a NodeDeleted for its path (a child or data watch that a
// setWatches found gone, in the same request that set the exists watch)
// leaves it on the server, where it still counts for checkWatches. (The
// Java client's watch manager drops it there too; this model follows the
// server, and re-sends it on a reconnect, to both systems alike.)
func (m *rawWatchModel) fired(ev jute.WatcherEvent) {
	switch ev.Type {
	case 1, 3: // NodeCreated, NodeDataChanged
		delete(m.data, ev.Path)
		delete(m.exist, ev.Path)
	case 2: // NodeDeleted
		delete(m.data, ev.Path)
		delete(m.child, ev.Path)
	case 4: // NodeChildrenChanged
		delete(m.child, ev.Path)
	}
}

// firedBySetWatches removes the watch a setWatches answered with an event
// instead of setting it. The server weighs each kind of watch of a path on
// its own there (DataTree.setWatches), so an event ends only its kind:
// NodeCreated an exists watch, NodeDataChanged a data watch, NodeDeleted a
// data or a child watch, NodeChildrenChanged a child watch; the others of
// the path are set.
func (m *rawWatchModel) firedBySetWatches(ev jute.WatcherEvent) {
	switch ev.Type {
	case 1: // NodeCreated
		delete(m.exist, ev.Path)
	case 3: // NodeDataChanged
		delete(m.data, ev.Path)
	default:
		m.fired(ev)
	}
}

// removed follows a successful removeWatches of a watcher type.
func (m *rawWatchModel) removed(path string, typ int32) {
	switch typ {
	case 1:
		delete(m.child, path)
	case 2:
		delete(m.data, path)
		delete(m.exist, path)
	case 3:
		delete(m.child, path)
		delete(m.data, path)
		delete(m.exist, path)
		delete(m.persistent, path)
		delete(m.recursive, path)
	case 4:
		delete(m.persistent, path)
	case 5:
		delete(m.recursive, path)
	}
}

// rawSess is one session of a system and its current connection.
type rawSess struct {
	r         *rawConn
	id        int64
	passwd    []byte
	zxid      int64 // the last zxid a reply carried (the client's lastZxidSeen)
	connected bool
	w         rawWatchModel
	srv       int // the server of its connection (an index of rawSys.addrs)
}

// rawSys is one server under the test.
type rawSys struct {
	t     *testing.T
	name  string
	addrs []string // one server, or an ensemble's
	sess  [rawSessions]*rawSess
	base  int64
	names map[int64]string // session ids as s1, s2, ... in the order they opened
	last  int64            // the largest zxid a reply carried
	// skipped are the zxid counters of the writes ZooKeeper refused in an
	// error txn that zk refuses before they reach its log (see
	// refusedEarly): zx leaves them out.
	skipped []int64
	step    int
	// ghosts are the watch tables of connections gone within the last
	// steps: ZooKeeper drops a closed connection's watches when it notices
	// the close, at a moment the test does not see.
	ghosts []rawGhost
	// multiOps are the ops of the multi being answered, for render.
	multiOps []jute.MultiOp
	// sortEvents sorts each call's events: set for a step that closes a
	// session (see rawStep.closes).
	sortEvents bool
}

type rawGhost struct {
	w     rawWatchModel
	until int
}

func (x *rawSys) ghost(w rawWatchModel) {
	x.ghosts = append(x.ghosts, rawGhost{w: w, until: x.step + 5})
}

// checkMasked says why a checkWatches reply is left out of the comparison
// ("" when it is compared). ZooKeeper 3.8's WatchManager.containsWatcher
// answers for the path whoever watches it: checkWatches succeeds on a path
// another connection watches in the same table (its data table holds data,
// exist and persistent watches; its child table child and persistent
// ones). zk answers for the connection's own watches, as ZooKeeper 3.9
// does. And 3.8 knows no watcher types 4 and 5 (persistent, persistent
// recursive: 3.9's): it fails them with MARSHALLINGERROR, where zk checks
// them as 3.9 does. Both are ZooKeeper bugs zk does not copy.
func (x *rawSys) checkMasked(i int, op int32, p string, typ int32) string {
	if op != jute.OpCheckWatches {
		return ""
	}
	if typ == 4 || typ == 5 {
		return "watcher type 3.9's"
	}
	has := func(w rawWatchModel, own bool) bool {
		data := w.data[p] || w.exist[p]
		child := w.child[p]
		if !own {
			data = data || w.persistent[p] || w.recursive[p]
			child = child || w.persistent[p] || w.recursive[p]
		}
		switch typ {
		case 1:
			return child
		case 2:
			return data
		}
		return data || child || w.persistent[p] || w.recursive[p]
	}
	if has(x.sess[i].w, true) {
		return ""
	}
	for j, s := range x.sess {
		if j != i && has(s.w, false) {
			return "another connection watches it"
		}
	}
	for _, g := range x.ghosts {
		if g.until >= x.step && has(g.w, false) {
			return "a closed connection watched it"
		}
	}
	return ""
}

// refusedEarly reports whether a reply is a write's refusal that
// ZooKeeper logs as an error txn (taking a zxid) and zk refuses before it
// submits the write (taking none): a bad path, TTL or mode (BADARGUMENTS),
// alone or as an op of a multi, or a multi ZooKeeper cannot take apart (a
// read among its ops: MARSHALLINGERROR). (A bad ACL, an empty one too,
// takes a zxid on both: zk refuses it where ZooKeeper's fixupACL does.)
// ZooKeeper also logs a txn for an empty multi and for a check outside a
// multi, which zk answers without one. Deliberate differences (README,
// "ZooKeeper's clients"): zk's engine checks these before it submits a
// write (RemoteSession.StartCreate's checkCreate, StartMulti's checkOp),
// and submits no write that changes nothing. The test masks them by
// leaving that zxid out of the normalization (zk's replies never take one
// here, so only ZooKeeper's are masked).
func refusedEarly(op int32, h jute.ReplyHeader, resp jute.Record) bool {
	early := func(code int32) bool { return code == -8 }
	switch op {
	case jute.OpCheck:
		return true
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL, jute.OpDelete, jute.OpSetData, jute.OpSetACL:
		return early(h.Err)
	case jute.OpMulti:
		if mr, ok := resp.(*jute.MultiResponse); ok && len(mr.Results) == 0 {
			return true
		}
		if mr, ok := resp.(*jute.MultiResponse); ok {
			for _, res := range mr.Results {
				if res.Type == jute.OpError && early(res.Err) {
					return true
				}
			}
		}
		return early(h.Err) || h.Err == -5
	}
	return false
}

// newRawSys opens the test's sessions on a server, or, in an ensemble,
// session i on server i modulo the servers.
func newRawSys(t *testing.T, name string, addrs ...string) *rawSys {
	x := &rawSys{t: t, name: name, addrs: addrs, names: map[int64]string{}}
	for i := range x.sess {
		x.sess[i] = &rawSess{srv: i % len(addrs)}
		x.open(i)
	}
	return x
}

// ensemble reports whether the system has more than one server.
func (x *rawSys) ensemble() bool { return len(x.addrs) > 1 }

// open starts a new session in slot i.
func (x *rawSys) open(i int) string {
	s := x.sess[i]
	s.r = rawDial(x.t, x.addrs[s.srv])
	resp := s.r.connect(jute.ConnectRequest{TimeOut: 10000})
	s.id, s.passwd, s.zxid, s.connected, s.w = resp.SessionID, resp.Passwd, 0, true, newRawWatchModel()
	x.names[s.id] = fmt.Sprintf("s%d", len(x.names)+1)
	return fmt.Sprintf("%s timeout=%d passwd=%d ro=%v", x.names[s.id], resp.TimeOut, len(resp.Passwd), resp.ReadOnly)
}

// zx normalizes a zxid: its counter relative to the test's first zxid (the
// two systems start at different epochs and counters), as diff_test.go's.
func (x *rawSys) zx(z int64) string {
	if z <= 0 {
		return fmt.Sprint(z)
	}
	c := z & 0xffffffff
	n := int64(0)
	for _, s := range x.skipped {
		if s <= c {
			n++
		}
	}
	return fmt.Sprint(c - x.base - n)
}

// stat renders a Stat without its times, with zxids normalized and the
// ephemeral owner named.
func (x *rawSys) stat(st *jute.Stat) string {
	owner := fmt.Sprintf("%#x", st.EphemeralOwner)
	if name, ok := x.names[st.EphemeralOwner]; ok {
		owner = name
	}
	return fmt.Sprintf("{c%s m%s p%s v%d cv%d av%d own=%s len%d kids%d}", x.zx(st.Czxid), x.zx(st.Mzxid), x.zx(st.Pzxid),
		st.Version, st.Cversion, st.Aversion, owner, st.DataLength, st.NumChildren)
}

var rawEventNames = map[int32]string{1: "NodeCreated", 2: "NodeDeleted", 3: "NodeDataChanged", 4: "NodeChildrenChanged"}

func (x *rawSys) events(evs []jute.WatcherEvent) string {
	if len(evs) == 0 {
		return ""
	}
	var out []string
	for _, ev := range evs {
		name := rawEventNames[ev.Type]
		if name == "" {
			name = fmt.Sprint("type", ev.Type)
		}
		out = append(out, fmt.Sprintf("%s/%d %s", name, ev.State, ev.Path))
	}
	if x.sortEvents {
		slices.Sort(out)
	}
	return " events[" + strings.Join(out, ", ") + "]"
}

// call sends one request on session s and renders the reply (header,
// decoded body) after the events that arrived before it. The body is
// decoded as the reply to op (rop, when it differs: a failed multi's).
func (x *rawSys) call(s *rawSess, op int32, req jute.Record) (jute.ReplyHeader, jute.Record, string) {
	x.t.Helper()
	s.r.nc.SetDeadline(time.Now().Add(x.replyBudget()))
	h, body, evs := s.r.call(op, req)
	for _, ev := range evs {
		if op == jute.OpSetWatches || op == jute.OpSetWatches2 {
			s.w.firedBySetWatches(ev)
		} else {
			s.w.fired(ev)
		}
	}
	if h.Zxid > 0 {
		s.zxid = h.Zxid
	}
	var resp jute.Record
	desc := ""
	// A multiRead of writes: ZooKeeper sends an empty result list after
	// its MARSHALLINGERROR, zk a bare header; no client reads a body after
	// an error.
	if op == jute.OpMultiRead && h.Err != 0 {
		body = nil
	}
	if len(body) > 0 || h.Err == 0 {
		resp, _ = jute.NewResponse(op)
		if resp != nil {
			if err := jute.Unmarshal(body, resp); err != nil {
				desc = fmt.Sprintf(" body(%d bytes) undecodable: %v", len(body), err)
				resp = nil
			}
		} else if len(body) > 0 {
			desc = fmt.Sprintf(" body(%d bytes)", len(body))
		}
	}
	if h.Zxid > x.last {
		if refusedEarly(op, h, resp) {
			x.skipped = append(x.skipped, h.Zxid&0xffffffff)
		}
		x.last = h.Zxid
	}
	if resp != nil {
		desc = " " + x.render(resp)
	}
	if x.ensemble() && readsConfig(req) && h.Err == 0 {
		desc = " (masked: the ensemble's own configuration)"
	}
	return h, resp, x.events(evs) + fmt.Sprintf(" err=%d zxid=%s", h.Err, x.zx(h.Zxid)) + desc
}

// readsConfig reports whether a request reads /zookeeper/config. An
// ensemble's holds its own members (the two ensembles' addresses differ),
// and ZooKeeper 3.8 sets its Stat apart from every other write
// (ZKDatabase.initConfigInZKDatabase: version -1, and the configuration's
// version as mzxid), where zk's has the version and zxid of the write that
// set it (README, deliberate).
func readsConfig(req jute.Record) bool {
	switch r := req.(type) {
	case *jute.PathWatchRequest:
		return r.Path == "/zookeeper/config"
	case *jute.PathRequest:
		return r.Path == "/zookeeper/config"
	case *jute.MultiRequest:
		for _, op := range r.Ops {
			if op.Path == "/zookeeper/config" {
				return true
			}
		}
	}
	return false
}

// render describes a decoded reply body. Children and ephemeral lists are
// sorted: ZooKeeper lists them in its hash sets' order, which no client
// may rely on (zk lists children in name order).
func (x *rawSys) render(r jute.Record) string {
	switch r := r.(type) {
	case *jute.PathRequest:
		return r.Path
	case *jute.Create2Response:
		return r.Path + " " + x.stat(&r.Stat)
	case *jute.StatResponse:
		return x.stat(&r.Stat)
	case *jute.GetDataResponse:
		return fmt.Sprintf("%q(nil=%v) %s", r.Data, r.Data == nil, x.stat(&r.Stat))
	case *jute.StringsResponse:
		s := slices.Clone(r.Strings)
		slices.Sort(s)
		return fmt.Sprintf("%q(nil=%v)", s, r.Strings == nil)
	case *jute.GetChildren2Response:
		s := slices.Clone(r.Children)
		slices.Sort(s)
		return fmt.Sprintf("%q %s", s, x.stat(&r.Stat))
	case *jute.GetACLResponse:
		return fmt.Sprintf("%v %s", r.ACL, x.stat(&r.Stat))
	case *jute.IntResponse:
		return fmt.Sprint(r.N)
	case *jute.ErrorResponse:
		return fmt.Sprintf("err %d", r.Err)
	case *jute.WhoAmIResponse:
		// ZooKeeper lists a connection's identities in its hash set's
		// order (ServerCnxn.authInfo), zk in the order they came.
		s := make([]string, len(r.ClientInfo))
		for i, ci := range r.ClientInfo {
			s[i] = fmt.Sprint(ci)
		}
		slices.Sort(s)
		return fmt.Sprint(s)
	case *jute.MultiResponse:
		var parts []string
		for j, res := range r.Results {
			p := fmt.Sprintf("type %d", res.Type)
			switch res.Type {
			case jute.OpError:
				p = fmt.Sprintf("error %d", res.Err)
			case jute.OpCreate:
				p += " " + res.Path
			case jute.OpCreate2:
				p += " " + res.Path + " " + x.stat(&res.Stat)
				if x.multiOps != nil && j < len(x.multiOps) && x.multiOps[j].Type == jute.OpCreate2 {
					// ZooKeeper 3.8.0 answers a create2 in a multi as a
					// create, without the Stat (ZOOKEEPER-4026, fixed in
					// 3.8.2); zk answers it as 3.8.2 does. Compared as a
					// create.
					p = fmt.Sprintf("type %d %s", jute.OpCreate, res.Path)
				}
			case jute.OpSetData:
				p += " " + x.stat(&res.Stat)
			case jute.OpGetData:
				p += fmt.Sprintf(" %q %s", res.Data, x.stat(&res.Stat))
			case jute.OpGetChildren:
				s := slices.Clone(res.Children)
				slices.Sort(s)
				p += fmt.Sprintf(" %q", s)
			}
			parts = append(parts, p)
		}
		return "[" + strings.Join(parts, " | ") + "]"
	}
	return fmt.Sprintf("%T", r)
}

// barrier syncs every connected session in turn: ZooKeeper sends a
// session's events before the reply to any request it processes later, so
// each sync's reply follows the events the step caused on that connection.
func (x *rawSys) barrier() string {
	if x.ensemble() {
		return x.settle()
	}
	var out []string
	for i, s := range x.sess {
		if !s.connected {
			continue
		}
		_, _, got := x.call(s, jute.OpSync, &jute.PathRequest{Path: "/"})
		out = append(out, fmt.Sprintf("sync#%d:%s", i+1, got))
	}
	return strings.Join(out, "; ")
}

// TestDifferentialRawRealZooKeeper runs the same seeded random steps over
// raw connections against a real ZooKeeper 3.8 and against a zk peer and
// compares every step's transcript.
func TestDifferentialRawRealZooKeeper(t *testing.T) {
	real := newRawSys(t, "zookeeper", startRealZKsNoTimers(t, 1)...)
	ours := newRawSys(t, "zk", startPeer(t, peerConfig()).ClientAddr())
	runRawDiff(t, real, ours, false)
}

// startRealZKsNoTimers starts n ZooKeeper servers whose container and TTL
// checks run an hour apart. TTL nodes and empty containers are deleted by
// a timer in both systems, at moments no step can predict: ZooKeeper's
// first check would come a minute in, within a long run; zk's clock is
// manual in these tests, or its checks an hour apart too.
func startRealZKsNoTimers(t *testing.T, n int) []string {
	old := *zkJVMFlags
	*zkJVMFlags = strings.TrimSpace(old + " -Dznode.container.checkIntervalMs=3600000")
	defer func() { *zkJVMFlags = old }()
	return startRealZKs(t, n)
}

// runRawDiff runs -wire.diffrawsteps seeded steps on both systems and
// fails at the first step whose transcripts differ. A barrier (a sync on
// every session) ends seven steps in ten, and every step when always is
// set: in an ensemble only a sync makes a session's server catch up with
// a write made through another.
func runRawDiff(t *testing.T, real, ours *rawSys, always bool) {
	rawBase(real, ours)
	rng := rand.New(rand.NewPCG(*diffRawSeed, 11))
	start := time.Now()
	current := ""
	t.Cleanup(func() {
		if t.Failed() && current != "" {
			t.Logf("seed %d: the test failed in %s", *diffRawSeed, current)
		}
	})
	for step := 0; step < *diffRawSteps; step++ {
		st := genRawStep(rng, real)
		current = fmt.Sprintf("step %d: %s", step, st.desc)
		real.step, ours.step = step, step
		barrier := rng.IntN(10) < 7 || st.closes || always
		var outs [2]string
		for j, x := range []*rawSys{real, ours} {
			x.sortEvents = st.closes
			began := time.Now()
			outs[j] = st.run(x, x.sess[st.sess])
			if took := time.Since(began); j == 0 && real.ensemble() && took > slowReference {
				t.Fatalf("seed %d step %d: ZooKeeper took %v to answer %s, past the sessions' idle budget: the ZooKeeper ensemble stalled (see TestDifferentialRawEnsemble); the steps before it matched", *diffRawSeed, step, took.Round(time.Millisecond), st.desc)
			}
			if barrier {
				outs[j] += "\n    barrier: " + x.barrier()
			}
			x.sortEvents = false
		}
		if *diffRawTrace {
			t.Logf("step %d (at %v): %s\n  zookeeper: %s\n  zk:        %s", step, time.Since(start).Round(time.Millisecond), st.desc, outs[0], outs[1])
		}
		if outs[0] != outs[1] {
			t.Fatalf("seed %d step %d: %s\nzookeeper: %s\nzk:        %s", *diffRawSeed, step, st.desc, outs[0], outs[1])
		}
	}
	// The events still in flight: a last barrier on every session.
	for _, x := range []*rawSys{real, ours} {
		for _, s := range x.sess {
			if !s.connected {
				s.r.nc.Close()
			}
		}
	}
	a, b := real.barrier(), ours.barrier()
	if a != b {
		t.Fatalf("seed %d, final barrier:\nzookeeper: %s\nzk:        %s", *diffRawSeed, a, b)
	}
	t.Logf("seed %d: %d steps in %v", *diffRawSeed, *diffRawSteps, time.Since(start).Round(time.Millisecond))
}

// rawBase creates /d on each system, whose zxid the systems' normalized
// zxids count from.
func rawBase(systems ...*rawSys) {
	for _, x := range systems {
		s := x.sess[0]
		s.r.ok(jute.OpCreate, &jute.CreateRequest{Path: "/d", ACL: openACL}, nil)
		var st jute.StatResponse
		s.r.ok(jute.OpExists, &jute.PathWatchRequest{Path: "/d"}, &st)
		x.base = st.Stat.Czxid & 0xffffffff
		x.last = st.Stat.Czxid
	}
}
