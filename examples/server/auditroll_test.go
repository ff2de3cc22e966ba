package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRollingFileRolls: at the size limit the file rolls over before the
// next line, the rolled files shift up (.1 the newest), the oldest past
// keep is dropped, and no line is split or lost among those kept.
func TestRollingFileRolls(t *testing.T) {
	path := filepath.Join(t.TempDir(), auditFile)
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := openRolling(path, 10, 3) // "line NN\n" is 8 bytes: two lines a file
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := 1; i <= 9; i++ {
		if _, err := fmt.Fprintf(w, "line %02d\n", i); err != nil {
			t.Fatal(err)
		}
	}
	// The file went on from "old\n" (4 bytes): old+01 (12 bytes), then
	// 02+03, 04+05, 06+07, 08+09; the first two were dropped.
	for suffix, want := range map[string]string{
		"":   "line 08\nline 09\n",
		".1": "line 06\nline 07\n",
		".2": "line 04\nline 05\n",
		".3": "line 02\nline 03\n",
	} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("%s%s: %q, want %q", auditFile, suffix, b, want)
		}
	}
	if _, err := os.Stat(path + ".4"); err == nil {
		t.Errorf("%s.4 kept beyond keep=3", auditFile)
	}
}

// TestAuditRollFailureReported: a rollover that fails (the oldest rolled
// file cannot be deleted) is reported on the server's log once, the line
// is still written to the file, and the log goes on once it can roll.
func TestAuditRollFailureReported(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, auditFile)
	w, err := openRolling(path, 10, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	blocker := path + ".2"
	if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o755); err != nil { // a directory that is not empty
		t.Fatal(err)
	}
	var logged bytes.Buffer
	h := &auditHandler{w: w, log: slog.New(slog.NewTextHandler(&logged, nil))}
	write := func(msg string) error {
		return h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, msg, 0))
	}
	if err := write(strings.Repeat("a", 20)); err != nil { // fills the file
		t.Fatal(err)
	}
	for _, msg := range []string{"b", "c"} {
		if err := write(msg); err == nil {
			t.Fatalf("%s: the failed rollover was not returned", msg)
		}
	}
	if n := strings.Count(logged.String(), "writing the audit log"); n != 1 {
		t.Errorf("the failure reported %d times, want once:\n%s", n, logged.String())
	}
	if b, _ := os.ReadFile(path); strings.Count(string(b), "\n") != 3 {
		t.Errorf("%s: %q, want the three lines in it", auditFile, b)
	}
	if err := os.RemoveAll(blocker); err != nil {
		t.Fatal(err)
	}
	if err := write("d"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !strings.HasSuffix(string(b), "Slf4jAuditLogger: d\n") || strings.Count(string(b), "\n") != 1 {
		t.Errorf("after the blocker went, %s: %q, want the new line alone", auditFile, b)
	}
}

// TestRollingFileWriteAfterClose: a line written after Close fails and
// does not reopen the file (nothing would close it again).
func TestRollingFileWriteAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), auditFile)
	w, err := openRolling(path, 1<<20, 2)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := w.Write([]byte("late\n")); err == nil && w.f != nil {
		b, _ := os.ReadFile(path)
		t.Fatalf("a write after Close reopened the file (%q written, its descriptor left open)", b)
	}
}
