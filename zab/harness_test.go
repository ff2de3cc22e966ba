package zab

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// harness drives an ensemble of Nodes by hand: messages wait in per-link FIFO
// queues until the test delivers them, ticks happen when the test says, and
// each Ready is executed like the lead's driver does (optionally crashing
// midway). It checks the safety properties on every step.
type harness struct {
	t         testing.TB
	seed      uint64
	rng       *rand.Rand
	voters    []int64
	observers []int64
	tweak     func(*Config)
	peers     map[int64]*hpeer
	links     map[[2]int64]*hlink // {from, to}
	tick      int64
	history   []Entry         // the committed sequence, by position, as applied anywhere
	leaders   map[int64]int64 // epoch -> its established leader
	chunk     int             // snapshot chunk size
	paced     bool            // stream snapshots one chunk per SNAPACK, as the real driver paces them
	lossySM   bool            // a crash may lose a suffix of the state machine
	verbose   bool            // trace every delivered message
	stats     map[string]int
	record    bool           // keep every delivered message in delivered
	midReady  func(p *hpeer) // called after a Ready ran, before its Advance
	delivered []delivered
	trace     []string
	maxTrace  int
	extra     map[int64]Membership // peers added later (reconfig_harness_test.go), with their starting membership
	joining   map[int64]bool       // peers restarted as joiners: their starting membership again (Config.Joining)
}

type hpeer struct {
	id      int64
	node    *Node // nil while crashed
	disk    *memDisk
	status  Status
	synced  []SyncResult
	apps    []AppMessage
	snaps   int                  // snapshots streamed by this peer
	streams map[int64][]*Message // paced snapshot streams: the chunks not sent yet, by peer
	acks    []SnapAck            // every SnapAck handed to this peer's driver
	syncs   []SyncStart          // every SyncStart reported to this peer's driver
	readies int
}

// hlink is the directed queue from one peer to another. A connection is up
// or down; Down and Up are delivered in order with the messages.
type hlink struct {
	up      bool
	blocked bool // partitioned: no connection can form
	silent  bool // messages vanish and nobody notices (until heal)
	q       []hitem
}

type hitem struct {
	kind int // 0 message, 1 link up, 2 link down
	b    []byte
}

func newHarness(t testing.TB, seed uint64, voters, observers []int64, tweak func(*Config)) *harness {
	h := &harness{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 0x5eed)), voters: voters, observers: observers,
		tweak: tweak, peers: map[int64]*hpeer{}, links: map[[2]int64]*hlink{}, leaders: map[int64]int64{},
		chunk: 64, maxTrace: 3000, stats: map[string]int{}}
	for _, id := range h.ids() {
		h.peers[id] = &hpeer{id: id, disk: &memDisk{}}
		for _, o := range h.ids() {
			if o != id {
				h.links[[2]int64{id, o}] = &hlink{}
			}
		}
	}
	for _, id := range h.ids() {
		h.start(id)
	}
	return h
}

func (h *harness) ids() []int64 {
	ids := slices.Concat(h.voters, h.observers)
	for id := range h.extra {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (h *harness) config(id int64) Config {
	c := Config{ID: id, Voters: h.voters, Observers: h.observers, InitLimit: 10, SyncLimit: 5,
		HeartbeatInterval: 1, ElectionResend: 2, MaxMsgBytes: 256,
		Rand: rand.New(rand.NewPCG(h.seed, uint64(id))), Logger: slog.New(traceHandler{h: h})}
	if h.tweak != nil {
		h.tweak(&c)
	}
	h.membershipOnDisk(id, &c)
	return c
}

func (h *harness) fatalf(format string, a ...any) {
	h.t.Helper()
	tail := h.trace
	if keep := 60; len(tail) > keep && !h.verbose {
		tail = tail[len(tail)-keep:]
	}
	h.t.Fatalf("seed %d tick %d: %s\n%s\nlast events:\n%s", h.seed, h.tick, fmt.Sprintf(format, a...), h, strings.Join(tail, "\n"))
}

func (h *harness) logf(format string, a ...any) {
	h.trace = append(h.trace, fmt.Sprintf("t%d ", h.tick)+fmt.Sprintf(format, a...))
	if len(h.trace) > 2*h.maxTrace {
		h.trace = slices.Clone(h.trace[len(h.trace)-h.maxTrace:])
	}
}

func (h *harness) String() string {
	var b strings.Builder
	for _, id := range h.ids() {
		p := h.peers[id]
		if p.node == nil {
			fmt.Fprintf(&b, "  %d: down, disk last %#x base %#x state %+v applied %#x\n", id, p.disk.last(), p.disk.base, p.disk.state, p.disk.smZxid())
			continue
		}
		st := p.node.Status()
		fmt.Fprintf(&b, "  %d: %v leader %d epoch %d serving %v last %#x committed %#x applied %#x synced %v\n",
			id, st.Role, st.Leader, st.Epoch, st.Serving, st.LastZxid, st.Committed, p.disk.smZxid(), st.Synced)
	}
	fmt.Fprintf(&b, "  history: %d entries", len(h.history))
	return b.String()
}

// start creates peer id's Node from what its disk holds and connects it.
func (h *harness) start(id int64) {
	p := h.peers[id]
	n, err := NewNode(h.config(id), memLog{p.disk}, p.disk.durable())
	if err != nil {
		h.fatalf("NewNode(%d): %v", id, err)
	}
	p.node = n
	p.status = Status{}
	h.logf("%d starts: last %#x state %+v applied %#x", id, p.disk.last(), p.disk.state, p.disk.smZxid())
	for _, o := range h.ids() {
		if o == id {
			continue
		}
		ab, ba := h.links[[2]int64{id, o}], h.links[[2]int64{o, id}]
		if ab.silent {
			// A connection that died unnoticed is found broken now.
			ab.silent, ba.silent, ab.blocked, ba.blocked = false, false, false, false
			h.disconnect(id, o, 0)
		}
		if h.peers[o].node != nil {
			h.connect(id, o)
		}
	}
	h.process(id)
}

// stopSilently stops peer id like a frozen process or a pulled cable: the
// others learn nothing until it comes back.
func (h *harness) stopSilently(id int64) {
	h.isolateSilently(id)
	h.peers[id].node = nil
	h.logf("%d stops silently", id)
}

// connect brings up the connection between a and b unless it is up or blocked.
func (h *harness) connect(a, b int64) {
	ab, ba := h.links[[2]int64{a, b}], h.links[[2]int64{b, a}]
	if ab.up || ab.blocked || h.peers[a].node == nil || h.peers[b].node == nil {
		return
	}
	ab.up, ba.up = true, true
	ab.q = append(ab.q, hitem{kind: 1})
	ba.q = append(ba.q, hitem{kind: 1})
}

// disconnect breaks the connection between a and b: what is in flight is
// lost (keep is how many of the queued items of each direction survive)
// and both sides learn it.
func (h *harness) disconnect(a, b int64, keep int) {
	ab, ba := h.links[[2]int64{a, b}], h.links[[2]int64{b, a}]
	if !ab.up {
		return
	}
	ab.up, ba.up = false, false
	for _, l := range []*hlink{ab, ba} {
		l.q = append(l.q[:min(keep, len(l.q))], hitem{kind: 2})
	}
}

// partition splits the peers into groups; peers in different groups cannot
// connect. Links between groups break now.
func (h *harness) partition(groups ...[]int64) {
	group := map[int64]int{}
	for i, g := range groups {
		for _, id := range g {
			group[id] = i + 1
		}
	}
	for k, l := range h.links {
		l.blocked = group[k[0]] != group[k[1]]
		if l.blocked {
			h.disconnect(k[0], k[1], 0)
		}
	}
	h.logf("partition %v", groups)
}

// heal removes every partition and reconnects every live pair. A silently
// cut connection is reported broken first.
func (h *harness) heal() {
	for k, l := range h.links {
		if l.silent {
			l.silent = false
			h.disconnect(k[0], k[1], 0)
		}
		l.blocked = false
	}
	for _, a := range h.ids() {
		for _, b := range h.ids() {
			if a < b {
				h.connect(a, b)
			}
		}
	}
	h.logf("heal")
}

// crash stops peer id: its connections break and it forgets everything it
// had not persisted.
func (h *harness) crash(id int64) {
	p := h.peers[id]
	if p.node == nil {
		return
	}
	p.node = nil
	for _, o := range h.ids() {
		if o != id {
			h.disconnect(id, o, 0)
			h.links[[2]int64{o, id}].q = nil
		}
	}
	if h.lossySM && len(p.disk.sm) > 0 {
		// The state machine's own syncs may lag: it may lose a suffix that
		// the log still has (never below the log's base).
		floor := sort0(p.disk.sm, p.disk.base)
		p.disk.sm = p.disk.sm[:floor+h.rng.IntN(len(p.disk.sm)-floor+1)]
	}
	h.logf("%d crashes", id)
}

// sort0 returns how many entries of sm are at or below z.
func sort0(sm []Entry, z int64) int {
	i := 0
	for i < len(sm) && sm[i].Zxid <= z {
		i++
	}
	return i
}

func (h *harness) restart(id int64) {
	if h.peers[id].node == nil {
		h.start(id)
	}
}

// send puts an encoded message on the link, if it is up.
func (h *harness) send(from int64, env Envelope) {
	if env.To == from {
		h.fatalf("%d sends %v to itself", from, env.Msg.Type)
	}
	b, err := EncodeMessage(env.Msg)
	if err != nil {
		h.fatalf("%d encodes %v: %v", from, env.Msg.Type, err)
	}
	if l := h.links[[2]int64{from, env.To}]; l.up && !l.silent {
		l.q = append(l.q, hitem{b: b})
	}
}

type delivered struct {
	from, to int64
	m        *Message
}

// count returns how many messages of type t were delivered from -> to (0:
// any peer).
func (h *harness) count(t MsgType, from, to int64) int {
	n := 0
	for _, d := range h.delivered {
		if d.m.Type == t && (from == 0 || d.from == from) && (to == 0 || d.to == to) {
			n++
		}
	}
	return n
}

// isolateSilently cuts peer id off: every message to or from it vanishes,
// and no side learns it (a connection that died without a reset).
func (h *harness) isolateSilently(id int64) {
	for k, l := range h.links {
		if k[0] == id || k[1] == id {
			l.silent = true
			l.blocked = true
			var keep []hitem
			for _, it := range l.q {
				if it.kind != 0 {
					keep = append(keep, it)
				}
			}
			l.q = keep
		}
	}
	h.logf("%d isolated silently", id)
}

func newHarnessRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

func containsWord(s, w string) bool { return strings.Contains(s, w) }
