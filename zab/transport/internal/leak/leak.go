// Package leak checks that tests leave no goroutine of this module behind.
package leak

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

// modulePrefix marks the goroutines Check watches: those running
// code of this module.
const modulePrefix = "github.com/embedzk/zk/"

// Check records the goroutines alive now and registers a cleanup
// (run after the cleanups registered later) that fails t if a goroutine
// started since, and running code of this module, is still alive. It waits
// up to five seconds for stragglers that are already on their way out.
// Tests using it must not run in parallel with others of the module.
func Check(t testing.TB) {
	t.Helper()
	snap := Take()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			leaked := snap.Fresh()
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%d goroutines leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			runtime.Gosched()
		}
	})
}

// Snapshot is the set of goroutines alive at some point.
type Snapshot map[string]bool

// Take records the goroutines alive now (but the caller).
func Take() Snapshot {
	s := make(Snapshot)
	for _, g := range goroutines() {
		s[g.id] = true
	}
	return s
}

// Fresh returns the stacks of the goroutines, other than the caller,
// started since s and running code of this module.
func (s Snapshot) Fresh() []string {
	var out []string
	for _, g := range goroutines() {
		if !s[g.id] && strings.Contains(g.stack, modulePrefix) {
			out = append(out, g.stack)
		}
	}
	return out
}

type goroutine struct {
	id    string
	stack string
}

// goroutines lists every goroutine but the caller's.
func goroutines() []goroutine {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []goroutine
	for i, block := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 {
			continue // the caller
		}
		s := string(block)
		head, _, _ := strings.Cut(s, " [")
		out = append(out, goroutine{id: strings.TrimPrefix(head, "goroutine "), stack: s})
	}
	return out
}
