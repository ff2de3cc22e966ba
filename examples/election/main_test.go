package main

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	leadsRow = regexp.MustCompile(`^\s*(\d+\.\d{3})s\s+(\S+)\s+LEADS term (\d+), token (0x[0-9a-f]+)(.*)$`)
	endRow   = regexp.MustCompile(`^\s*(\d+\.\d{3})s\s+(\S+)\s+term (\d+) ended after [\d.]+s, (\d+) jobs: (.*)$`)
	jobRow   = regexp.MustCompile(`^\s*\d+\.\d{3}s\s+(\S+)\s+job (\d+) done$`)
	killRow  = regexp.MustCompile(`^\s*\d+\.\d{3}s\s+── (?:kill -9 (\S+):|(\S+) quits:|crash: .*, where (\S+)'s session lives)`)
)

// leadership is a term as the output tells it.
type leadership struct {
	leader     string
	token      int64
	start, end float64
	jobs       int
	killedBy   string // "kill -9", "quit", "crash" or ""
	how        string // how the term ended, as its end row says
}

// checkOutput checks the facts a run's output states: terms 1..n, one at
// a time (each ends before the next begins, in the output and in time),
// with strictly increasing tokens; jobs 1..jobs done by the leader only,
// within its term (and never after the leader was killed, unless by the
// crash of its peer: a job then in flight may complete); the kills in the
// planned order, each after its leader's jobs; the last term ended by the
// demo's end; the proof passed. A term may also end on its own (its
// leadership lost while the ensemble did not serve: a loaded machine);
// the next term then takes the kill.
func checkOutput(out string, terms, jobs int, plan []string) error {
	var ts []*leadership
	var cur *leadership
	killed := ""
	for _, line := range strings.Split(out, "\n") {
		if m := leadsRow.FindStringSubmatch(line); m != nil {
			if cur != nil {
				return fmt.Errorf("%q: term %d begins while term %d lasts", line, len(ts)+1, len(ts))
			}
			if n, _ := strconv.Atoi(m[3]); n != len(ts)+1 {
				return fmt.Errorf("%q: want term %d", line, len(ts)+1)
			}
			tok, _ := strconv.ParseInt(m[4][2:], 16, 64)
			start, _ := strconv.ParseFloat(m[1], 64)
			cur = &leadership{leader: m[2], token: tok, start: start}
			if len(ts) > 0 && (tok <= ts[len(ts)-1].token || start < ts[len(ts)-1].end) {
				return fmt.Errorf("%q: not after term %d (%+v)", line, len(ts), *ts[len(ts)-1])
			}
			ts = append(ts, cur)
			continue
		}
		if m := killRow.FindStringSubmatch(line); m != nil {
			who := m[1] + m[2] + m[3]
			if cur == nil || who != cur.leader {
				return fmt.Errorf("%q: kills %s, not the leader", line, who)
			}
			switch {
			case m[1] != "":
				killed = "kill -9"
			case m[2] != "":
				killed = "quit"
			default:
				killed = "crash"
			}
			continue
		}
		if m := jobRow.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[2])
			// A job in flight when its leader's peer crashed may complete
			// before the leader sees its term end; a killed process does
			// nothing more.
			if cur == nil || m[1] != cur.leader || n != cur.jobs+1 || (killed != "" && killed != "crash") {
				return fmt.Errorf("%q: a job outside its leader's term, or out of order", line)
			}
			cur.jobs = n
			continue
		}
		if m := endRow.FindStringSubmatch(line); m != nil {
			if n, _ := strconv.Atoi(m[3]); cur == nil || n != len(ts) || m[2] != cur.leader {
				return fmt.Errorf("%q: ends no term that lasts", line)
			}
			cur.end, _ = strconv.ParseFloat(m[1], 64)
			cur.how = m[5]
			cur.killedBy, killed, cur = killed, "", nil
		}
	}
	if len(ts) < terms || cur != nil {
		return fmt.Errorf("%d terms, want %d, all ended", len(ts), terms)
	}
	var kills []string
	for i, t := range ts {
		last := i == len(ts)-1
		switch {
		case last && (t.killedBy != "" || t.how != "left the election"):
			return fmt.Errorf("the last term ended by %q (%s), want the demo's end", t.killedBy, t.how)
		case !last && t.killedBy == "" && !strings.HasSuffix(t.how, "leadership lost"):
			return fmt.Errorf("term %d ended by %q without a kill", i+1, t.how)
		case t.killedBy == "" && !last:
			continue // lost on its own (the ensemble stopped serving): no kill for it
		case t.jobs < jobs:
			return fmt.Errorf("term %d: %d jobs, want %d before its end", i+1, t.jobs, jobs)
		}
		if t.killedBy != "" {
			kills = append(kills, t.killedBy)
		}
	}
	if strings.Join(kills, ", ") != strings.Join(plan, ", ") {
		return fmt.Errorf("terms killed by %v, want %v", kills, plan)
	}
	if !strings.Contains(out, "\nOK: one leader at a time") || strings.Contains(out, "FAILED") || strings.Contains(out, "STILL LEADS") {
		return errors.New("the proof did not pass")
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

// TestQuick runs the CI mode on the embedded default.
func TestQuick(t *testing.T) {
	out := runQuick(t)
	if err := checkOutput(out, 4, 3, []string{"kill -9", "quit", "kill -9"}); err != nil {
		t.Fatalf("%v; output:\n%s", err, out)
	}
}

// TestQuickPeers runs the CI mode on 3 peers over TCP: the second leader
// loses its peer.
func TestQuickPeers(t *testing.T) {
	out := runQuick(t, "-peers", "3")
	if err := checkOutput(out, 4, 3, []string{"kill -9", "crash", "quit"}); err != nil {
		t.Fatalf("%v; output:\n%s", err, out)
	}
}

// TestCheckerBites: the checker refuses doctored outputs.
func TestCheckerBites(t *testing.T) {
	good := strings.Join([]string{
		"   0.136s  worker-c    LEADS term 1, token 0x10000000c",
		"   0.157s  worker-c    job 1 done",
		"   0.202s  ── kill -9 worker-c: it stops at once; its session expires",
		"   0.202s  worker-c    term 1 ended after 0.066s, 1 jobs: kill -9: session expired",
		"   0.203s  worker-a    LEADS term 2, token 0x10000000d, 0.001s after worker-c's term ended",
		"   0.224s  worker-a    job 1 done",
		"   0.274s  ── worker-a quits: its process exits and closes its session",
		"   0.274s  worker-a    term 2 ended after 0.071s, 1 jobs: quit: session closed",
		"   0.277s  worker-b    LEADS term 3, token 0x10000000e, 0.002s after worker-a's term ended",
		"   0.395s  worker-b    job 1 done",
		"   0.501s  worker-b    term 3 ended after 0.063s, 1 jobs: left the election",
		"\nOK: one leader at a time; each successor took over after the previous term ended.",
	}, "\n")
	plan := []string{"kill -9", "quit"}
	if err := checkOutput(good, 3, 1, plan); err != nil {
		t.Fatalf("the good output is refused: %v", err)
	}
	// A term that ends on its own takes no kill: the next one does.
	lost := strings.Join([]string{
		"   0.136s  worker-c    LEADS term 1, token 0x10000000c",
		"   0.157s  worker-c    job 1 done",
		"   0.180s  worker-c    term 1 ended after 0.044s, 1 jobs: its peer lost the leader: leadership lost",
		"   0.190s  worker-a    LEADS term 2, token 0x10000000d",
		"   0.224s  worker-a    job 1 done",
		"   0.274s  ── kill -9 worker-a: it stops at once; its session expires",
		"   0.274s  worker-a    term 2 ended after 0.071s, 1 jobs: kill -9: session expired",
		"   0.277s  worker-b    LEADS term 3, token 0x10000000e, 0.002s after worker-a's term ended",
		"   0.395s  worker-b    job 1 done",
		"   0.501s  worker-b    term 3 ended after 0.063s, 1 jobs: left the election",
		"\nOK: one leader at a time; each successor took over after the previous term ended.",
	}, "\n")
	if err := checkOutput(lost, 2, 1, []string{"kill -9"}); err != nil {
		t.Fatalf("an output with a term lost on its own is refused: %v", err)
	}
	swap := func(s, a, b string) string {
		return strings.Replace(strings.Replace(strings.Replace(s, a, "\x00", 1), b, a, 1), "\x00", b, 1)
	}
	lines := strings.Split(good, "\n")
	bad := map[string]string{
		"overlapping terms": swap(good, lines[3], lines[4]),
		"a job after a kill": strings.Replace(good, lines[2], lines[2]+"\n"+
			"   0.210s  worker-c    job 2 done", 1),
		"a job by a follower":   strings.Replace(good, "0.224s  worker-a    job 1", "0.224s  worker-b    job 1", 1),
		"tokens going down":     strings.Replace(good, "0x10000000e", "0x10000000a", 1),
		"starts before the end": strings.Replace(good, "0.277s  worker-b    LEADS", "0.270s  worker-b    LEADS", 1),
		"the wrong kill":        strings.Replace(good, "── worker-a quits:", "── kill -9 worker-a:", 1),
		"a term missing":        strings.Join(lines[:8], "\n") + "\n" + lines[len(lines)-1],
		"a term ended unkilled": strings.Replace(good, lines[6]+"\n", "", 1),
		"the last term killed":  strings.Replace(good, "1 jobs: left the election", "1 jobs: kill -9: session expired", 1),
		"the proof failed":      good + "\nFAILED: terms",
	}
	for name, out := range bad {
		if err := checkOutput(out, 3, 1, plan); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestBadFlags: bad flags are refused with exit 2 and a message.
func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-workers", "1"}, {"-peers", "2"}, {"-terms", "0"}, {"-jobs", "0"}, {"-nosuch"}, {"extra"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || errb.Len() == 0 || out.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q", args, code, errb.String(), out.String())
		}
	}
}
