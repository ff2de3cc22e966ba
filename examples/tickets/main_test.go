package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/demo"
)

// row matches a row about a ticket: time, window, ticket, token, what.
var row = regexp.MustCompile(`^\s*\d+\.\d{3}s\s+(\S+)\s+#(\d+)\s+(0x[0-9a-f]+)\s+(.*)$`)

// ticketRow is one parsed row.
type ticketRow struct {
	window string
	ticket int
	token  int64
	what   string
}

func parseRows(out string) (rows []ticketRow, crashLine int) {
	crashLine = -1
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "── crash:") && crashLine < 0 {
			crashLine = len(rows)
		}
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		t, _ := strconv.Atoi(m[2])
		tok, _ := strconv.ParseInt(m[3][2:], 16, 64)
		rows = append(rows, ticketRow{window: m[1], ticket: t, token: tok, what: m[4]})
	}
	return rows, crashLine
}

// checkOutput checks the facts a run's output states: every ticket of
// the stock sold once, in order, with the stock counting down (a write
// of unknown outcome counts as a sale if no later sale took its ticket); tokens
// strictly increasing from sale to sale; no sale under a lease that was
// reported lost; the proof passed. With kill, also: the leader crashed
// mid-sale, the stale holder's late write was refused, and selling went
// on after the crash under a new epoch.
func checkOutput(out string, total int, kill bool) error {
	rows, crash := parseRows(out)
	var sales []ticketRow
	lost := map[int64]bool{}
	soldTicket := map[int]bool{}
	for _, r := range rows {
		if strings.HasPrefix(r.what, "sold, ") {
			soldTicket[r.ticket] = true
		}
	}
	for _, r := range rows {
		switch {
		case strings.HasPrefix(r.what, "sold, "):
			sales = append(sales, r)
		case strings.HasPrefix(r.what, "outcome unknown") && !soldTicket[r.ticket]:
			sales = append(sales, r) // it happened: no one sold that ticket after it
		case strings.HasPrefix(r.what, "lease lost"):
			lost[r.token] = true
		}
	}
	if len(sales) != total {
		return fmt.Errorf("%d sales printed, want %d", len(sales), total)
	}
	for i, s := range sales {
		if s.ticket != i+1 {
			return fmt.Errorf("sale %d is of ticket %d: tickets not sold once each, in order", i+1, s.ticket)
		}
		if want := fmt.Sprintf("sold, %d left", total-s.ticket); strings.HasPrefix(s.what, "sold") && !strings.HasPrefix(s.what, want) {
			return fmt.Errorf("sale of #%d says %q, want %q", s.ticket, s.what, want)
		}
		if i > 0 && s.token <= sales[i-1].token {
			return fmt.Errorf("sale of #%d under token %#x, not after %#x", s.ticket, s.token, sales[i-1].token)
		}
		if lost[s.token] {
			return fmt.Errorf("sale of #%d under token %#x, whose lease was reported lost", s.ticket, s.token)
		}
	}
	for _, want := range []string{"\nOK: every ticket was sold exactly once", "  sold       ", "  tokens     strictly increase"} {
		if !strings.Contains(out, want) {
			return fmt.Errorf("the output lacks %q", want)
		}
	}
	if strings.Contains(out, "FAILED") || strings.Contains(out, "NOT EXCLUSIVE") || strings.Contains(out, "GRANTED WHILE") {
		return errors.New("the output reports a failure")
	}
	if kill {
		return checkFailover(rows, sales, crash)
	}
	if crash >= 0 {
		return errors.New("a crash without -kill-leader")
	}
	return nil
}

// checkFailover: the crash happened mid-sale of a ticket by a window whose
// lease was then lost; its late write was refused; that ticket was sold
// after the crash by another hold with a newer token; later sales carry a
// new epoch's tokens.
func checkFailover(rows, sales []ticketRow, crash int) error {
	if crash < 0 {
		return errors.New("no crash line")
	}
	if crash >= len(rows) {
		return errors.New("no row after the crash")
	}
	victim := rows[crash]
	if !strings.HasPrefix(victim.what, "lease lost") {
		return fmt.Errorf("the row after the crash is %+v, want the holder's lease lost", victim)
	}
	refused := false
	for _, r := range rows[crash:] {
		if r.token == victim.token && strings.HasPrefix(r.what, "late write REFUSED by the fence: the stock was written under token") {
			refused = true
		}
	}
	if !refused {
		return fmt.Errorf("no refused late write of %s (token %#x)", victim.window, victim.token)
	}
	s := sales[victim.ticket-1]
	if s.token <= victim.token {
		return fmt.Errorf("#%d sold under %#x, not newer than the stale holder's %#x", s.ticket, s.token, victim.token)
	}
	last := sales[len(sales)-1]
	if demo.Epoch(last.token) <= demo.Epoch(victim.token) {
		return fmt.Errorf("the last sale's token %#x is of the crashed leader's epoch", last.token)
	}
	return nil
}

func runQuick(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"-quick", "-timeout", "2m"}, args...), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q, output:\n%s", code, errb.String(), out.String())
	}
	return out.String()
}

// TestQuick runs the CI mode on the embedded default and checks the facts
// its output states.
func TestQuick(t *testing.T) {
	out := runQuick(t)
	if err := checkOutput(out, 12, false); err != nil {
		t.Fatalf("%v; output:\n%s", err, out)
	}
}

// TestQuickKillLeader runs the CI mode on 3 peers over TCP with the
// leader crashed mid-sale.
func TestQuickKillLeader(t *testing.T) {
	out := runQuick(t, "-peers", "3", "-kill-leader")
	if err := checkOutput(out, 12, true); err != nil {
		t.Fatalf("%v; output:\n%s", err, out)
	}
}

// TestCheckerBites: the output checker refuses doctored outputs.
func TestCheckerBites(t *testing.T) {
	good := strings.Join([]string{
		"   0.100s  携程-1      #01     0x100000010   sold, 2 left",
		"   0.343s  ── crash: peer 2, the leader, stops as under kill -9; 飞猪-2 holds the lock, mid-sale of #02",
		"   0.357s  飞猪-2      #02     0x100000021   lease lost (its peer crashed): stops without writing, keeps the ticket in hand",
		"   1.960s  携程-2      #02     0x100000024   sold, 1 left (the first sale after the crash)",
		"   1.961s  飞猪-2      #02     0x100000021   late write REFUSED by the fence: the stock was written under token 0x100000024, newer than 0x100000021",
		"   1.972s  去哪儿-2    #03     0x200000003   sold, 0 left",
		"  sold       3 of 3",
		"  tokens     strictly increase",
		"\nOK: every ticket was sold exactly once, under a live hold of the lock.",
	}, "\n")
	if err := checkOutput(good, 3, true); err != nil {
		t.Fatalf("the good output is refused: %v", err)
	}
	bad := map[string]string{
		"a ticket sold twice":       strings.Replace(good, "#03     0x200000003   sold", "#02     0x200000003   sold", 1),
		"tokens not increasing":     strings.Replace(good, "0x200000003   sold", "0x100000020   sold", 1),
		"a sale under a lost lease": strings.Replace(good, "0x100000024   sold", "0x100000021   sold", 1),
		"the late write accepted":   strings.Replace(good, "late write REFUSED by the fence", "late write ACCEPTED", 1),
		"refused by the record":     strings.Replace(good, "REFUSED by the fence: the stock was written under token 0x100000024, newer than 0x100000021", "refused, but not by the fence: ticket #2 has a record already", 1),
		"no crash":                  strings.Replace(good, "── crash:", "── nothing:", 1),
		"no new epoch":              strings.Replace(good, "0x200000003", "0x100000030", 1),
		"oversold":                  strings.Replace(good, "sold, 0 left", "sold, 0 left\n   1.980s  携程-1      #04     0x200000009   sold, -1 left", 1),
		"a failure reported":        good + "\nFAILED: sold",
	}
	for name, out := range bad {
		if err := checkOutput(out, 3, true); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestFence: the stock refuses a write from a superseded hold (an older
// token) and one made from a stale read (an older version), and changes
// nothing when it does.
func TestFence(t *testing.T) {
	ctx := context.Background()
	ens, err := zk.NewEnsemble(zk.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer ens.Close()
	sess, err := ens.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := setupStock(ctx, sess, 3); err != nil {
		t.Fatal(err)
	}
	_, st, _ := readStock(ctx, sess)
	if err := sell(ctx, sess, sale{ticket: 1, version: st.Version, token: 100, by: "a-1"}, 3); err != nil {
		t.Fatal(err)
	}
	// Tickets 2 has no record yet: only the fence and the version check
	// stand in the way.
	refusedBy := func(s sale) refusalKind {
		var r *refusal
		if err := sell(ctx, sess, s, 3); !errors.As(err, &r) {
			t.Fatalf("%+v: %v, want a refusal", s, err)
		}
		return r.kind
	}
	if k := refusedBy(sale{ticket: 2, version: st.Version + 1, token: 90, by: "b-1"}); k != fenced {
		t.Errorf("an older token with a fresh version: refused by %d, want the fence", k)
	}
	if k := refusedBy(sale{ticket: 2, version: st.Version, token: 110, by: "b-1"}); k != staleRead {
		t.Errorf("a newer token with a stale version: refused by %d, want the version check", k)
	}
	if k := refusedBy(sale{ticket: 1, version: st.Version + 1, token: 120, by: "b-1"}); k != duplicate {
		t.Errorf("a ticket sold already: refused by %d, want the record", k)
	}
	cur, st2, _ := readStock(ctx, sess)
	recs, err := readRecords(ctx, sess)
	if err != nil || cur.Left != 2 || cur.Token != 100 || st2.Version != st.Version+1 || len(recs) != 1 || recs[0].By != "a-1" {
		t.Fatalf("after refusals: stock %+v version %d, records %+v %v", cur, st2.Version, recs, err)
	}
}

// TestBadFlags: bad flags are refused with exit 2 and a message.
func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-kill-leader"}, {"-peers", "5", "-kill-leader"}, {"-peers", "2"}, {"-tickets", "0"}, {"-agencies", "9"}, {"-nosuch"}, {"extra"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || errb.Len() == 0 || out.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q", args, code, errb.String(), out.String())
		}
	}
}
