package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk"
)

// TestWidth: wide characters take two cells, so Chinese names line up.
func TestWidth(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "携程": 4, "去哪儿-2": 8, "ｘ": 2, "é": 1, "한": 2} {
		if got := Width(s); got != want {
			t.Errorf("Width(%q) = %d, want %d", s, got, want)
		}
	}
	if got := Pad("携程", 6); got != "携程  " {
		t.Errorf("Pad: %q", got)
	}
	if got := Pad("toolong", 3); got != "toolong" {
		t.Errorf("Pad of a longer text: %q", got)
	}
}

// TestRowsAlign: the cells of rows start at the same cell whatever the
// width of the characters before them.
func TestRowsAlign(t *testing.T) {
	var b bytes.Buffer
	n := NewNarrator(&b, 10, 6)
	n.Header("who", "ticket", "what")
	n.Row("携程-1", "#01", "sold")
	n.Row("worker-a", "#02", "sold")
	n.Row("peer 1", "", "")
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	col := func(line, cell string) int { return Width(line[:strings.Index(line, cell)]) }
	if a, b := col(lines[1], "#01"), col(lines[2], "#02"); a != b || a != col(lines[0], "ticket") {
		t.Errorf("columns at %d and %d:\n%s", a, b, strings.Join(lines, "\n"))
	}
	if strings.HasSuffix(lines[3], " ") {
		t.Errorf("trailing spaces: %q", lines[3])
	}
	if !strings.HasPrefix(strings.TrimSpace(lines[1]), "0.0") {
		t.Errorf("no time since the start: %q", lines[1])
	}
}

// TestPara wraps narration at 78 cells, indented.
func TestPara(t *testing.T) {
	var b bytes.Buffer
	NewNarrator(&b).Para(strings.Repeat("word ", 40) + strings.Repeat("字", 10))
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		if Width(line) > 78 || !strings.HasPrefix(line, "  ") {
			t.Errorf("line of %d cells: %q", Width(line), line)
		}
	}
}

// TestCluster: a 3-peer cluster serves, reports its elections, and after
// its leader crashes elects another one among the peers alive.
func TestCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := StartCluster(ctx, ClusterOptions{Peers: 3, TickTime: 300 * time.Millisecond, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	old := c.Leader()
	if old < 0 {
		t.Fatal("no leader once every peer serves")
	}
	heard := make(chan zk.Status, 64)
	c.OnStatus(func(_ int, st zk.Status) { heard <- st })
	c.Crash(old)
	if !c.Crashed(old) || len(c.Alive()) != 2 || c.NextAlive(old) == old {
		t.Fatalf("after crashing %d: alive %v, next %d", old, c.Alive(), c.NextAlive(old))
	}
	for {
		select {
		case st := <-heard:
			if st.Mode == zk.ModeLeading && st.Serving && st.ID != int64(old+1) {
				if got := c.Leader(); got == old {
					t.Fatalf("Leader() = %d after %d crashed", got, old)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("no new leader reported")
		}
	}
}

// TestRetry: transient errors are retried, others returned at once, and
// the context bounds the tries.
func TestRetry(t *testing.T) {
	n := 0
	err := Retry(context.Background(), func() error {
		if n++; n < 3 {
			return fmt.Errorf("wrapped: %w", zk.ErrNotServing)
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("after transient errors: %v after %d calls", err, n)
	}
	n = 0
	if err := Retry(context.Background(), func() error { n++; return zk.ErrNoNode }); !errors.Is(err, zk.ErrNoNode) || n != 1 {
		t.Fatalf("a lasting error: %v after %d calls", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Retry(ctx, func() error { return zk.ErrConnectionLoss }); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled context: %v", err)
	}
}
