package transport

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk/zab/transport/internal/leak"
)

// TestStrangersJoin: peers 1 and 3 list only each other; peer 2, joining,
// lists all three. With AcceptStrangers, 2 dials 1 (the higher id dials)
// and knocks on 3 (which does not know it, so admits it and dials it back
// from then on); frames flow every way without anyone calling AddPeer.
// Without AcceptStrangers the same joiner gets nowhere.
func TestStrangersJoin(t *testing.T) {
	leak.Check(t)
	for _, accept := range []bool{true, false} {
		g := &group{t: t, addrs: map[int64]string{}, nodes: map[int64]*node{}}
		lns := map[int64]net.Listener{}
		for _, id := range []int64{1, 2, 3} {
			lns[id] = listenLocal(t)
			g.addrs[id] = lns[id].Addr().String()
		}
		for _, id := range []int64{1, 3, 2} {
			addrs := map[int64]string{1: g.addrs[1], 3: g.addrs[3]}
			if id == 2 {
				addrs[2] = g.addrs[2]
			}
			log := NewLogCapture(t)
			cfg := baseConfig(id, addrs, log)
			cfg.Listener = lns[id]
			cfg.AcceptStrangers = accept
			g.start(id, cfg, log)
		}
		g.nodes[3].log.Wait(t, "connection up", "remote=1")
		if !accept {
			g.nodes[1].log.Wait(t, "rejected connection", "claims id 2")
			noEvent(t, g.tr(2))
			for _, id := range []int64{1, 2, 3} {
				g.tr(id).Close()
			}
			continue
		}
		// 1 admitted 2's dial; 3 admitted 2's knock, learned its address
		// from the hello and dialed it back. The dial-back and the knock's
		// connection meet in either order on either side (a replacement,
		// or a close read as EOF first: CI saw both), so frames are sent
		// until they arrive (deliver), as ZAB resends after a reconnect.
		for _, id := range []int64{1, 3} {
			deliver(t, g, id, 2, "to the joiner")
			deliver(t, g, 2, id, "from the joiner")
		}
		g.nodes[3].log.WaitCount(t, 2, "connection up", "remote=2") // the knock's, then the dial-back's
		if err := g.tr(3).AddPeer(2, g.addrs[2]); err != nil {
			t.Fatalf("3 knows 2 at the address of its hello: %v", err)
		}
		for _, id := range []int64{1, 2, 3} {
			g.tr(id).Close()
		}
	}
}

// deliver sends msg from peer from to peer to until it arrives: whenever
// the connection between them goes down (on either side) or is not up
// (or the sender does not know the joiner yet), it waits for the next
// connection event and sends again. Copies that
// arrive later, and other connection events, are skipped by the callers'
// waits.
func deliver(t *testing.T, g *group, from, to int64, msg string) {
	t.Helper()
	timer := newTestTimer()
	defer timer.Stop()
	send := true
	for {
		if send {
			if err := g.tr(from).Send(to, []byte(msg)); err != nil && !errors.Is(err, ErrNotConnected) && !errors.Is(err, ErrUnknownPeer) {
				t.Fatalf("%d to %d: %v", from, to, err)
			}
			send = false
		}
		select {
		case ev := <-g.tr(to).Events():
			switch {
			case ev.Kind == EventFrame && ev.Peer == from && string(ev.Frame) == msg:
				return
			case ev.Peer == from && ev.Kind != EventFrame:
				send = true // a connection came or went: the frame may be lost
			}
		case ev := <-g.tr(from).Events():
			if ev.Peer == to && ev.Kind != EventFrame {
				send = true
			}
		case <-timer.C:
			t.Fatalf("%q from %d never reached %d", msg, from, to)
		}
	}
}

// expectFrame skips connection events (a knock's connection may be
// replaced by a dial-back) until the next frame from peer.
func expectFrame(t *testing.T, tr Transport, peer int64) Event {
	t.Helper()
	for {
		ev := nextEvent(t, tr)
		if ev.Kind == EventFrame && ev.Peer == peer {
			return ev
		}
		if ev.Kind == EventFrame {
			t.Fatalf("frame from %d while waiting for %d", ev.Peer, peer)
		}
	}
}

// TestStrangerRefusals: a stranger must prove the secret and name an
// address it can be dialed at; a refused one is not added.
func TestStrangerRefusals(t *testing.T) {
	g := startGroup(t, []int64{2}, func(c *TCPConfig) {
		c.Peers = map[int64]string{1: closedAddr(t)}
		c.AcceptStrangers = true
	})
	cases := []struct {
		from   int64
		addr   string
		secret []byte
		reason string
	}{
		{7, "", testSecret, "at address"},
		{7, "127.0.0.1:0", testSecret, "at address"},
		{7, "nowhere", testSecret, "at address"},
		{7, "0.0.0.0:9", testSecret, "at address"},
		{7, "[::]:9", testSecret, "at address"},
		{2, "127.0.0.1:9", testSecret, "claims id 2"},
		{7, "127.0.0.1:9", []byte("not-the-secret-0123456789"), "did not prove the shared secret"},
	}
	for _, c := range cases {
		r := dialRaw(t, g.addrs[2])
		err := dialHandshake(r.f, c.from, 2, c.secret, c.addr)
		if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("stranger %d at %q: %v, want a reject saying %q", c.from, c.addr, err, c.reason)
		}
		r.expectClosed()
	}
	if err := g.tr(2).AddPeer(7, "127.0.0.1:10"); err != nil {
		t.Fatalf("a refused stranger was added: %v", err)
	}
	noEvent(t, g.tr(2))
}

// TestStrangersBounded: a transport adds at most maxStrangers peers from
// hellos; past it a proven stranger is closed and not added, and a
// configuration listing a stranger (AddPeer) makes room again.
func TestStrangersBounded(t *testing.T) {
	g := startGroup(t, []int64{2}, func(c *TCPConfig) {
		c.Peers = map[int64]string{1: closedAddr(t)}
		c.AcceptStrangers = true
	})
	tr := g.tr(2)
	tr.mu.Lock()
	tr.maxStrangers = 1
	tr.mu.Unlock()
	hello := func(id int64) *rawPeer {
		r := dialRaw(t, g.addrs[2])
		if err := dialHandshake(r.f, id, 2, testSecret, fmt.Sprintf("127.0.0.1:%d", 9000+id)); err != nil {
			t.Fatalf("stranger %d: %v", id, err)
		}
		return r
	}
	hello(7)
	expect(t, tr, EventUp, 7)
	hello(8).expectClosed() // proven, but one stranger is the bound
	if tr.peer(8) != nil {
		t.Fatal("a stranger past the bound was added")
	}
	if err := tr.AddPeer(7, "127.0.0.1:9007"); err != nil { // a configuration lists 7 now
		t.Fatal(err)
	}
	hello(9)
	expect(t, tr, EventUp, 9)
}

// TestStrangerMoves: a stranger that says hello again from another address
// (a joiner restarted on another port) is dialed back there from then on;
// once a configuration lists it, a hello naming another address is refused.
func TestStrangerMoves(t *testing.T) {
	g := startGroup(t, []int64{5}, func(c *TCPConfig) {
		c.Peers = map[int64]string{1: closedAddr(t)}
		c.AcceptStrangers = true
	})
	tr := g.tr(5)
	hello := func(addr string) error {
		return dialHandshake(dialRaw(t, g.addrs[5]).f, 3, 5, testSecret, addr)
	}
	first, second := listenLocal(t), listenLocal(t)
	if err := hello(first.Addr().String()); err != nil {
		t.Fatal(err)
	}
	expect(t, tr, EventUp, 3)
	acceptDial(t, first) // 3 is lower: 5 dials it back at its hello's address
	first.Close()
	if err := hello(second.Addr().String()); err != nil {
		t.Fatalf("the stranger's hello from its new address: %v", err)
	}
	acceptDial(t, second) // and at the new one once 3 moved
	if got := tr.peer(3).address(); got != second.Addr().String() {
		t.Fatalf("5 knows 3 at %s, want %s", got, second.Addr())
	}
	if err := tr.AddPeer(3, second.Addr().String()); err != nil { // a configuration lists 3
		t.Fatal(err)
	}
	if err := hello(first.Addr().String()); !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "only the higher id") {
		t.Fatalf("a listed lower peer said hello from another address: %v", err)
	}
	if got := tr.peer(3).address(); got != second.Addr().String() {
		t.Fatalf("a hello moved a listed peer to %s", got)
	}
}

// acceptDial waits for a connection on ln and closes it.
func acceptDial(t *testing.T, ln net.Listener) {
	t.Helper()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(testTimeout))
	c, err := ln.Accept()
	if err != nil {
		t.Fatalf("no dial to %s: %v", ln.Addr(), err)
	}
	c.Close()
}
