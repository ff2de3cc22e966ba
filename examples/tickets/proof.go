package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/demo"
)

// record is a ticket's record as read back from the ensemble.
type record struct {
	ticket int
	soldRecord
	czxid int64 // when it was written: the sales' order
}

// readRecords reads every ticket record, in the order they were written.
func readRecords(ctx context.Context, sess *zk.Session) ([]record, error) {
	kids, _, err := sess.Children(ctx, soldDir)
	if err != nil {
		return nil, err
	}
	ops := make([]zk.ReadOp, len(kids))
	for i, k := range kids {
		ops[i] = zk.GetDataOp(soldDir + "/" + k)
	}
	res, err := sess.MultiRead(ctx, ops...)
	if err != nil {
		return nil, err
	}
	var out []record
	for i, r := range res {
		if r.Err != nil {
			return nil, r.Err
		}
		var rec record
		if _, err := fmt.Sscanf(kids[i], "ticket-%d", &rec.ticket); err != nil {
			return nil, fmt.Errorf("record %s: %w", kids[i], err)
		}
		if err := json.Unmarshal(r.Data, &rec.soldRecord); err != nil {
			return nil, fmt.Errorf("record %s: %w", kids[i], err)
		}
		rec.czxid = r.Stat.Czxid
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].czxid < out[j].czxid })
	return out, nil
}

// prove reads the stock and the records back from the ensemble (after a
// sync, on a peer alive) and checks them against what the windows saw.
func (d *tickets) prove(ctx context.Context) (bool, error) {
	sess, err := d.cl.NewSession(ctx, d.cl.NextAlive(0))
	if err != nil {
		return false, err
	}
	defer sess.Close(ctx)
	if err := sess.Sync(ctx, root); err != nil {
		return false, err
	}
	stock, _, err := readStock(ctx, sess)
	if err != nil {
		return false, err
	}
	recs, err := readRecords(ctx, sess)
	if err != nil {
		return false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var failed []string
	check := func(ok bool, label, good, bad string) {
		if !ok {
			failed = append(failed, label)
			good = "FAILED: " + bad
		}
		d.out.Line("  %s  %s", demo.Pad(label, 9), good)
	}
	d.out.Line("Proof, read back from the ensemble (%s, %s) after a sync:", stockPath, soldDir)
	once, missing, extra := d.tally(recs)
	check(once && len(recs) == d.o.tickets, "sold",
		fmt.Sprintf("%d of %d tickets, each exactly once: %s", len(recs), d.o.tickets, d.span()),
		fmt.Sprintf("%d records for %d tickets; missing %v, beyond the stock or twice %v", len(recs), d.o.tickets, missing, extra))
	check(stock.Left == 0 && len(extra) == 0, "oversold",
		fmt.Sprintf("none: the stock says %d left, no record beyond %s", stock.Left, d.ticket(d.o.tickets)),
		fmt.Sprintf("the stock says %d left; records beyond the stock: %v", stock.Left, extra))
	mine, why := d.matches(recs)
	check(mine, "sales", fmt.Sprintf("every record is a sale a window saw confirmed (%d), with its token", len(d.sales)), why)
	inc := tokensIncrease(recs)
	check(inc, "tokens", "strictly increase in the order the records were written: each sale under its own, newer hold",
		"do not increase in the order the records were written")
	check(d.overlaps == 0 && d.lateAccepted == 0, "fence",
		fmt.Sprintf("no grant while another window's lease was live; late writes refused: %d, accepted: 0", d.lateRefused),
		fmt.Sprintf("%d grants while another lease was live, %d late writes accepted", d.overlaps, d.lateAccepted))
	if d.o.kill {
		after, newer := d.afterCrash(recs)
		check(d.killed && d.lateRefused == 1 && newer > 0, "failover",
			fmt.Sprintf("the leader crashed after %d sales; %d sold after it, %d of them under tokens of the new epoch", d.crashAt, after, newer),
			fmt.Sprintf("crashed %v, late writes refused %d, sales after the crash %d (%d in a new epoch)", d.killed, d.lateRefused, after, newer))
	}
	d.out.Line("  %s  %s", demo.Pad("agencies", 9), byAgency(recs))
	if len(failed) > 0 {
		d.out.Line("\nFAILED: %s", strings.Join(failed, ", "))
		return false, nil
	}
	d.out.Line("\nOK: every ticket was sold exactly once, under a live hold of the lock.")
	return true, nil
}

// tally checks that records name each ticket of the stock once.
func (d *tickets) tally(recs []record) (once bool, missing, extra []int) {
	seen := map[int]int{}
	for _, r := range recs {
		seen[r.ticket]++
		if r.ticket < 1 || r.ticket > d.o.tickets || seen[r.ticket] > 1 {
			extra = append(extra, r.ticket)
		}
	}
	for t := 1; t <= d.o.tickets; t++ {
		if seen[t] == 0 {
			missing = append(missing, t)
		}
	}
	return len(missing) == 0 && len(extra) == 0, missing, extra
}

func (d *tickets) span() string {
	if d.o.tickets == 1 {
		return d.ticket(1)
	}
	return d.ticket(1) + ".." + d.ticket(d.o.tickets)
}

// matches checks the records against the sales the windows saw
// confirmed: the same tickets, sellers and tokens, in the same order
// (writes of unknown outcome may add records).
func (d *tickets) matches(recs []record) (bool, string) {
	i := 0
	for _, r := range recs {
		if i < len(d.sales) && d.sales[i].ticket == r.ticket && d.sales[i].by == r.By && d.sales[i].token == r.Token {
			i++
			continue
		}
		known := slices.ContainsFunc(d.unknowns, func(s sale) bool { return s.ticket == r.ticket && s.token == r.Token })
		if !known {
			return false, fmt.Sprintf("record of ticket %d (%s, token %s) is no sale a window made", r.ticket, r.By, demo.Token(r.Token))
		}
	}
	if i != len(d.sales) {
		return false, fmt.Sprintf("%d sales confirmed, %d found in the records in order", len(d.sales), i)
	}
	return true, ""
}

// afterCrash counts the records written after the crash, and those of
// them whose token is of a later epoch than the last sale before it.
func (d *tickets) afterCrash(recs []record) (after, newer int) {
	if !d.killed || d.crashAt == 0 || d.crashAt > len(recs) {
		return 0, 0
	}
	before := demo.Epoch(recs[d.crashAt-1].Token)
	for _, r := range recs[d.crashAt:] {
		after++
		if demo.Epoch(r.Token) > before {
			newer++
		}
	}
	return after, newer
}

func tokensIncrease(recs []record) bool {
	for i := 1; i < len(recs); i++ {
		if recs[i].Token <= recs[i-1].Token {
			return false
		}
	}
	return true
}

func byAgency(recs []record) string {
	count := map[string]int{}
	for _, r := range recs {
		name, _, _ := strings.Cut(r.By, "-")
		count[name]++
	}
	var parts []string
	for _, n := range agencyNames {
		if count[n] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", n, count[n]))
		}
	}
	return strings.Join(parts, ", ")
}
