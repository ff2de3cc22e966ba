package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReviewWriteAfterClose: a line written after the closer ran reopens
// the file, and nothing closes it again.
func TestReviewWriteAfterClose(t *testing.T) {
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
