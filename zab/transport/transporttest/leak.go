package transporttest

import (
	"testing"

	"github.com/embedzk/zk/zab/transport/internal/leak"
)

// CheckGoroutines records the goroutines alive now and registers a cleanup
// (run after the cleanups registered later) that fails t if a goroutine
// started since, and running code of this module, is still alive. It waits
// up to five seconds for stragglers already on their way out. Tests using it
// must not run in parallel with other tests of the module.
func CheckGoroutines(t testing.TB) {
	t.Helper()
	leak.Check(t)
}
