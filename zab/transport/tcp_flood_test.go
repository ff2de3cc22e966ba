package transport

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// flood is an unauthenticated client that holds idle connections open to
// some addresses: per address, a fixed number of connections that say
// nothing, each re-dialled as soon as the server closes it. It stops by
// itself at the end of the test.
type flood struct {
	stop chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	cond  *sync.Cond            // on mu, broadcast on every change
	conns map[net.Conn]struct{} // guarded by mu: open connections
	live  map[string]int        // guarded by mu: open connections per address
	dials map[string]int        // guarded by mu: successful dials per address
}

// startFlood opens perAddr idle connections to each of addrs, and keeps
// them open (re-dialling) until the test ends.
func startFlood(t testing.TB, perAddr int, addrs ...string) *flood {
	f := &flood{
		stop:  make(chan struct{}),
		conns: make(map[net.Conn]struct{}),
		live:  make(map[string]int),
		dials: make(map[string]int),
	}
	f.cond = sync.NewCond(&f.mu)
	for _, addr := range addrs {
		for range perAddr {
			f.wg.Add(1)
			go f.hold(addr)
		}
	}
	t.Cleanup(f.close)
	return f
}

// hold keeps one idle connection to addr open until the flood stops.
func (f *flood) hold(addr string) {
	defer f.wg.Done()
	d := net.Dialer{Timeout: time.Second}
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		select {
		case <-f.stop:
			return
		default:
		}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			// The address is down (a peer restarting): retry soon.
			retry.Reset(time.Millisecond)
			select {
			case <-f.stop:
				return
			case <-retry.C:
			}
			continue
		}
		if !f.add(addr, c) {
			c.Close()
			return
		}
		_, _ = io.Copy(io.Discard, c) // until the server closes it (or the flood stops)
		f.remove(addr, c)
		c.Close()
	}
}

func (f *flood) add(addr string, c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.stop:
		return false
	default:
	}
	f.conns[c] = struct{}{}
	f.live[addr]++
	f.dials[addr]++
	f.cond.Broadcast()
	return true
}

func (f *flood) remove(addr string, c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.live[addr]--
	f.cond.Broadcast()
	f.mu.Unlock()
}

// waitLive waits until n connections to addr are open at once.
func (f *flood) waitLive(t testing.TB, addr string, n int) {
	t.Helper()
	deadline := time.AfterFunc(testTimeout, func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer deadline.Stop()
	start := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.live[addr] < n {
		if time.Since(start) > testTimeout {
			t.Fatalf("the flood holds %d connections to %s, want %d", f.live[addr], addr, n)
		}
		f.cond.Wait()
	}
}

func (f *flood) close() {
	f.mu.Lock()
	select {
	case <-f.stop:
		f.mu.Unlock()
		return
	default:
	}
	close(f.stop)
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// TestTCPRejoinDuringFlood: an unauthenticated client holds 64 idle
// connections to every peer and re-dials each one the server closes; a
// restarted peer still rejoins both others while the flood runs.
func TestTCPRejoinDuringFlood(t *testing.T) {
	var cfg3 TCPConfig
	g := startGroup(t, []int64{1, 2, 3}, func(c *TCPConfig) {
		c.Backoff = Backoff{} // the defaults: 50ms doubling to 5s
		if c.ID == 3 {
			cfg3 = *c
		}
	})
	for _, id := range []int64{1, 2} {
		await(t, g.tr(id), EventUp, 3)
	}
	const perPeer = 64
	f := startFlood(t, perPeer, g.addrs[1], g.addrs[2], g.addrs[3])
	for _, id := range []int64{1, 2, 3} {
		f.waitLive(t, g.addrs[id], perPeer)
	}
	// Restart peer 3 on its address.
	g.tr(3).Close()
	for _, id := range []int64{1, 2} {
		await(t, g.tr(id), EventDown, 3)
	}
	log := NewLogCapture(t)
	cfg3.Listener = nil
	cfg3.Listen = g.addrs[3]
	cfg3.Logger = log.Logger()
	n3 := g.start(3, cfg3, log)
	awaitUps(t, n3.tr, rejoinBound, 1, 2)
	for _, id := range []int64{1, 2} {
		awaitUps(t, g.tr(id), rejoinBound, 3)
	}
	// The flood was running throughout.
	f.waitLive(t, g.addrs[1], 1)
	if err := n3.tr.Send(1, []byte("back")); err != nil {
		t.Fatal(err)
	}
	await(t, g.tr(1), EventFrame, 3)
}

// rejoinBound bounds the wait for a restarted peer to rejoin during a flood.
const rejoinBound = 15 * time.Second

// awaitUps skips tr's events until it has seen EventUp from every one of
// peers, failing after d.
func awaitUps(t testing.TB, tr Transport, d time.Duration, peers ...int64) {
	t.Helper()
	timer := time.NewTimer(d)
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
			if ev.Kind == EventUp {
				delete(missing, ev.Peer)
			}
		case <-timer.C:
			t.Fatalf("peer %d: no connection from %v within %v", tr.ID(), missing, d)
		}
	}
}
