package testbuf

import (
	"context"
	"log/slog"
	"sync"
)

// Records is a slog.Handler that keeps each record as "LEVEL message"
// (attributes and groups are dropped), for tests that read what a logger
// wrote, line by line.
type Records struct {
	mu    sync.Mutex
	lines []string
}

// Enabled keeps every level.
func (s *Records) Enabled(context.Context, slog.Level) bool { return true }

// Handle keeps r as "LEVEL message".
func (s *Records) Handle(_ context.Context, r slog.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, r.Level.String()+" "+r.Message)
	return nil
}

// WithAttrs returns s: attributes are not kept.
func (s *Records) WithAttrs([]slog.Attr) slog.Handler { return s }

// WithGroup returns s: groups are not kept.
func (s *Records) WithGroup(string) slog.Handler { return s }

// Take returns the records kept since the last Take.
func (s *Records) Take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.lines
	s.lines = nil
	return out
}
