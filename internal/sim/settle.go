package sim

import (
	"bytes"
	"runtime"
	"strconv"
	"time"
)

// Client calls are blocking calls on their own goroutines. To keep a run
// deterministic the simulation must know, after each of its actions, which
// calls that action lets finish: it waits until every outstanding call has
// either returned or is parked where only the simulation can wake it — on
// its request's reply (which only a peer's Barrier or Tick sends) or on the
// peer applying a zxid (idem). Peers do nothing between the simulation's
// calls (hooks.Stepped), so a call parked there stays parked until the
// simulation acts again. Parked calls are recognized from the goroutine
// dump: a goroutine blocked in a select (or channel receive) with one of
// these engine functions on its stack. A goroutine that was just woken shows as
// runnable, never as blocked, so it is waited for. A Sync+Get also waits
// between its halves until settle gives it its turn (turn.go), one call at
// a time, once everything else is parked.

// parkFrames are the frames of the waits only a peer (or a cancelled
// context) ends.
var parkFrames = [][]byte{
	[]byte("github.com/embedzk/zk/internal/engine.(*request).wait("),
	[]byte("github.com/embedzk/zk/internal/engine.(*appliedMark).wait("),
}

// goid returns the calling goroutine's id.
func goid() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b := bytes.TrimPrefix(buf[:n], []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		id, err := strconv.ParseInt(string(b[:i]), 10, 64)
		if err == nil {
			return id
		}
	}
	panic("sim: cannot read the goroutine id")
}

// stackDumper keeps its buffer between dumps.
type stackDumper struct{ buf []byte }

// parked returns the ids of goroutines among want parked in a peer wait.
func (d *stackDumper) parked(want map[int64]bool) map[int64]bool {
	if len(d.buf) == 0 {
		d.buf = make([]byte, 1<<20)
	}
	var n int
	for {
		n = runtime.Stack(d.buf, true)
		if n < len(d.buf) {
			break
		}
		d.buf = make([]byte, 2*len(d.buf))
	}
	out := map[int64]bool{}
	for _, g := range bytes.Split(d.buf[:n], []byte("\n\n")) {
		id, state, ok := header(g)
		if !ok || !want[id] {
			continue
		}
		if !bytes.HasPrefix(state, []byte("select")) && !bytes.HasPrefix(state, []byte("chan receive")) {
			continue
		}
		for _, f := range parkFrames {
			if bytes.Contains(g, f) {
				out[id] = true
				break
			}
		}
	}
	return out
}

// header parses "goroutine 12 [select, 2 minutes]:".
func header(g []byte) (id int64, state []byte, ok bool) {
	g = bytes.TrimLeft(g, "\n")
	if !bytes.HasPrefix(g, []byte("goroutine ")) {
		return 0, nil, false
	}
	g = g[len("goroutine "):]
	sp := bytes.IndexByte(g, ' ')
	open := bytes.IndexByte(g, '[')
	end := bytes.IndexByte(g, ']')
	if sp < 0 || open < 0 || end < open {
		return 0, nil, false
	}
	id, err := strconv.ParseInt(string(g[:sp]), 10, 64)
	if err != nil {
		return 0, nil, false
	}
	return id, g[open+1 : end], true
}

// settleTimeout bounds the real time a call may take to park or return
// once it can; beyond it the run fails (a call stuck elsewhere is a bug).
const settleTimeout = 60 * time.Second

// settle waits until every op of ops has returned or is parked, and
// reports the ones still running after settleTimeout. A call that waits
// for its turn (turn.go) counts as parked without a look at the stacks;
// once everything is parked, settle gives the first such call its turn and
// waits again.
func (w *World) settle() []*opRecord {
	var start time.Time
	for iter := 0; ; iter++ {
		var running []*opRecord
		for _, op := range w.outstanding {
			if !op.finished() && !op.waitingTurn() {
				running = append(running, op)
			}
		}
		all := len(running) == 0
		if !all && iter%32 != 31 {
			runtime.Gosched()
			continue
		}
		if !all {
			all = w.allParked(running)
		}
		if all && w.giveNextTurn() {
			start = time.Time{}
			continue // wait for it to return or park
		}
		if all {
			w.reap()
			w.failOutOfTurn()
			return nil
		}
		if start.IsZero() {
			start = time.Now()
		} else if time.Since(start) > settleTimeout {
			return running
		}
		runtime.Gosched()
	}
}

// allParked reports whether every op of running has returned or is parked
// in a peer wait (from a goroutine dump).
func (w *World) allParked(running []*opRecord) bool {
	want := map[int64]bool{}
	for _, op := range running {
		want[op.gid] = true
	}
	parked := w.dumper.parked(want)
	for _, op := range running {
		if !parked[op.gid] && !op.finished() {
			return false
		}
	}
	return true
}
