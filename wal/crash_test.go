package wal

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

var crashSeeds = flag.Int("wal.crashseeds", 0, "seeds for TestCrash (0: the default, small campaign)")

// crashPercents are the UnsyncedDataPercent values every crash point is
// cloned with.
var crashPercents = []int{0, 50, 100}

// crashPoint is a crash image taken just before one file-system operation.
type crashPoint struct {
	fs      *vfs.MemFS
	percent int
	n       int // index of the operation
	fsop    errorfs.Op
	walOp   string
}

// crasher is an errorfs injector that never injects: before each mutating
// operation it may take crash images of the MemFS.
type crasher struct {
	mu      sync.Mutex
	mem     *vfs.MemFS
	seed    uint64
	rng     *rand.Rand
	p       float64 // probability of a crash point before an operation
	n       int
	walOp   string
	points  []crashPoint
	onCrash func() // called under mu when a point is taken
}

func (c *crasher) String() string { return "crasher" }

func (c *crasher) MaybeError(op errorfs.Op) error {
	if op.Kind.ReadOrWrite() != errorfs.OpIsWrite {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if c.rng.Float64() >= c.p {
		return nil
	}
	for _, pct := range crashPercents {
		cfg := vfs.CrashCloneCfg{UnsyncedDataPercent: pct}
		if pct > 0 {
			cfg.RNG = rand.New(rand.NewPCG(c.seed, uint64(c.n*1000+pct)))
		}
		c.points = append(c.points, crashPoint{fs: c.mem.CrashClone(cfg), percent: pct, n: c.n, fsop: op, walOp: c.walOp})
	}
	if c.onCrash != nil {
		c.onCrash()
	}
	return nil
}

// take returns and forgets the points taken so far.
func (c *crasher) take(walOp string) []crashPoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	pts := c.points
	c.points = nil
	c.walOp = walOp
	return pts
}

// countHandler is a slog.Handler that records messages and attributes.
type countHandler struct {
	mu   sync.Mutex
	msgs []string
}

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *countHandler) WithGroup(string) slog.Handler            { return h }
func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	h.msgs = append(h.msgs, b.String())
	h.mu.Unlock()
	return nil
}

func (h *countHandler) has(sub string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.ContainsFunc(h.msgs, func(m string) bool { return strings.Contains(m, sub) })
}

// model is what the log must hold.
type model struct {
	base  int64
	ents  []Entry // replaced, never changed in place
	state State
	snaps map[int64][]byte
}

func (m model) clone() model {
	m.snaps = maps.Clone(m.snaps)
	return m
}

func (m model) last() int64 {
	if len(m.ents) > 0 {
		return m.ents[len(m.ents)-1].Zxid
	}
	return m.base
}

// walOp is one step of the workload and what a crash during it may leave.
type walOp struct {
	name string
	run  func(l *Log) (*Log, error) // may replace the Log (restart)
	// want is the model after the step succeeded (l is the Log then), or
	// an upper bound of it if the step failed (l == nil).
	want func(before model, l *Log) model
	// logOK checks the recovered log against the model before the step.
	logOK func(before, after model, base int64, got []Entry) string
}

// crashRun is one seeded workload with crash points.
type crashRun struct {
	t        *testing.T
	seed     uint64
	rng      *rand.Rand
	c        *crasher
	opts     Options
	m        model
	coverage map[string]int
}

func TestCrash(t *testing.T) {
	seeds := 24
	p := 0.05
	if testing.Short() {
		seeds = 6
	}
	if *crashSeeds > 0 {
		seeds = *crashSeeds
	}
	coverage := map[string]int{}
	for seed := range uint64(seeds) {
		r := newCrashRun(t, seed, p, coverage)
		r.run(60)
	}
	t.Logf("recoveries that cut a torn tail: %d, that dropped a torn header: %d",
		coverage["recovered a torn tail"], coverage["recovered a torn header"])
	// The campaign must have crashed inside every delicate step.
	for _, k := range []string{
		"append create log.", "append write log.", "append sync log.", "append sync dir",
		"truncate remove log.", "truncate rename log.", "truncate write log.",
		"reset create log.", "reset remove log.", "reset sync dir",
		"purge remove log.",
		"snapshot write snapshot.", "snapshot rename snapshot.", "snapshot remove snapshot.",
		"state rename state.",
		"recovered a torn tail", "recovered a torn header",
	} {
		if coverage[k] == 0 {
			t.Errorf("no crash point in %q; coverage: %v", k, coverage)
		}
	}
}

// TestCrashExhaustive crashes before every single file-system operation of
// one workload.
func TestCrashExhaustive(t *testing.T) {
	r := newCrashRun(t, 1000, 1, map[string]int{})
	r.run(25)
}

func newCrashRun(t *testing.T, seed uint64, p float64, coverage map[string]int) *crashRun {
	mem := vfs.NewCrashableMem()
	c := &crasher{mem: mem, seed: seed, rng: rand.New(rand.NewPCG(seed, 7)), p: p}
	o := Options{FS: errorfs.Wrap(mem, c), Dir: "/d/log", SnapDir: "/d/snap", SegmentSize: 8 << 10}
	if seed%2 == 1 {
		o.SnapDir = o.Dir
	}
	return &crashRun{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 8)), c: c, opts: o,
		m: model{snaps: map[int64][]byte{}}, coverage: coverage}
}

func (r *crashRun) run(steps int) {
	t := r.t
	r.c.take("open")
	l, err := Open(r.opts)
	if err != nil {
		t.Fatalf("seed %d: Open: %v", r.seed, err)
	}
	r.verifyAll(r.c.take(""), restartOp(r.opts), r.m, r.m)
	for step := range steps {
		op := r.nextOp()
		r.c.take(op.name)
		before := r.m.clone()
		nl, err := op.run(l)
		if err != nil {
			t.Fatalf("seed %d step %d %s: %v", r.seed, step, op.name, err)
		}
		l = nl
		r.m = op.want(before, l)
		r.verifyAll(r.c.take(""), op, before, r.m)
	}
	l.Close()
}

// verifyAll checks every crash point taken during op.
func (r *crashRun) verifyAll(points []crashPoint, op walOp, before, after model) {
	for _, pt := range points {
		r.coverage[coverageKey(pt)]++
		r.verify(pt, op, before, after, r.rng.IntN(10) == 0)
	}
}

func coverageKey(pt crashPoint) string {
	kind := map[errorfs.OpKind]string{
		errorfs.OpCreate: "create", errorfs.OpRemove: "remove", errorfs.OpRename: "rename",
		errorfs.OpFileWrite: "write", errorfs.OpFileWriteAt: "write", errorfs.OpFileSync: "sync",
	}[pt.fsop.Kind]
	name := pt.fsop.Path[strings.LastIndexByte(pt.fsop.Path, '/')+1:]
	if i := strings.IndexByte(name, '.'); i >= 0 {
		name = name[:i+1]
	}
	if pt.fsop.Kind == errorfs.OpFileSync && (strings.HasSuffix(pt.fsop.Path, "/log") || strings.HasSuffix(pt.fsop.Path, "/snap")) {
		name = "dir"
	}
	return pt.walOp + " " + kind + " " + name
}

// verify opens a crash image and checks it against the model.
func (r *crashRun) verify(pt crashPoint, op walOp, before, after model, crashRecovery bool) {
	t := r.t
	where := fmt.Sprintf("seed %d, crash before fs op %d (%v %s) during %s, unsynced %d%%",
		r.seed, pt.n, pt.fsop.Kind, pt.fsop.Path, op.name, pt.percent)
	o := r.opts
	o.FS = pt.fs
	events := &countHandler{}
	o.Logger = slog.New(events)
	var rc *crasher
	if crashRecovery {
		// Crash the recovery itself at a random point: it must leave the
		// same log.
		rc = &crasher{mem: pt.fs, seed: r.seed, rng: rand.New(rand.NewPCG(r.seed, uint64(pt.n))), p: 1, walOp: "recovery"}
		o.FS = errorfs.Wrap(pt.fs, rc)
	}
	l, err := Open(o)
	if err != nil {
		t.Fatalf("%s: Open: %v", where, err)
	}
	got := readAll(t, l)
	base := l.Base()
	if events.has("torn tail") {
		r.coverage["recovered a torn tail"]++
	}
	if events.has("incomplete header") {
		r.coverage["recovered a torn header"]++
	}
	if msg := op.logOK(before, after, base, got); msg != "" {
		t.Fatalf("%s: log (base %#x, %v): %s", where, base, zxidsOf(got), msg)
	}
	if st := l.State(); st != before.state && st != after.state {
		t.Fatalf("%s: state %+v, want %+v or %+v", where, st, before.state, after.state)
	}
	r.checkSnaps(where, l, before, after)
	if rc != nil {
		for _, p2 := range rc.take("") {
			r.coverage[coverageKey(p2)]++
			o2 := r.opts
			o2.FS = p2.fs
			l2, err := Open(o2)
			if err != nil {
				t.Fatalf("%s, then crash in recovery before fs op %d (%v %s): Open: %v", where, p2.n, p2.fsop.Kind, p2.fsop.Path, err)
			}
			if d := diffEntries(readAll(t, l2), got); d != "" || l2.Base() != base {
				t.Fatalf("%s, then crash in recovery before fs op %d: log changed: %s", where, p2.n, d)
			}
			l2.Close()
		}
	}
	// The recovered log must go on: append, reopen, and find everything.
	more := []Entry{{Zxid: l.LastZxid() + 1, Data: []byte("after")}, {Zxid: l.LastZxid() + 2, Data: make([]byte, 5000)}}
	if err := l.Append(cloneEntries(more)); err != nil {
		t.Fatalf("%s: append after recovery: %v", where, err)
	}
	l.Close()
	o.FS = pt.fs
	l, err = Open(o)
	if err != nil {
		t.Fatalf("%s: reopen after recovery: %v", where, err)
	}
	if d := diffEntries(readAll(t, l), append(slices.Clone(got), more...)); d != "" {
		t.Fatalf("%s: after recovery and append: %s", where, d)
	}
	l.Close()
}

// checkSnaps: every snapshot present reads back intact; the set lies between
// what survives the step and what existed before or was added.
func (r *crashRun) checkSnaps(where string, l *Log, before, after model) {
	t := r.t
	got := l.Snapshots()
	for z := range before.snaps {
		if _, ok := after.snaps[z]; ok && !slices.Contains(got, z) {
			t.Fatalf("%s: snapshot %#x lost (have %v)", where, z, got)
		}
	}
	for _, z := range got {
		old, inBefore := before.snaps[z]
		cur, inAfter := after.snaps[z]
		if !inBefore && !inAfter {
			t.Fatalf("%s: unexpected snapshot %#x", where, z)
		}
		data, err := readSnap(l, z)
		if err != nil || !(inBefore && bytes.Equal(data, old) || inAfter && bytes.Equal(data, cur)) {
			t.Fatalf("%s: snapshot %#x: %d bytes, %v", where, z, len(data), err)
		}
	}
}
