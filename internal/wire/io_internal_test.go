package wire

import (
	"flag"
	"testing"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/testbuf"
)

var testIO = flag.String("wire.io", "", "the client port's I/O in this package's tests (Config.ClientIO): io_uring, goroutines, or empty for the default")

// ClientIOForTests is the Config.ClientIO this package's tests give their
// peers (-wire.io).
func ClientIOForTests() string { return *testIO }

// ExpectedClientIO is the I/O layer this test run's servers should use:
// -wire.io's, or by default io_uring wherever the kernel allows it.
func ExpectedClientIO() string {
	switch {
	case *testIO != "":
		return *testIO
	case ringAvailable() == nil:
		return engine.ClientIOUring
	}
	return engine.ClientIOGoroutines
}

// TestClientIOChoice says which I/O layer this run's servers use, and why
// (.ci/run prints it); it fails when the run asks for io_uring and the
// kernel refuses it.
func TestClientIOChoice(t *testing.T) {
	if ExpectedClientIO() == engine.ClientIOUring && ringAvailable() != nil {
		t.Fatalf("-wire.io io_uring, but this kernel refuses io_uring: %v", ringAvailable())
	}
	t.Logf("client port I/O in this run: %s (-wire.io %q; io_uring here: %v)", ExpectedClientIO(), *testIO, errOrOK(ringAvailable()))
}

func errOrOK(err error) string {
	if err != nil {
		return "refused: " + err.Error()
	}
	return "allowed"
}

// usesRing reports whether a server of this test run serves its
// connections from the ring, and checks that it is the choice -wire.io
// asked for (the default takes the ring wherever the kernel allows it).
func usesRing(t *testing.T, srv *Server) bool {
	t.Helper()
	want := ExpectedClientIO() == engine.ClientIOUring
	if got := srv.ring != nil; got != want {
		t.Fatalf("the server serves from a ring: %v, want %v (-wire.io %q, io_uring: %v)", got, want, *testIO, ringAvailable())
	}
	return want
}

// LogBuffer collects a logger's output; it is safe for concurrent writes.
type LogBuffer = testbuf.Buffer
