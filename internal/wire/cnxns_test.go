package wire_test

import (
	"testing"
)

// TestMaxClientCnxnsIsPerAddress: MaxClientCnxns is ZooKeeper's limit of
// one client address's connections, not of the peer's sessions. With a
// limit of 2, the host's own sessions (no address) are not counted, and
// two connections from 127.0.0.1 each get a session (the client port
// counted the connection; the engine does not count its session again).
func TestMaxClientCnxnsIsPerAddress(t *testing.T) {
	cfg := peerConfig()
	cfg.MaxClientCnxns = 2
	e := startPeer(t, cfg)
	for i := 0; i < 3; i++ {
		if _, err := e.NewSession(testCtx(t)); err != nil {
			t.Fatalf("in-process session %d: %v", i, err)
		}
	}
	a, _ := dial(t, e.ClientAddr())
	b, _ := dial(t, e.ClientAddr())
	if _, err := a.Create("/a", nil, 0, open); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create("/b", nil, 0, open); err != nil {
		t.Fatal(err)
	}
	if n := e.Status().Sessions; n != 5 {
		t.Fatalf("%d sessions attached, want 5", n)
	}
}

// TestMaxCnxnsPerPort: MaxCnxns (ZooKeeper's maxCnxns) limits all the
// connections of the client port, whatever their address: with a limit of
// 2 a third is closed as it is accepted, and one closed makes room again.
func TestMaxCnxnsPerPort(t *testing.T) {
	cfg := peerConfig()
	cfg.MaxCnxns = 2
	thirdConnectionRefused(t, cfg)
}
