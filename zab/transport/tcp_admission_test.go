package transport

import (
	"net"
	"sync/atomic"
	"testing"
)

// fakeConn is a net.Conn from a given host that only records Close.
type fakeConn struct {
	net.Conn
	host   string
	closed atomic.Bool
}

func (c *fakeConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.ParseIP(c.host), Port: 1} }
func (c *fakeConn) Close() error         { c.closed.Store(true); return nil }

func TestAdmissionBounds(t *testing.T) {
	a := newAdmission(4, 2)
	conns := map[string]*fakeConn{}
	enter := func(name, host string) *pendingConn {
		c := &fakeConn{host: host}
		conns[name] = c
		pc, _ := a.enter(c)
		return pc
	}
	closed := func() (names []string) {
		for _, n := range []string{"a1", "a2", "a3", "b1", "c1", "c2", "d1", "d2"} {
			if c := conns[n]; c != nil && c.closed.Load() {
				names = append(names, n)
			}
		}
		return names
	}
	expectClosed := func(want ...string) {
		t.Helper()
		got := closed()
		if len(got) != len(want) {
			t.Fatalf("closed %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("closed %v, want %v", got, want)
			}
		}
	}
	a1 := enter("a1", "10.0.0.1")
	enter("a2", "10.0.0.1")
	b1 := enter("b1", "10.0.0.2")
	expectClosed()
	// A third connection from 10.0.0.1 closes that host's oldest, not b1.
	enter("a3", "10.0.0.1")
	expectClosed("a1")
	if !a.leave(a1) {
		t.Fatal("a1 was closed to make room, but leave says otherwise")
	}
	// b1 says who it is: it leaves the anonymous stage, which newcomers
	// from anywhere can no longer push it out of.
	if !a.claim(b1, 3) {
		t.Fatal("claim refused")
	}
	enter("c1", "10.0.0.3")
	enter("c2", "10.0.0.3")
	expectClosed("a1")
	// Over the overall bound (a2, a3, c1, c2 + d1): the oldest overall goes.
	enter("d1", "10.0.0.4")
	expectClosed("a1", "a2")
	anon, claimed, evicted := a.counts()
	if anon != 4 || claimed != 1 || evicted != 2 {
		t.Fatalf("counts: %d anonymous, %d claimed, %d closed; want 4, 1, 2", anon, claimed, evicted)
	}
	// A newer claim of the same id replaces the older one.
	d2 := enter("d2", "10.0.0.4")
	expectClosed("a1", "a2", "a3")
	if !a.claim(d2, 3) {
		t.Fatal("claim refused")
	}
	expectClosed("a1", "a2", "a3", "b1")
	if !a.leave(b1) || a.leave(d2) {
		t.Fatal("leave: b1 was replaced, d2 was not")
	}
	if anon, claimed, _ := a.counts(); anon != 3 || claimed != 0 {
		t.Fatalf("after leave: %d anonymous, %d claimed", anon, claimed)
	}
	// A connection closed to make room cannot claim afterwards.
	if a.claim(a1, 4) {
		t.Fatal("a closed connection claimed a slot")
	}
}
