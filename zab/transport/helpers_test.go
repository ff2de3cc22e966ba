package transport

import "time"

// testTimeout bounds every wait in this package's tests.
const testTimeout = 20 * time.Second

func newTestTimer() *time.Timer { return time.NewTimer(testTimeout) }
