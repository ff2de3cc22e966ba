package main

import (
	"context"
	"fmt"
	"io"
	"runtime/trace"
	"sort"
	"sync"
	"time"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/recipes"
)

// With -trace, every zk peer notes each step of a request's way
// (hooks.Hooks.Trace: the session's submit, the loop taking it, the
// forward, the proposal, each fsync, each peer message sent and received,
// the apply, the answer), the lock workloads note when Unlock is called
// and Lock returns, and after the create-1, lock-shared, lock-own, create-64
// and set-64 windows the benchmark prints, per stage, the median time it took over every write
// (or hand-off) of the window. Stages are read from the marks by zxid,
// request id and session, so concurrent requests do not mix.

// Bench-only points, noted by the lock workloads.
const (
	traceUnlockCall = "bench-unlock" // Unlock called (Session)
	traceLocked     = "bench-locked" // Lock returned (Session)
)

// traceRec is one mark with its time.
type traceRec struct {
	at time.Duration // since the recorder's base
	m  hooks.Mark
}

// recorder keeps the marks of one ensemble.
type recorder struct {
	base time.Time
	mu   sync.Mutex
	recs []traceRec
}

func newRecorder() *recorder { return &recorder{base: time.Now()} }

func (r *recorder) note(m hooks.Mark) {
	at := time.Since(r.base)
	r.mu.Lock()
	r.recs = append(r.recs, traceRec{at: at, m: m})
	r.mu.Unlock()
	if trace.IsEnabled() { // -runtimetrace: the marks show in go tool trace
		trace.Log(context.Background(), m.Point, fmt.Sprint(m.Peer, " ", m.Zxid))
	}
}

// take returns the marks so far and forgets them.
func (r *recorder) take() []traceRec {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.recs
	r.recs = nil
	return out
}

// marks indexes a window's marks by peer and point, each list in time order.
type marks struct {
	by map[string][]traceRec
}

func indexMarks(recs []traceRec) *marks {
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].at < recs[j].at })
	ix := &marks{by: map[string][]traceRec{}}
	for _, r := range recs {
		k := fmt.Sprint(r.m.Peer, "/", r.m.Point)
		ix.by[k] = append(ix.by[k], r)
	}
	return ix
}

// first returns the first mark of peer at point, at or after t, that ok
// accepts.
func (ix *marks) first(peer int64, point string, t time.Duration, ok func(hooks.Mark) bool) (time.Duration, hooks.Mark, bool) {
	l := ix.by[fmt.Sprint(peer, "/", point)]
	i := sort.Search(len(l), func(i int) bool { return l[i].at >= t })
	for ; i < len(l); i++ {
		if ok(l[i].m) {
			return l[i].at, l[i].m, true
		}
	}
	return 0, hooks.Mark{}, false
}

func zxidAtLeast(z int64) func(hooks.Mark) bool {
	return func(m hooks.Mark) bool { return m.Zxid >= z }
}

func reqIs(id uint64) func(hooks.Mark) bool {
	return func(m hooks.Mark) bool { return m.Req == id }
}

func sessionIs(id int64) func(hooks.Mark) bool {
	return func(m hooks.Mark) bool { return m.Session == id }
}

// stages collects, per named stage, the durations seen.
type stages struct {
	order []string
	vals  map[string][]time.Duration
}

func newStages() *stages { return &stages{vals: map[string][]time.Duration{}} }

func (s *stages) add(name string, d time.Duration) {
	if _, ok := s.vals[name]; !ok {
		s.order = append(s.order, name)
	}
	s.vals[name] = append(s.vals[name], d)
}

func (s *stages) print(w io.Writer, title string) {
	fmt.Fprintf(w, "\n%s\n\n| stage | median µs | p90 µs | n |\n|---|---|---|---|\n", title)
	for _, name := range s.order {
		v := s.vals[name]
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %d |\n", name, us(v[len(v)/2]), us(v[len(v)*9/10]), len(v))
	}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// path follows one write from its submit, noting each stage's duration.
type path struct {
	ix   *marks
	st   *stages
	t    time.Duration // the last milestone reached
	ok   bool
	took map[string]time.Duration
	keys []string // took's keys, in the order noted
}

func newPath(ix *marks, st *stages, t time.Duration) *path {
	return &path{ix: ix, st: st, t: t, ok: true, took: map[string]time.Duration{}}
}

func (p *path) note(name string, d time.Duration) {
	if _, ok := p.took[name]; !ok {
		p.keys = append(p.keys, name)
	}
	p.took[name] = d
}

// done adds a complete path's stages to its table.
func (p *path) done() {
	if !p.ok {
		return
	}
	for _, k := range p.keys {
		p.st.add(k, p.took[k])
	}
}

// step finds the next milestone (peer, point, ok) after the last one and
// notes the time since it as stage name.
func (p *path) step(name string, peer int64, point string, ok func(hooks.Mark) bool) hooks.Mark {
	if !p.ok {
		return hooks.Mark{}
	}
	at, m, found := p.ix.first(peer, point, p.t, ok)
	if !found {
		p.ok = false
		return hooks.Mark{}
	}
	p.note(name, at-p.t)
	p.t = at
	return m
}

// at finds a milestone off the critical path (a parallel branch), starting
// from from, without moving the path; it reports the time it was reached.
func (p *path) at(from time.Duration, peer int64, point string, ok func(hooks.Mark) bool) (time.Duration, bool) {
	at, _, found := p.ix.first(peer, point, from, ok)
	return at, found
}

// commit notes the stages of a write from submit to the commit (the
// leader's COMMIT sent), on the critical path, and the parallel branches
// (the leader's own fsync, each follower's receive, fsync and ACK)
// as offsets. It returns the write's zxid (0 if not found).
func (p *path) commit(sess int64, origin, leader int64, followers []int64) int64 {
	p.step("submit → loop takes it", origin, hooks.TraceTake, sessionIs(sess))
	tk := p.lastMark(origin, hooks.TraceTake, sessionIs(sess))
	if origin != leader {
		p.step("loop → forwarded", origin, hooks.TraceForward, reqIs(tk.Req))
		p.step("forward → leader's loop gets it", leader, hooks.TraceForwardRecv, reqIs(tk.Req))
	}
	pr := p.step("→ prepared and proposed", leader, hooks.TraceProposed, reqIs(tk.Req))
	z := pr.Zxid
	if !p.ok || z == 0 {
		p.ok = false
		return 0
	}
	if len(followers) == 0 {
		p.step("→ log fsync starts", leader, hooks.TraceFsyncStart, zxidAtLeast(z))
		p.step("log fsync (write + fsync)", leader, hooks.TraceFsyncDone, zxidAtLeast(z))
		return z
	}
	proposed := p.t
	p.step("→ PROPOSAL sent (leader)", leader, "send-PROPOSAL", zxidAtLeast(z))
	sent := p.t
	if a, ok := p.at(proposed, leader, hooks.TraceFsyncStart, zxidAtLeast(z)); ok {
		p.note("(leader) proposed → fsync starts", a-proposed)
		if b, ok := p.at(a, leader, hooks.TraceFsyncDone, zxidAtLeast(z)); ok {
			p.note("(leader) its fsync", b-a)
		}
	}
	for i, f := range followers {
		r, ok := p.at(sent, f, "recv-PROPOSAL", zxidAtLeast(z))
		if !ok {
			continue
		}
		if wr, ok := p.at(sent, leader, "wire-written", sessionIs(f)); ok && wr <= r {
			if rd, ok := p.at(wr, f, "wire-read", sessionIs(leader)); ok && rd <= r {
				n := fmt.Sprint("(follower ", i+1, ") ")
				p.note(n+"PROPOSAL sent → written to the socket", wr-sent)
				p.note(n+"written → read from the socket", rd-wr)
				p.note(n+"read → its loop gets it", r-rd)
			}
		}
		s, ok1 := p.at(r, f, hooks.TraceFsyncStart, zxidAtLeast(z))
		d, ok2 := p.at(s, f, hooks.TraceFsyncDone, zxidAtLeast(z))
		a, ok3 := p.at(d, f, "send-ACK", zxidAtLeast(z))
		if ok1 && ok2 && ok3 {
			n := fmt.Sprint("(follower ", i+1, ") ")
			p.note(n+"PROPOSAL sent → received", r-sent)
			p.note(n+"received → fsync starts", s-r)
			p.note(n+"its fsync", d-s)
			p.note(n+"fsync done → ACK sent", a-d)
		}
	}
	p.step("PROPOSAL sent → quorum's ACK received (leader)", leader, "recv-ACK", zxidAtLeast(z))
	p.step("→ COMMIT sent", leader, "send-COMMIT", zxidAtLeast(z))
	return z
}

// lastMark returns the mark the path reached last at (peer, point).
func (p *path) lastMark(peer int64, point string, ok func(hooks.Mark) bool) hooks.Mark {
	_, m, _ := p.ix.first(peer, point, p.t, ok)
	return m
}

// applied follows a committed write to its apply on peer: the COMMIT
// received (not on the leader), the apply started and done.
func (p *path) applied(peer, leader, z int64) {
	if peer != leader {
		p.step("→ COMMIT received", peer, "recv-COMMIT", zxidAtLeast(z))
	}
	p.step("→ apply starts", peer, hooks.TraceApplyStart, zxidAtLeast(z))
	p.step("apply", peer, hooks.TraceApplyDone, zxidAtLeast(z))
}

// traceWrites prints the stages of every write of one session (on peer
// origin) in the window's marks.
func traceWrites(w io.Writer, recs []traceRec, origin, leader int64, followers []int64) {
	ix := indexMarks(recs)
	st := newStages()
	followWrites(ix, st, origin, leader, followers)
	st.print(w, fmt.Sprintf("Trace: one write, session on peer %d, leader %d", origin, leader))
}

// traceAllWrites prints the stages of every write of every session (each
// peer's submits), split by whether the session is on the leader: the
// commit path under concurrent writers (lock-own, create-64, set-64).
func traceAllWrites(w io.Writer, recs []traceRec, peers []int64, leader int64, followers []int64) {
	ix := indexMarks(recs)
	for _, onLeader := range []bool{true, false} {
		st := newStages()
		for _, origin := range peers {
			if (origin == leader) == onLeader {
				followWrites(ix, st, origin, leader, followers)
			}
		}
		where := "on a follower"
		if onLeader {
			where = "on the leader"
		}
		st.print(w, fmt.Sprintf("Trace: every write of the sessions %s (leader %d)", where, leader))
	}
}

// followWrites adds to st the stages of every write submitted on peer
// origin, from the submit to the call returning.
func followWrites(ix *marks, st *stages, origin, leader int64, followers []int64) {
	for _, sub := range ix.by[fmt.Sprint(origin, "/", hooks.TraceSubmit)] {
		p := newPath(ix, st, sub.at)
		z := p.commit(sub.m.Session, origin, leader, followers)
		p.applied(origin, leader, z)
		p.step("→ answered", origin, hooks.TraceAnswer, zxidAtLeast(z))
		p.step("→ the call returns", origin, hooks.TraceReturned, sessionIs(sub.m.Session))
		p.note("total: submit → the call returns", p.t-sub.at)
		p.done()
	}
}

// traceHandOffs prints the stages of each lock hand-off: from the holder's
// Unlock to the next holder's Lock returning.
func traceHandOffs(w io.Writer, recs []traceRec, peerOf map[int64]int64, leader int64, followers []int64) {
	ix := indexMarks(recs)
	st := newStages()
	var unlocks []traceRec
	for _, r := range recs {
		if r.m.Point == traceUnlockCall {
			unlocks = append(unlocks, r)
		}
	}
	for _, u := range unlocks {
		holder := u.m.Session
		origin := peerOf[holder]
		p := newPath(ix, st, u.at)
		p.step("Unlock called → delete submitted", origin, hooks.TraceSubmit, sessionIs(holder))
		z := p.commit(holder, origin, leader, followers)
		if !p.ok {
			continue
		}
		// The next holder: the first Lock to return after the commit.
		at, next := time.Duration(-1), int64(0)
		for s, pe := range peerOf {
			if s == holder {
				continue
			}
			if a, _, ok := ix.first(pe, traceLocked, p.t, sessionIs(s)); ok && (at < 0 || a < at) {
				at, next = a, s
			}
		}
		if at < 0 {
			continue
		}
		p.applied(peerOf[next], leader, z)
		p.step("→ next holder's Lock returns (event, recipe's reads)", peerOf[next], traceLocked, sessionIs(next))
		p.note("total: Unlock called → next Lock returns", p.t-u.at)
		p.done()
	}
	st.print(w, fmt.Sprintf("Trace: lock hand-off, leader %d", leader))
}

// tracedLock notes when Unlock is called and when Lock returns.
type tracedLock struct {
	m    *recipes.Mutex
	rec  *recorder
	peer int64
	sess int64
}

func (l *tracedLock) Lock(ctx context.Context) error {
	err := l.m.Lock(ctx)
	l.rec.note(hooks.Mark{Peer: l.peer, Point: traceLocked, Session: l.sess})
	return err
}

func (l *tracedLock) Unlock(ctx context.Context) error {
	l.rec.note(hooks.Mark{Peer: l.peer, Point: traceUnlockCall, Session: l.sess})
	return l.m.Unlock(ctx)
}

// printTrace prints the stages of the workload just run, from the marks
// its window left (create-1, lock-shared, and every write of lock-own,
// create-64 and set-64; nothing for the others).
func (s *zkSystem) printTrace(w io.Writer, workload string, round int) {
	recs := s.rec.take()
	var leader int64
	var followers []int64
	for i, e := range s.ens {
		id := e.Status().ID
		if i == s.leader() {
			leader = id
		} else {
			followers = append(followers, id)
		}
	}
	fmt.Fprintf(w, "\n## %s, %d peer(s), round %d: %d marks\n", workload, len(s.ens), round, len(recs))
	switch workload {
	case "create-1":
		// The only session is session 0: on the first peer.
		traceWrites(w, recs, s.ens[0].Status().ID, leader, followers)
	case "lock-own", "create-64", "set-64":
		var peers []int64
		for _, e := range s.ens {
			peers = append(peers, e.Status().ID)
		}
		traceAllWrites(w, recs, peers, leader, followers)
	case "lock-shared":
		peerOf := map[int64]int64{}
		for _, r := range recs {
			if r.m.Point == traceLocked || r.m.Point == traceUnlockCall {
				peerOf[r.m.Session] = r.m.Peer
			}
		}
		traceHandOffs(w, recs, peerOf, leader, followers)
	}
}
