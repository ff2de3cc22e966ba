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
	stepHead  = regexp.MustCompile(`^\((\d)\) `)
	statusRow = regexp.MustCompile(`^    server\.(\d)  (?:Mode: (leader|follower|observer)\s+epoch (\d+), zxid 0x[0-9a-f]+(?:, leader server\.(\d))?|Error contacting service\. It is probably not running\.  \[(stopped|running, not serving: .*)\])`)
	createRow = regexp.MustCompile(`^\s*\d+\.\d{3}s  client\s+create (\S+) "[^"]*" through server\.\d: (done, zxid 0x[0-9a-f]+|FAILS: .*)$`)
	getRow    = regexp.MustCompile(`^\s*\d+\.\d{3}s  client\s+get (\S+) through server\.\d: ("hello"|FAILS: .*)`)
)

// wantStatus is the seeds' story: each step's status of servers 1..4, as
// L (leader), Fn (follows n), On (observes n), S (stopped), N (running,
// not serving). Step 4 prints no status.
var wantStatus = map[int]string{
	1: "N S S N", 2: "F2 L S O2", 3: "F2 L F2 O2", 5: "F2 L S O2", 6: "S N S N", 7: "F2 L S O2", 8: "F3 S L O3", 9: "F3 F3 L O3",
}

// wantWrites is each step's writes and reads: + done, - refused.
var wantWrites = map[int]string{4: "create+ get+", 5: "create+", 6: "create- get-", 7: "create+", 8: "create+"}

// checkOutput checks the facts a run's output states: every step's
// status lines are the seeds' story (with the observer, server.4 observes
// whoever leads), epochs grow with each election, the writes go through
// while a quorum runs and are refused without one, and the proof passed.
func checkOutput(out string, observer bool) error {
	step := 0
	status := map[int][]string{}
	ops := map[int][]string{}
	epochs := map[int]int{} // step -> the leader's epoch
	for _, line := range strings.Split(out, "\n") {
		if m := stepHead.FindStringSubmatch(line); m != nil {
			step, _ = strconv.Atoi(m[1])
			continue
		}
		if m := statusRow.FindStringSubmatch(line); m != nil {
			status[step] = append(status[step], statusCode(m))
			if m[2] == "leader" {
				epochs[step], _ = strconv.Atoi(m[3])
			}
			continue
		}
		if m := createRow.FindStringSubmatch(line); m != nil {
			ops[step] = append(ops[step], "create"+sign(strings.HasPrefix(m[2], "done")))
			continue
		}
		if m := getRow.FindStringSubmatch(line); m != nil {
			ops[step] = append(ops[step], "get"+sign(!strings.HasPrefix(m[2], "FAILS")))
		}
	}
	if step != 9 {
		return fmt.Errorf("the output ends at step %d, want 9", step)
	}
	for s := 1; s <= 9; s++ {
		want := wantStatus[s]
		if !observer && want != "" {
			want = want[:strings.LastIndexByte(want, ' ')]
		}
		if got := strings.Join(status[s], " "); got != want {
			return fmt.Errorf("step %d: status %q, want %q", s, got, want)
		}
		if got := strings.Join(ops[s], " "); got != wantWrites[s] {
			return fmt.Errorf("step %d: writes and reads %q, want %q", s, got, wantWrites[s])
		}
	}
	if !(epochs[2] == epochs[3] && epochs[3] == epochs[5] && epochs[5] < epochs[7] && epochs[7] < epochs[8] && epochs[8] == epochs[9]) {
		return fmt.Errorf("the leaders' epochs %v: want a new epoch at each election only", epochs)
	}
	if !strings.Contains(out, "\nOK: the ensemble served") || strings.Contains(out, "FAILED") {
		return errors.New("the proof did not pass")
	}
	return nil
}

// statusCode abbreviates a status line's match.
func statusCode(m []string) string {
	switch m[2] {
	case "leader":
		return "L"
	case "follower":
		return "F" + m[4]
	case "observer":
		return "O" + m[4]
	}
	if m[5] == "stopped" {
		return "S"
	}
	return "N"
}

func sign(ok bool) string {
	if ok {
		return "+"
	}
	return "-"
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

// TestQuick runs the CI mode: the seeds' 3 servers.
func TestQuick(t *testing.T) {
	out := runQuick(t)
	if err := checkOutput(out, false); err != nil {
		t.Fatalf("%v; output:\n%s", err, out)
	}
}

// TestQuickObserver runs the CI mode with the seeds' observer, server.4.
func TestQuickObserver(t *testing.T) {
	out := runQuick(t, "-observer")
	if err := checkOutput(out, true); err != nil {
		t.Fatalf("%v; output:\n%s", err, out)
	}
}

// goodOutput is a run's output, cut to the lines the checker reads.
const goodOutput = `(1) Start server.1
    server.1  Error contacting service. It is probably not running.  [running, not serving: looking for a leader (starting)]
    server.2  Error contacting service. It is probably not running.  [stopped]
    server.3  Error contacting service. It is probably not running.  [stopped]
(2) Start server.2
    server.1  Mode: follower  epoch 1, zxid 0x0, leader server.2
    server.2  Mode: leader    epoch 1, zxid 0x0; learners: 1 lag 0
    server.3  Error contacting service. It is probably not running.  [stopped]
(3) Start server.3
    server.1  Mode: follower  epoch 1, zxid 0x0, leader server.2
    server.2  Mode: leader    epoch 1, zxid 0x0; learners: 1 lag 0, 3 lag 0
    server.3  Mode: follower  epoch 1, zxid 0x0, leader server.2
(4) Write through one server, read through another
   0.697s  client     create /walkthrough/w-1 "hello" through server.1: done, zxid 0x100000004
   0.702s  client     get /walkthrough/w-1 through server.3: "hello", mzxid 0x100000004
(5) Stop server.3 (a follower)
   0.722s  client     create /walkthrough/w-2 "still serving" through server.1: done, zxid 0x100000009
    server.1  Mode: follower  epoch 1, zxid 0x10000000b, leader server.2
    server.2  Mode: leader    epoch 1, zxid 0x10000000b; learners: 1 lag 1
    server.3  Error contacting service. It is probably not running.  [stopped]
(6) Stop server.1 too
   0.730s  client     create /walkthrough/w-3 "no quorum" through server.2: FAILS: zk: create /walkthrough/w-3: peer is not serving
   0.730s  client     get /walkthrough/w-1 through server.2: FAILS: zk: get /walkthrough/w-1: peer is not serving
    server.1  Error contacting service. It is probably not running.  [stopped]
    server.2  Error contacting service. It is probably not running.  [running, not serving: looking for a leader (lost the quorum)]
    server.3  Error contacting service. It is probably not running.  [stopped]
(7) Start server.1 again
   0.812s  client     create /walkthrough/w-4 "serving again" through server.1: done, zxid 0x200000003
    server.1  Mode: follower  epoch 2, zxid 0x200000004, leader server.2
    server.2  Mode: leader    epoch 2, zxid 0x200000004; learners: 1 lag 0
    server.3  Error contacting service. It is probably not running.  [stopped]
(8) Start server.3, then stop server.2 (the leader)
   0.858s  client     create /walkthrough/w-5 "new leader" through server.1: done, zxid 0x300000002
    server.1  Mode: follower  epoch 3, zxid 0x300000003, leader server.3
    server.2  Error contacting service. It is probably not running.  [stopped]
    server.3  Mode: leader    epoch 3, zxid 0x300000003; learners: 1 lag 0
(9) Start server.2 again
    server.1  Mode: follower  epoch 3, zxid 0x300000003, leader server.3
    server.2  Mode: follower  epoch 3, zxid 0x300000003, leader server.3
    server.3  Mode: leader    epoch 3, zxid 0x300000003; learners: 1 lag 0, 2 lag 0

OK: the ensemble served while a quorum ran, stopped without one, and lost no acknowledged write.`

// TestCheckerBites: the checker refuses doctored outputs.
func TestCheckerBites(t *testing.T) {
	if err := checkOutput(goodOutput, false); err != nil {
		t.Fatalf("the good output is refused: %v", err)
	}
	if err := checkOutput(goodOutput, true); err == nil {
		t.Error("an output without the observer passes as one with it")
	}
	bad := map[string]string{
		"server.2 leads again after step 8": strings.Replace(strings.Replace(goodOutput,
			"server.1  Mode: follower  epoch 3, zxid 0x300000003, leader server.3\n    server.2  Error",
			"server.1  Mode: follower  epoch 3, zxid 0x300000003, leader server.2\n    server.2  Error", 1),
			"server.3  Mode: leader    epoch 3, zxid 0x300000003; learners: 1 lag 0\n(9)",
			"server.3  Mode: follower  epoch 3, zxid 0x300000003, leader server.2\n(9)", 1),
		"served without a quorum": strings.Replace(goodOutput, `"no quorum" through server.2: FAILS: zk: create /walkthrough/w-3: peer is not serving`,
			`"no quorum" through server.2: done, zxid 0x10000000c`, 1),
		"read without a quorum": strings.Replace(goodOutput, "through server.2: FAILS: zk: get /walkthrough/w-1: peer is not serving",
			`through server.2: "hello"`, 1),
		"a write lost its way": strings.Replace(goodOutput, `"new leader" through server.1: done`, `"new leader" through server.1: FAILS: zk: peer is not serving`, 1),
		"no new epoch":         strings.ReplaceAll(goodOutput, "epoch 3,", "epoch 2,"),
		"a step missing":       goodOutput[:strings.Index(goodOutput, "(9)")],
		"the proof failed":     goodOutput + "\nFAILED: writes",
		"a server not stopped": strings.Replace(goodOutput, "[stopped]", "[running, not serving: looking for a leader]", 1),
	}
	for name, out := range bad {
		if err := checkOutput(out, false); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestBadFlags: bad flags are refused with exit 2 and a message.
func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-tick", "1ms"}, {"-tick", "1m"}, {"-timeout", "0"}, {"-nosuch"}, {"extra"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || errb.Len() == 0 || out.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q", args, code, errb.String(), out.String())
		}
	}
}
