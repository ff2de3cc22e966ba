package engine

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// seededReader is a deterministic io.Reader for Config.Rand.
type seededReader struct{ r *rand.Rand }

func (s seededReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(s.r.Uint32())
	}
	return len(p), nil
}

func newSeeded(seed uint64) seededReader {
	return seededReader{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// testConfig is a standalone, manually clocked config on an in-memory FS.
func testConfig(fs vfs.FS, seed uint64) Config {
	return Config{
		DataDir:     "/zk",
		FS:          fs,
		ManualClock: true,
		TickTime:    100 * time.Millisecond,
		Rand:        newSeeded(seed),
		SnapCount:   1000,
	}
}

// testCtx returns a context bounded so a hung test fails instead of hanging.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openTest opens an ensemble and waits until it serves.
func openTest(t testing.TB, cfg Config) *Ensemble {
	t.Helper()
	e, err := NewEnsemble(cfg)
	if err != nil {
		t.Fatalf("NewEnsemble: %v", err)
	}
	if err := e.WaitServing(testCtx(t)); err != nil {
		e.Close()
		t.Fatalf("WaitServing: %v", err)
	}
	return e
}

// standalone opens a fresh standalone ensemble closed at the end of the test.
func standalone(t testing.TB) *Ensemble {
	t.Helper()
	e := openTest(t, testConfig(vfs.NewMem(), 1))
	t.Cleanup(func() { e.Close() })
	return e
}

func newSession(t testing.TB, e *Ensemble, opts ...SessionOption) *Session {
	t.Helper()
	s, err := e.NewSession(testCtx(t), opts...)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	return s
}

// ticks advances a manually clocked ensemble n ticks.
func ticks(t testing.TB, e *Ensemble, n int) {
	t.Helper()
	ctx := testCtx(t)
	for i := 0; i < n; i++ {
		if err := e.Tick(ctx); err != nil {
			t.Fatalf("Tick: %v", err)
		}
	}
}

func mustCreate(t testing.TB, s *Session, path string, data string, opts ...CreateOption) string {
	t.Helper()
	p, err := s.Create(testCtx(t), path, []byte(data), opts...)
	if err != nil {
		t.Fatalf("Create %s: %v", path, err)
	}
	return p
}
