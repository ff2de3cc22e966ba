package wire_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/wire"
)

type seeded struct{ x uint64 }

func (s *seeded) Read(p []byte) (int, error) {
	for i := range p {
		s.x ^= s.x << 13
		s.x ^= s.x >> 7
		s.x ^= s.x << 17
		p[i] = byte(s.x)
	}
	return len(p), nil
}

// peerConfig is a standalone peer on an in-memory disk with a manual clock
// (sessions expire only when a test ticks) and a client port on loopback.
func peerConfig() engine.Config {
	return engine.Config{
		DataDir: "/zk", FS: vfs.NewMem(), ManualClock: true, TickTime: 500 * time.Millisecond,
		Rand: &seeded{x: 0x9e3779b97f4a7c15}, ClientPort: -1, ClientPortAddress: "127.0.0.1",
		FourLetterWords: []string{"*"}, ClientIO: wire.ClientIOForTests(),
	}
}

// startPeer starts a peer serving the client port; Close runs at cleanup.
func startPeer(t testing.TB, cfg engine.Config) *engine.Ensemble {
	t.Helper()
	e, err := wire.NewEnsemble(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if err := e.WaitServing(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	return e
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// dial connects go-zookeeper to addrs and waits for its session.
func dial(t testing.TB, addrs ...string) (*gozk.Conn, <-chan gozk.Event) {
	t.Helper()
	c, events, err := gozk.Connect(addrs, 4*time.Second, gozk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	waitState(t, events, gozk.StateHasSession)
	return c, events
}

// waitState waits for a session state on a go-zookeeper event channel.
func waitState(t testing.TB, events <-chan gozk.Event, want gozk.State) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == want {
				return
			}
		case <-timeout:
			t.Fatalf("no %v within 20s", want)
		}
	}
}

// nextEvent takes one watch event from ch.
func nextEvent(t testing.TB, ch <-chan gozk.Event) gozk.Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no watch event within 20s")
	}
	return gozk.Event{}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr checks a go-zookeeper error.
func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

// rawConn is a hand-driven client of the protocol, for the requests
// go-zookeeper does not send and for bad input.
type rawConn struct {
	t   testing.TB
	nc  net.Conn
	xid int32
	buf []byte
}

func rawDial(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawConn{t: t, nc: nc}
}

// rawSession starts a peer and opens a session on it with a raw client:
// the peer's client address, the client, and the connect response.
func rawSession(t testing.TB) (string, *rawConn, jute.ConnectResponse) {
	t.Helper()
	addr := startPeer(t, peerConfig()).ClientAddr()
	r := rawDial(t, addr)
	return addr, r, r.connect(jute.ConnectRequest{})
}

// connect opens a session (or re-attaches one) and returns the response.
func (r *rawConn) connect(req jute.ConnectRequest) jute.ConnectResponse {
	r.t.Helper()
	if req.TimeOut == 0 {
		req.TimeOut = 4000
	}
	if req.Passwd == nil {
		req.Passwd = make([]byte, 16)
	}
	req.HasReadOnly = true
	r.write(jute.AppendFrame(nil, &req))
	var resp jute.ConnectResponse
	must(r.t, jute.Unmarshal(r.read(), &resp))
	return resp
}

func (r *rawConn) write(b []byte) {
	r.t.Helper()
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawConn) read() []byte {
	r.t.Helper()
	b, err := jute.ReadFrame(r.nc, nil, 1<<24)
	if err != nil {
		r.t.Fatalf("reading from %s: %v", r.nc.RemoteAddr(), err)
	}
	return b
}

// call sends one request and returns its reply header and body, collecting
// the notifications that arrive before it.
func (r *rawConn) call(op int32, req jute.Record) (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
	r.t.Helper()
	h, body, events, err := r.tryCall(op, req)
	if err != nil {
		r.t.Fatalf("reading from %s: %v", r.nc.RemoteAddr(), err)
	}
	return h, body, events
}

// tryCall is call that returns the error of a read that failed (io.EOF:
// the server closed the connection; a timeout: no reply within the
// connection's deadline) with the notifications read before it.
func (r *rawConn) tryCall(op int32, req jute.Record) (jute.ReplyHeader, []byte, []jute.WatcherEvent, error) {
	r.t.Helper()
	r.xid++
	xid := r.xid
	switch op {
	case jute.OpSetWatches, jute.OpSetWatches2:
		xid = jute.XidSetWatches
	case jute.OpAuth:
		xid = jute.XidAuth
	case jute.OpPing:
		xid = jute.XidPing
	}
	recs := []jute.Record{&jute.RequestHeader{Xid: xid, Type: op}}
	if req != nil {
		recs = append(recs, req)
	}
	r.write(jute.AppendFrame(nil, recs...))
	var events []jute.WatcherEvent
	for {
		b, err := jute.ReadFrame(r.nc, nil, 1<<24)
		if err != nil {
			return jute.ReplyHeader{}, nil, events, err
		}
		d := jute.NewDecoder(b)
		var h jute.ReplyHeader
		h.Decode(d)
		must(r.t, d.Err())
		if h.Xid == jute.XidNotification {
			var ev jute.WatcherEvent
			ev.Decode(d)
			events = append(events, ev)
			continue
		}
		if h.Xid != xid {
			r.t.Fatalf("reply xid %d, want %d", h.Xid, xid)
		}
		return h, b[jute.ReplyHeaderSize:], events, nil
	}
}

// ok sends a request, checks it succeeded and decodes the reply into resp.
func (r *rawConn) ok(op int32, req, resp jute.Record) {
	r.t.Helper()
	h, body, _ := r.call(op, req)
	if h.Err != 0 {
		r.t.Fatalf("op %d: error %d", op, h.Err)
	}
	if resp != nil {
		must(r.t, jute.Unmarshal(body, resp))
	}
}

// closed checks that the server closes the connection (reads end in EOF)
// within a few seconds.
func (r *rawConn) closed() bool {
	r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [512]byte
	for {
		if _, err := r.nc.Read(b[:]); err != nil {
			var ne net.Error
			return !(errors.As(err, &ne) && ne.Timeout())
		}
	}
}
