package wire

import (
	"flag"
	"testing"

	"github.com/embedzk/zk/internal/engine"
)

var testIO = flag.String("wire.io", "", "the client port's I/O in this package's tests (Config.ClientIO): io_uring, goroutines, or empty for the default")

// ClientIOForTests is the Config.ClientIO this package's tests give their
// peers (-wire.io).
func ClientIOForTests() string { return *testIO }

// usesRing reports whether a server of this test run serves its
// connections from the ring, and checks that it is the choice -wire.io
// asked for (the default takes the ring wherever the kernel allows it).
func usesRing(t *testing.T, srv *Server) bool {
	t.Helper()
	want := *testIO == engine.ClientIOUring || (*testIO == "" && ringAvailable() == nil)
	if got := srv.ring != nil; got != want {
		t.Fatalf("the server serves from a ring: %v, want %v (-wire.io %q, io_uring: %v)", got, want, *testIO, ringAvailable())
	}
	return want
}
