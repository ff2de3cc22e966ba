package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/demo"
)

// readJobs reads the jobs' records in the order they were written.
func readJobs(ctx context.Context, sess *zk.Session) ([]job, error) {
	kids, _, err := sess.Children(ctx, jobsDir)
	if err != nil {
		return nil, err
	}
	ops := make([]zk.ReadOp, len(kids))
	for i, k := range kids {
		ops[i] = zk.GetDataOp(jobsDir + "/" + k)
	}
	res, err := sess.MultiRead(ctx, ops...)
	if err != nil {
		return nil, err
	}
	type rec struct {
		j     job
		czxid int64
	}
	recs := make([]rec, len(res))
	for i, r := range res {
		if r.Err != nil {
			return nil, r.Err
		}
		if err := json.Unmarshal(r.Data, &recs[i].j); err != nil {
			return nil, fmt.Errorf("%s: %w", kids[i], err)
		}
		recs[i].czxid = r.Stat.Czxid
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].czxid < recs[j].czxid })
	out := make([]job, len(recs))
	for i, r := range recs {
		out[i] = r.j
	}
	return out, nil
}

// summary prints the terms as a table.
func (e *election) summary() {
	e.out.Line("Terms (times since the start):")
	e.out.Line("  %4s  %-9s  %-12s  %8s  %8s  %8s  %4s  %s", "term", "leader", "token", "from", "to", "led for", "jobs", "ended by")
	for _, t := range e.terms {
		e.out.Line("  %4d  %-9s  %-12s  %8s  %8s  %7.3fs  %4d  %s", t.n, t.c.w.name, demo.Token(t.token),
			demo.Stamp(t.start), demo.Stamp(t.end), (t.end - t.start).Seconds(), t.jobs, t.endedBy)
	}
	e.out.Line("")
}

// prove reads the jobs' records back from the ensemble (after a sync, on
// a peer alive) and checks the terms against them.
func (e *election) prove(ctx context.Context) (bool, error) {
	sess, err := e.cl.NewSession(ctx, e.cl.NextAlive(0))
	if err != nil {
		return false, err
	}
	defer sess.Close(ctx)
	if err := sess.Sync(ctx, jobsDir); err != nil {
		return false, err
	}
	jobs, err := readJobs(ctx, sess)
	if err != nil {
		return false, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.summary()
	var failed []string
	check := func(ok bool, label, good, bad string) {
		if !ok {
			failed = append(failed, label)
			good = "FAILED: " + bad
		}
		e.out.Line("  %s  %s", demo.Pad(label, 7), good)
	}
	e.out.Line("Proof, read back from the ensemble (%s) after a sync:", jobsDir)
	seq, why := e.sequence()
	check(seq, "terms", fmt.Sprintf("%d, one at a time: each began after the previous had ended, with a greater token", len(e.terms)), why)
	ok, why := e.jobsInOrder(jobs)
	check(ok, "jobs", fmt.Sprintf("%d records, written term after term, each under its term's token", len(jobs)), why)
	check(len(e.terms) >= e.o.terms, "ends", e.kills(), fmt.Sprintf("%d terms, want %d", len(e.terms), e.o.terms))
	if len(failed) > 0 {
		e.out.Line("\nFAILED: %s", strings.Join(failed, ", "))
		return false, nil
	}
	e.out.Line("\nOK: one leader at a time; each successor took over after the previous term ended.")
	return true, nil
}

// sequence checks the terms as the workers saw them.
func (e *election) sequence() (bool, string) {
	if e.overlaps > 0 {
		return false, fmt.Sprintf("%d terms began while another lasted", e.overlaps)
	}
	for i, t := range e.terms {
		if t.end == 0 {
			return false, fmt.Sprintf("term %d never ended", t.n)
		}
		if i == 0 {
			continue
		}
		prev := e.terms[i-1]
		if t.start < prev.end || t.token <= prev.token {
			return false, fmt.Sprintf("term %d (from %s, token %s) after term %d (to %s, token %s)", t.n, demo.Stamp(t.start),
				demo.Token(t.token), prev.n, demo.Stamp(prev.end), demo.Token(prev.token))
		}
	}
	return true, ""
}

// jobsInOrder checks the records: each names a term and carries its
// token, terms never go back, and each term's records are the jobs its
// leader saw done (plus, at most, those of unknown outcome).
func (e *election) jobsInOrder(jobs []job) (bool, string) {
	count := map[int]int{}
	last := 0
	for _, j := range jobs {
		if j.Term < 1 || j.Term > len(e.terms) || e.terms[j.Term-1].token != j.Token || e.terms[j.Term-1].c.w.name != j.Worker {
			return false, fmt.Sprintf("record %+v matches no term", j)
		}
		if j.Term < last {
			return false, fmt.Sprintf("a job of term %d written after one of term %d", j.Term, last)
		}
		last = j.Term
		count[j.Term]++
	}
	for _, t := range e.terms {
		if count[t.n] < t.jobs || count[t.n] > t.jobs+t.unknown {
			return false, fmt.Sprintf("term %d: %d records, %d jobs done (%d unknown)", t.n, count[t.n], t.jobs, t.unknown)
		}
	}
	return true, ""
}

// kills says how the terms ended, in order.
func (e *election) kills() string {
	var parts []string
	for _, t := range e.terms {
		how, _, _ := strings.Cut(t.endedBy, ":")
		parts = append(parts, how)
	}
	return strings.Join(parts, ", ")
}
