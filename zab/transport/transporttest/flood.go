package transporttest

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Flood is an unauthenticated client that holds idle connections open: per
// address, a fixed number of connections that never send a byte, each
// re-dialled as soon as the server closes it (or, while nothing listens,
// about every millisecond). It stops by itself when the test ends; tests
// use it to show that such a client cannot keep peers apart.
type Flood struct {
	stop chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	cond  *sync.Cond            // on mu, broadcast on every change
	conns map[net.Conn]struct{} // guarded by mu: open connections
	live  map[string]int        // guarded by mu: open connections per address
	dials map[string]int        // guarded by mu: connections made per address
}

// StartFlood opens perAddr idle connections to each of addrs and keeps them
// open, re-dialling, until the test ends (or Stop).
func StartFlood(t testing.TB, perAddr int, addrs ...string) *Flood {
	f := &Flood{
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
	t.Cleanup(f.Stop)
	return f
}

// hold keeps one idle connection to addr open until the flood stops.
func (f *Flood) hold(addr string) {
	defer f.wg.Done()
	d := net.Dialer{Timeout: time.Second}
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			retry.Reset(time.Millisecond) // nothing listens (a peer restarting)
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
		_, _ = io.Copy(io.Discard, c) // until the server closes it, or Stop does
		f.remove(addr, c)
		c.Close()
	}
}

func (f *Flood) add(addr string, c net.Conn) bool {
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

func (f *Flood) remove(addr string, c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.live[addr]--
	f.cond.Broadcast()
	f.mu.Unlock()
}

// WaitLive waits until n connections to addr are open at once, failing the
// test after d.
func (f *Flood) WaitLive(t testing.TB, addr string, n int, d time.Duration) {
	t.Helper()
	expired := false
	timer := time.AfterFunc(d, func() {
		f.mu.Lock()
		expired = true
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer timer.Stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.live[addr] < n {
		if expired {
			t.Fatalf("the flood holds %d connections to %s, want %d", f.live[addr], addr, n)
		}
		f.cond.Wait()
	}
}

// Dials is how many connections the flood has made to addr so far.
func (f *Flood) Dials(addr string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dials[addr]
}

// Stop closes every connection and waits for the flood's goroutines.
func (f *Flood) Stop() {
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
