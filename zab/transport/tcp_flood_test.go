package transport_test

import (
	"net"
	"testing"
	"time"

	"github.com/embedzk/zk/zab/transport"
	"github.com/embedzk/zk/zab/transport/transporttest"
)

// rejoinBound bounds the waits of TestTCPRejoinDuringFlood.
const rejoinBound = 15 * time.Second

// TestTCPRejoinDuringFlood: an unauthenticated client holds 64 idle
// connections to every peer and re-dials each one the server closes; a
// restarted peer still rejoins both others while the flood runs. (Before
// handshakes were bounded per source with the oldest silent one closed to
// make room, the flood held every handshake slot and peer 3 stayed out.)
func TestTCPRejoinDuringFlood(t *testing.T) {
	transporttest.CheckGoroutines(t)
	ids := []int64{1, 2, 3}
	addrs := map[int64]string{}
	lns := map[int64]net.Listener{}
	for _, id := range ids {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[id], addrs[id] = ln, ln.Addr().String()
	}
	cfg := func(id int64) transport.TCPConfig {
		// Default timeouts and backoff (50ms doubling to 5s), as deployed.
		return transport.TCPConfig{ID: id, Peers: addrs, Secret: []byte("flood-test-secret-0123456789"),
			Logger: transport.NewLogCapture(t).Logger()}
	}
	trs := map[int64]*transport.TCP{}
	start := func(id int64, c transport.TCPConfig) {
		tr, err := transport.NewTCP(c)
		if err != nil {
			t.Fatal(err)
		}
		trs[id] = tr
		t.Cleanup(func() { tr.Close() })
	}
	for _, id := range ids {
		c := cfg(id)
		c.Listener = lns[id]
		start(id, c)
	}
	awaitUps(t, trs[3], 1, 2)
	const perPeer = 64
	f := transporttest.StartFlood(t, perPeer, addrs[1], addrs[2], addrs[3])
	for _, id := range ids {
		f.WaitLive(t, addrs[id], perPeer, rejoinBound)
	}
	// Restart peer 3 on its address while the flood runs.
	trs[3].Close()
	c := cfg(3)
	c.Listen = addrs[3]
	start(3, c)
	awaitUps(t, trs[3], 1, 2)
	for _, id := range []int64{1, 2} {
		awaitUps(t, trs[id], 3) // after the Down of the old connection
	}
	if err := trs[3].Send(1, []byte("back")); err != nil {
		t.Fatal(err)
	}
	before := f.Dials(addrs[1])
	f.WaitLive(t, addrs[1], 1, rejoinBound)
	if f.Dials(addrs[1]) <= perPeer || before == 0 {
		t.Fatalf("the flood made %d connections to peer 1: it never had to re-dial", f.Dials(addrs[1]))
	}
}

// awaitUps skips tr's events until it has seen EventUp from every one of
// peers, failing after rejoinBound.
func awaitUps(t testing.TB, tr transport.Transport, peers ...int64) {
	t.Helper()
	timer := time.NewTimer(rejoinBound)
	defer timer.Stop()
	missing := make(map[int64]bool)
	for _, p := range peers {
		missing[p] = true
	}
	for len(missing) > 0 {
		select {
		case ev, ok := <-tr.Events():
			if !ok {
				t.Fatalf("peer %d: Events closed", tr.ID())
			}
			if ev.Kind == transport.EventUp {
				delete(missing, ev.Peer)
			}
		case <-timer.C:
			t.Fatalf("peer %d: no connection from %v within %v", tr.ID(), missing, rejoinBound)
		}
	}
}
