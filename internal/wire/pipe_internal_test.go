package wire

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/watch"
)

// These tests pause a connection at a point with the server's test hooks.

// hookedPeer starts a standalone peer and its client-port server, whose
// hooks and limits the test sets before any client connects.
func hookedPeer(t *testing.T) (*engine.Ensemble, *Server) {
	t.Helper()
	e := servingStandalone(t)
	srv, err := Start(e)
	if err != nil {
		t.Fatal(err)
	}
	usesRing(t, srv)
	stop, done := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() {
		close(stop)
		<-done
		e.Close()
	})
	go func() {
		defer close(done)
		srv.Serve(stop)
	}()
	return e, srv
}

// client is a minimal raw client.
type client struct {
	t  *testing.T
	nc net.Conn
}

func connectTo(t *testing.T, srv *Server) *client {
	t.Helper()
	nc, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	c := &client{t: t, nc: nc}
	c.write(jute.AppendFrame(nil, &jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)}))
	c.read()
	return c
}

func (c *client) write(b []byte) {
	if _, err := c.nc.Write(b); err != nil {
		c.t.Error(err)
	}
}

// read returns the next frame's reply header and, for an event, the event.
func (c *client) read() (jute.ReplyHeader, *jute.WatcherEvent) {
	b, err := jute.ReadFrame(c.nc, nil, 1<<24)
	if err != nil {
		c.t.Fatal(err)
	}
	d := jute.NewDecoder(b)
	var h jute.ReplyHeader
	h.Decode(d)
	if h.Xid != jute.XidNotification {
		return h, nil
	}
	var ev jute.WatcherEvent
	ev.Decode(d)
	return h, &ev
}

func request(xid, op int32, req jute.Record) []byte {
	return jute.AppendFrame(nil, &jute.RequestHeader{Xid: xid, Type: op}, req)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestEventAfterTheReplyThatSetItsWatch: a change applied after a read
// registered its watch but before the read's reply was queued fires the
// watch; its event still leaves after that reply (the client learns of the
// watch from the reply).
func TestEventAfterTheReplyThatSetItsWatch(t *testing.T) {
	e, srv := hookedPeer(t)
	ctx := context.Background()
	other, err := e.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Create(ctx, "/h", nil); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	srv.hooks.beforeReply = func() {
		once.Do(func() {
			if _, err := other.Set(ctx, "/h", []byte("x"), -1); err != nil {
				t.Error(err)
			}
		})
	}
	c := connectTo(t, srv)
	c.write(request(1, jute.OpGetData, &jute.PathWatchRequest{Path: "/h", Watch: true}))
	if h, ev := c.read(); ev != nil || h.Xid != 1 {
		t.Fatalf("first frame: %+v %+v, want the getData reply", h, ev)
	}
	if _, ev := c.read(); ev == nil || ev.Type != int32(engine.EventNodeDataChanged) || ev.Path != "/h" {
		t.Fatalf("second frame: %+v, want the NodeDataChanged event", ev)
	}
}

// TestThrottleOutstanding: a connection whose answers cannot be sent (the
// completer is paused) stops reading at its limit of outstanding requests,
// then of request bytes; the server as a whole stops reading past its
// global limit; once released, every request is answered in order.
func TestThrottleOutstanding(t *testing.T) {
	_, srv := hookedPeer(t)
	srv.limits = limits{outstanding: 20, outstandingBytes: 64 << 10, global: 30}
	gate := make(chan struct{})
	srv.hooks.beforeAnswer = func() { <-gate }

	a, b := connectTo(t, srv), connectTo(t, srv)
	c := connectTo(t, srv)
	sendSets := func(cl *client, path string, n, size int) {
		var buf []byte
		buf = append(buf, request(1, jute.OpCreate, &jute.CreateRequest{Path: path, ACL: openACL()})...)
		for i := 2; i <= n; i++ {
			buf = append(buf, request(int32(i), jute.OpSetData, &jute.SetDataRequest{Path: path, Data: make([]byte, size), Version: -1})...)
		}
		go cl.write(buf)
	}
	sendSets(a, "/a", 100, 10)
	conns := func() map[*conn]int {
		m := map[*conn]int{}
		for _, k := range srv.connList() {
			k.pmu.Lock()
			if k.pipe.waiting {
				m[k] = k.pipe.len()
			}
			k.pmu.Unlock()
		}
		return m
	}
	waitUntil(t, "a waits for room", func() bool { return len(conns()) == 1 })
	for k, n := range conns() {
		if n != 20 || k.received.Load() != 21 { // the connect and 20 requests
			t.Fatalf("a: %d outstanding, %d frames read; want 20 and 21", n, k.received.Load())
		}
	}
	sendSets(b, "/b", 100, 10<<10)
	waitUntil(t, "b waits for room", func() bool { return len(conns()) == 2 })
	for k, n := range conns() {
		if k.pipe.bytes > 64<<10+11<<10 {
			t.Fatalf("%d request bytes outstanding on one connection (%d requests)", k.pipe.bytes, n)
		}
	}
	sendSets(c, "/c", 100, 10)
	waitUntil(t, "c waits for room", func() bool { return len(conns()) == 3 })
	if total := srv.stats.outstanding.Load(); total > 30+3 {
		t.Fatalf("%d requests outstanding on the server, global limit 30", total)
	}
	close(gate)
	for _, cl := range []*client{a, b, c} {
		for want := int32(1); want <= 100; want++ {
			if h, ev := cl.read(); ev != nil || h.Xid != want || h.Err != 0 {
				t.Fatalf("reply %+v %+v, want xid %d", h, ev, want)
			}
		}
	}
}

func openACL() []jute.ACL {
	return []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "world", ID: "anyone"}}}
}

// servingStandalone starts a standalone in-memory peer on a manual clock
// whose client port the test serves itself, and waits until it serves.
func servingStandalone(t *testing.T) *engine.Ensemble {
	t.Helper()
	e, err := engine.NewEnsemble(engine.Config{
		DataDir: "/zk", FS: vfs.NewMem(), ManualClock: true, TickTime: 500 * time.Millisecond,
		ClientPort: -1, ClientPortAddress: "127.0.0.1", ClientIO: *testIO,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.WaitServing(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestNothingQueuedOnceEnding: once a connection's context ended (killed,
// its session expired or taken over, the server stopping), the calls it
// had queued are dropped unanswered, so nothing after them may be answered
// either. The reader (or ring) checks the context before each frame, but a
// frame it read just before the end runs once the completer has dropped the
// queue: a ping run then found the queue empty and was answered, overtaking
// the replies that never came (seen once in TestRingStressMixedPipelines:
// a ping's reply where the client waited for its xid 16). The outbox
// refuses it, and events too.
func TestNothingQueuedOnceEnding(t *testing.T) {
	_, srv := hookedPeer(t)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := newConn(srv, a, "127.0.0.1")
	ping := jute.AppendFrame(nil, &jute.RequestHeader{Xid: jute.XidPing, Type: jute.OpPing})[4:]
	if !c.handle(ping) || c.out.n != 1 {
		t.Fatalf("a live connection queued %d frames for a ping, want 1", c.out.n)
	}
	c.out.buf, c.out.n = nil, 0
	c.cancel()
	c.handle(ping)
	c.notify(watch.Event{Type: watch.EventNodeCreated, Path: "/x", Zxid: 1})
	if c.out.n != 0 || len(c.out.buf) != 0 || len(c.out.held) != 0 {
		t.Fatalf("an ending connection queued %d frames (%d bytes, %d held)", c.out.n, len(c.out.buf), len(c.out.held))
	}
}

// TestRingDrivesWrites: on the ring, a pipeline of writes and reads is
// answered in order without a completer goroutine (the engine wakes the
// ring when a write's reply is in); a call that may wait (sync) gets one,
// and the calls behind it are still answered in order. The goroutine
// layer starts completers for the same pipeline (the counter counts).
func TestRingDrivesWrites(t *testing.T) {
	_, srv := hookedPeer(t)
	c := connectTo(t, srv)
	c.write(request(1, jute.OpCreate, &jute.CreateRequest{Path: "/d", ACL: openACL()}))
	if h, _ := c.read(); h.Xid != 1 || h.Err != 0 {
		t.Fatalf("create: %+v", h)
	}
	pipeline := func(from int32, withSync bool) {
		var b []byte
		xid := from
		for i := range 50 {
			b = append(b, request(xid, jute.OpSetData, &jute.SetDataRequest{Path: "/d", Data: []byte{byte(i)}, Version: -1})...)
			xid++
			b = append(b, request(xid, jute.OpGetData, &jute.PathWatchRequest{Path: "/d"})...)
			xid++
			if withSync && i == 25 {
				b = append(b, request(xid, jute.OpSync, &jute.PathRequest{Path: "/d"})...)
				xid++
			}
		}
		c.write(b)
		for want := from; want < xid; want++ {
			if h, ev := c.read(); ev != nil || h.Xid != want || h.Err != 0 {
				t.Fatalf("reply %+v %+v, want xid %d", h, ev, want)
			}
		}
	}
	pipeline(2, false)
	ring := usesRing(t, srv)
	switch n := srv.stats.completers.Load(); {
	case ring && n != 0:
		t.Fatalf("the ring started %d completer goroutines for writes and reads", n)
	case !ring && n == 0:
		t.Fatal("the goroutine layer started no completer: the counter counts nothing")
	}
	before := srv.stats.completers.Load()
	pipeline(200, true)
	if n := srv.stats.completers.Load() - before; n == 0 {
		t.Fatal("a sync in the pipeline started no completer goroutine")
	}
}
