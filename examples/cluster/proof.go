package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/demo"
)

// narrateElection tells, from the servers' logs, how the elections since
// t0 ended: each server's first vote and decision, and why the winner won.
func (w *walk) narrateElection(t0 time.Time) {
	recs := w.c.electionsSince(t0)
	var leader *electionRecord
	var voters []electionRecord
	for i, r := range recs {
		name := fmt.Sprint("server.", r.server)
		switch {
		case r.outcome == "observing":
			w.out.Row(name, fmt.Sprintf("(observer) casts no vote; it learns that server.%d leads and observes it", r.leader))
		case r.joined:
			w.out.Row(name, fmt.Sprintf("voted for itself first %s; heard server.%d already leads: joins it", r.proposed, r.leader))
		case r.outcome == "leading":
			w.out.Row(name, fmt.Sprintf("voted for itself first %s; round %d decided in %s: it leads (a quorum: %s)",
				r.proposed, r.round, demo.Stamp(r.took), r.quorum))
			leader = &recs[i]
			voters = append(voters, r)
		default:
			w.out.Row(name, fmt.Sprintf("voted for itself first %s; round %d decided: it follows server.%d", r.proposed, r.round, r.leader))
			voters = append(voters, r)
		}
	}
	if leader != nil && len(voters) > 1 {
		w.out.Row("election", why(*leader, voters))
	}
}

// why explains why the leader's vote won over the other voters' first
// votes.
func why(leader electionRecord, voters []electionRecord) string {
	lv, ok := parseVote(leader.proposed)
	if !ok {
		return "server." + fmt.Sprint(leader.server) + " won"
	}
	var reasons []string
	for _, r := range voters {
		v, ok := parseVote(r.proposed)
		if !ok || r.server == leader.server {
			continue
		}
		reason := "the same epoch and zxid, and the higher id"
		switch {
		case !lv.beats(v):
			reason = "a vote that does not beat it (it had left the election)"
		case lv.epoch > v.epoch:
			reason = fmt.Sprintf("a newer epoch (%d > %d)", lv.epoch, v.epoch)
		case lv.zxid > v.zxid:
			reason = fmt.Sprintf("a newer zxid (%s > %s)", demo.Token(lv.zxid), demo.Token(v.zxid))
		}
		reasons = append(reasons, fmt.Sprintf("over server.%d: %s", r.server, reason))
	}
	return fmt.Sprintf("why server.%d: votes compare epoch, then zxid, then id; it wins %s", leader.server,
		strings.Join(reasons, "; "))
}

// prove reads every write back from every server (after a sync) and
// checks the leaders against the seeds' story.
func (w *walk) prove(ctx context.Context) (bool, error) {
	w.out.Line("Leaders after each step:")
	for _, f := range w.facts {
		who := "nobody serves"
		if f.leader != 0 {
			who = fmt.Sprintf("server.%d leads (epoch %d)", f.leader, f.epoch)
		}
		if f.note != "" {
			who += ": " + f.note
		}
		w.out.Line("  %s  %s", demo.Pad(f.step, 20), who)
	}
	w.out.Line("")
	w.out.Line("Proof, read back from every server after a sync:")
	var failed []string
	check := func(ok bool, label, good, bad string) {
		if !ok {
			failed = append(failed, label)
			good = "FAILED: " + bad
		}
		w.out.Line("  %s  %s", demo.Pad(label, 8), good)
	}
	acked, refusedN, why, err := w.readBack(ctx)
	if err != nil {
		return false, err
	}
	check(why == "", "writes", fmt.Sprintf("%d acknowledged, each on every server with its data: none lost; %d refused "+
		"without a quorum, on no server", acked, refusedN), why)
	got, want := w.leaderSequence(), "2, 2, -, 2, 3, 3"
	check(got == want, "leaders", "server.2, server.2, nobody, server.2, server.3, server.3: the seeds' story",
		fmt.Sprintf("leaders %s, want %s", got, want))
	if len(failed) > 0 {
		w.out.Line("\nFAILED: %s", strings.Join(failed, ", "))
		return false, nil
	}
	w.out.Line("\nOK: the ensemble served while a quorum ran, stopped without one, and lost no acknowledged write.")
	return true, nil
}

// leaderSequence lists who led after the steps that can change it.
func (w *walk) leaderSequence() string {
	var parts []string
	for _, f := range w.facts {
		if f.leader == 0 {
			parts = append(parts, "-")
		} else {
			parts = append(parts, fmt.Sprint(f.leader))
		}
	}
	return strings.Join(parts, ", ")
}

// readBack reads every write through every server. An acknowledged write
// must be on each with its data; a refused one on none.
func (w *walk) readBack(ctx context.Context) (acked, refusedN int, why string, err error) {
	for _, s := range w.c.servers {
		sess, err := w.session(ctx, s.id)
		if err != nil {
			return 0, 0, "", err
		}
		if err := sess.Sync(ctx, dataDir); err != nil {
			sess.Close(ctx)
			return 0, 0, "", err
		}
		for _, wr := range w.writes {
			data, _, gerr := sess.Get(ctx, wr.path)
			switch {
			case wr.err == nil && (gerr != nil || string(data) != wr.data):
				why = fmt.Sprintf("%s on %s: %q, %v; want %q", wr.path, s.name(), data, gerr, wr.data)
			case wr.err != nil && !errors.Is(gerr, zk.ErrNoNode):
				why = fmt.Sprintf("the refused %s on %s: %q, %v", wr.path, s.name(), data, gerr)
			}
		}
		sess.Close(ctx)
	}
	for _, wr := range w.writes {
		if wr.err == nil {
			acked++
		} else {
			refusedN++
		}
	}
	return acked, refusedN, why, nil
}
