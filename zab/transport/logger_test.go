package transport

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// LogCapture is a slog.Handler that keeps records for tests to wait on, and
// optionally echoes them to a test log.
type LogCapture struct {
	mu      sync.Mutex
	records []string
	notify  chan struct{}
	attrs   []slog.Attr
	root    *LogCapture
	t       testing.TB
}

// NewLogCapture makes a capturing handler; t, if not nil, gets every record.
func NewLogCapture(t testing.TB) *LogCapture {
	return &LogCapture{notify: make(chan struct{}), t: t}
}

// Logger returns a logger writing to c.
func (c *LogCapture) Logger() *slog.Logger { return slog.New(c) }

func (c *LogCapture) base() *LogCapture {
	if c.root != nil {
		return c.root
	}
	return c
}

func (c *LogCapture) Enabled(context.Context, slog.Level) bool { return true }

func (c *LogCapture) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	for _, a := range c.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	root := c.base()
	root.mu.Lock()
	defer root.mu.Unlock()
	root.records = append(root.records, b.String())
	close(root.notify)
	root.notify = make(chan struct{})
	if root.t != nil {
		root.t.Log(b.String())
	}
	return nil
}

func (c *LogCapture) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &LogCapture{root: c.base(), attrs: append(append([]slog.Attr(nil), c.attrs...), attrs...)}
}

func (c *LogCapture) WithGroup(string) slog.Handler { return c }

// Records returns the records so far.
func (c *LogCapture) Records() []string {
	root := c.base()
	root.mu.Lock()
	defer root.mu.Unlock()
	return append([]string(nil), root.records...)
}

// Wait waits until a record contains every one of parts.
func (c *LogCapture) Wait(t testing.TB, parts ...string) {
	t.Helper()
	c.WaitCount(t, 1, parts...)
}

// WaitCount waits until n records contain every one of parts.
func (c *LogCapture) WaitCount(t testing.TB, n int, parts ...string) {
	t.Helper()
	timer := newTestTimer()
	defer timer.Stop()
	root := c.base()
	for {
		root.mu.Lock()
		ch := root.notify
		found := 0
		for _, r := range root.records {
			if containsAll(r, parts) {
				found++
			}
		}
		root.mu.Unlock()
		if found >= n {
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			t.Fatalf("%d log records with %q, want %d; records:\n%s", found, parts, n, strings.Join(c.Records(), "\n"))
		}
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
