package transport

import (
	"testing"
	"time"
)

// await skips tr's events until one is kind from peer.
func await(t testing.TB, tr Transport, kind EventKind, peer int64) Event {
	t.Helper()
	for {
		if ev := nextEvent(t, tr); ev.Kind == kind && ev.Peer == peer {
			return ev
		}
	}
}

// TestTCPHalfOpenDetected: when a connection goes silent without closing,
// both sides break it after IdleTimeout, and the dialer reconnects.
func TestTCPHalfOpenDetected(t *testing.T) {
	var px *proxy
	g := startGroup(t, []int64{1, 2}, func(c *TCPConfig) {
		c.Heartbeat, c.IdleTimeout = 20*time.Millisecond, 500*time.Millisecond
		if c.ID == 2 {
			px = startProxy(t, c.Peers[1])
			c.Peers = map[int64]string{1: px.addr()}
		}
	})
	await(t, g.tr(1), EventUp, 2)
	await(t, g.tr(2), EventUp, 1)
	// No new connection gets through until both sides saw the silence:
	// otherwise peer 2, finding it first, reconnects, and peer 1's new
	// connection replaces the silent one before its own idle timeout.
	px.isolate()
	await(t, g.tr(1), EventDown, 2)
	await(t, g.tr(2), EventDown, 1)
	g.nodes[1].log.Wait(t, "connection down", "timeout")
	px.rejoin()
	await(t, g.tr(1), EventUp, 2)
	await(t, g.tr(2), EventUp, 1)
}

// TestTCPRestartWhileHalfOpen: peer 2 restarts while peer 1 still holds its
// old, silent connection; the new connection replaces it at once, long
// before the idle timeout would have.
func TestTCPRestartWhileHalfOpen(t *testing.T) {
	var px *proxy
	var cfg2 TCPConfig
	g := startGroup(t, []int64{1, 2}, func(c *TCPConfig) {
		c.IdleTimeout = time.Hour
		if c.ID == 2 {
			px = startProxy(t, c.Peers[1])
			c.Peers = map[int64]string{1: px.addr()}
			cfg2 = *c
		}
	})
	expect(t, g.tr(1), EventUp, 2)
	expect(t, g.tr(2), EventUp, 1)
	px.blackhole()
	g.tr(2).Close()
	log := NewLogCapture(t)
	cfg2.Listener = listenLocal(t)
	cfg2.Logger = log.Logger()
	n2 := g.start(2, cfg2, log)
	expect(t, g.tr(1), EventDown, 2)
	expect(t, g.tr(1), EventUp, 2)
	expect(t, n2.tr, EventUp, 1)
	if err := n2.tr.Send(1, []byte("after restart")); err != nil {
		t.Fatal(err)
	}
	if ev := expect(t, g.tr(1), EventFrame, 2); string(ev.Frame) != "after restart" {
		t.Fatalf("got %q", ev.Frame)
	}
}

// TestTCPCloseDuringHandshakes: Close interrupts handshakes in progress,
// both dialing out to a peer that never answers and accepting a client
// that never speaks.
func TestTCPCloseDuringHandshakes(t *testing.T) {
	mute := listenLocal(t)
	defer mute.Close()
	g := startGroup(t, []int64{2}, func(c *TCPConfig) {
		c.Peers = map[int64]string{1: mute.Addr().String(), 3: closedAddr(t)}
		c.HandshakeTimeout = time.Hour
	})
	conn, err := mute.Accept() // peer 2 is now waiting for an answer
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := dialRaw(t, g.addrs[2])
	r.write([]byte(magic)) // and nothing more (not even the version)
	g.tr(2).Close()
	r.expectClosed()
	if _, ok := <-g.tr(2).Events(); ok {
		t.Fatal("Events not closed")
	}
}

// TestTCPCloseWithStalledConsumer: Close returns while the consumer reads
// nothing and frames keep arriving.
func TestTCPCloseWithStalledConsumer(t *testing.T) {
	g := startGroup(t, []int64{1, 2}, func(c *TCPConfig) { c.EventBuffer = 1 })
	expect(t, g.tr(2), EventUp, 1)
	for i := range 200 {
		if err := g.tr(2).Send(1, make([]byte, 1000)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	g.tr(1).Close()
	await(t, g.tr(2), EventDown, 1)
}
