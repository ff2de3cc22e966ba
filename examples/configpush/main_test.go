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
	writerRow = regexp.MustCompile(`^\s*\d+\.\d{3}s\s+writer\s+(\S+)\s+v(\d+)\s+(\S+)$`)
	seenRow   = regexp.MustCompile(`^\s*\d+\.\d{3}s\s+(\S+)\s+(\S+)\s+v(\d+)\s+(\S+)\s+\+[\d.]+m?s$`)
	loadedRow = regexp.MustCompile(`^\s*\d+\.\d{3}s\s+(\S+)\s+\(loaded\)\s+\S+ of \S+: (.*)$`)
	resumeRow = regexp.MustCompile(`^\s*\d+\.\d{3}s\s+(\S+)\s+\(resumes\)\s+from zxid 0x[0-9a-f]+, with a new session on peer \d \((.*)\)$`)
	crashRow  = regexp.MustCompile(`^\s*\d+\.\d{3}s\s+── crash: peer \d, the leader, stops as under kill -9 \((.*) session lives there\)$`)
)

// history holds the values of keys, by version.
type history map[string][]string // key -> value per version

// checkOutput checks the facts a run's output states: the writer made
// `changes` changes, each key's versions in order; every service loaded
// version 0 of its keys, then heard every version the writer wrote of
// them, once, in order, with the value written, and nothing else; with a
// crash, it comes after half of the changes, the services whose session
// lived on the crashed peer resume on a new session, and every service
// hears changes written after the crash; the proof passed.
func checkOutput(out string, changes, services int, crash bool) error {
	wrote := history{}
	heard := map[string]history{}
	var order []string
	written, crashedAt := 0, -1
	var onCrashed []string       // the services whose session lived on the crashed peer
	resumed := map[string]bool{} // services that resumed on a new session since their peer crashed
	after := map[string]bool{}   // services heard of a change written after the crash
	for _, line := range strings.Split(out, "\n") {
		if m := loadedRow.FindStringSubmatch(line); m != nil {
			if _, dup := heard[m[1]]; dup {
				return fmt.Errorf("%q: %s loaded twice", line, m[1])
			}
			heard[m[1]] = history{}
			order = append(order, m[1])
			for _, kv := range strings.Split(m[2], ", ") {
				k, v, _ := strings.Cut(kv, " ")
				if v != "v0" {
					return fmt.Errorf("%q: loaded %s, want v0", line, kv)
				}
				heard[m[1]][k] = []string{""}
			}
			continue
		}
		if m := writerRow.FindStringSubmatch(line); m != nil {
			if len(wrote[m[1]]) == 0 {
				wrote[m[1]] = []string{""} // v0: the initial value
			}
			if v, _ := strconv.Atoi(m[2]); v != len(wrote[m[1]]) {
				return fmt.Errorf("%q: want v%d", line, len(wrote[m[1]]))
			}
			wrote[m[1]] = append(wrote[m[1]], m[3])
			written++
			continue
		}
		if m := crashRow.FindStringSubmatch(line); m != nil {
			crashedAt = written
			for _, who := range strings.Split(m[1], ", ") {
				onCrashed = append(onCrashed, strings.TrimSuffix(who, "'s"))
			}
			continue
		}
		if m := resumeRow.FindStringSubmatch(line); m != nil {
			if crashedAt < 0 {
				return fmt.Errorf("%q: a resume before any crash", line)
			}
			resumed[m[1]] = resumed[m[1]] || m[2] == "its peer crashed"
			continue
		}
		if m := seenRow.FindStringSubmatch(line); m != nil {
			h, ok := heard[m[1]]
			if !ok || h[m[2]] == nil {
				return fmt.Errorf("%q: %s does not hold %s", line, m[1], m[2])
			}
			v, _ := strconv.Atoi(m[3])
			if v != len(h[m[2]]) || v >= len(wrote[m[2]]) || wrote[m[2]][v] != m[4] {
				return fmt.Errorf("%q: %s heard v%d of %s, want v%d as written", line, m[1], v, m[2], len(h[m[2]]))
			}
			h[m[2]] = append(h[m[2]], m[4])
			if crashedAt >= 0 && written > crashedAt {
				after[m[1]] = true
			}
		}
	}
	if written != changes || len(order) != services {
		return fmt.Errorf("%d changes written, %d services loaded; want %d and %d", written, len(order), changes, services)
	}
	for _, name := range order {
		for k, h := range heard[name] {
			if len(h) != len(wrote[k]) {
				return fmt.Errorf("%s heard %d versions of %s, %d were written", name, len(h), k, len(wrote[k]))
			}
		}
	}
	if crash {
		if crashedAt != (changes+1)/2 || len(onCrashed) == 0 || len(after) != services {
			return fmt.Errorf("crash after %d changes (want %d), of the peer of %v; %d services heard changes after it",
				crashedAt, (changes+1)/2, onCrashed, len(after))
		}
		for _, name := range onCrashed {
			if !resumed[name] {
				return fmt.Errorf("%s's peer crashed: it did not resume on a new session", name)
			}
		}
	} else if crashedAt >= 0 {
		return errors.New("a crash without -kill-leader")
	}
	if !strings.Contains(out, "\nOK: every service saw every change") || strings.Contains(out, "FAILED") {
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
	if err := checkOutput(out, 6, 3, false); err != nil {
		t.Fatalf("%v; output:\n%s", err, out)
	}
}

// TestQuickKillLeader runs the CI mode on 3 peers over TCP, the leader
// crashing half-way.
func TestQuickKillLeader(t *testing.T) {
	out := runQuick(t, "-peers", "3", "-kill-leader")
	if err := checkOutput(out, 6, 3, true); err != nil {
		t.Fatalf("%v; output:\n%s", err, out)
	}
}

// TestCheckerBites: the checker refuses doctored outputs.
func TestCheckerBites(t *testing.T) {
	good := strings.Join([]string{
		"   0.144s  api       (loaded)          TreeCache of /config/app: db.url v0, pool.size v0",
		"   0.146s  search    (loaded)          NodeCache of /config/app/db.url: db.url v0",
		"   0.146s  writer    db.url      v1    mysql://db-2",
		"   0.147s  api       db.url      v1    mysql://db-2    +0.7ms",
		"   0.147s  search    db.url      v1    mysql://db-2    +0.9ms",
		"   0.157s  writer    pool.size   v1    20",
		"   0.159s  api       pool.size   v1    20              +1.1ms",
		"   0.171s  ── crash: peer 2, the leader, stops as under kill -9 (api's session lives there)",
		"   0.183s  writer    db.url      v2    mysql://db-3",
		"   0.193s  api       (resumes)         from zxid 0x10000000d, with a new session on peer 3 (its peer crashed)",
		"   0.204s  api       db.url      v2    mysql://db-3    +21.0ms",
		"   0.204s  search    db.url      v2    mysql://db-3    +1.021s",
		"",
		"OK: every service saw every change of its keys, once, in order, and holds what the tree holds.",
	}, "\n")
	if err := checkOutput(good, 3, 2, true); err != nil {
		t.Fatalf("the good output is refused: %v", err)
	}
	lines := strings.Split(good, "\n")
	drop := func(i int) string { return strings.Replace(good, lines[i]+"\n", "", 1) }
	bad := map[string]string{
		"a change missed":      drop(10),
		"a change twice":       strings.Replace(good, lines[10], lines[10]+"\n"+lines[10], 1),
		"out of order":         strings.Replace(strings.Replace(good, lines[6]+"\n", "", 1), lines[3], lines[3]+"\n"+lines[6], 1),
		"the wrong value":      strings.Replace(good, "v2    mysql://db-3    +21", "v2    mysql://db-9    +21", 1),
		"a key not held":       strings.Replace(good, "search    db.url      v1", "search    pool.size   v1", 1),
		"a service not loaded": drop(1),
		"no resume":            drop(9),
		"another one resumes":  strings.Replace(good, "0.193s  api       (resumes)", "0.193s  search    (resumes)", 1),
		"crash too early":      strings.Replace(drop(7), lines[2], lines[2]+"\n"+lines[7], 1),
		"a write missing":      drop(8),
		"the proof failed":     good + "\nFAILED: api",
	}
	for name, out := range bad {
		if err := checkOutput(out, 3, 2, true); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := checkOutput(good, 3, 2, false); err == nil {
		t.Error("a crash in a run without -kill-leader: accepted")
	}
}

// TestBadFlags: bad flags are refused with exit 2 and a message.
func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-watchers", "0"}, {"-watchers", "7"}, {"-changes", "0"}, {"-peers", "2"}, {"-kill-leader"},
		{"-every", "-1s"}, {"-tick", "0"}, {"-nosuch"}, {"extra"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || errb.Len() == 0 || out.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q", args, code, errb.String(), out.String())
		}
	}
}
