package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
)

// Adversarial tests of the connection layers (ring_linux.go and the reader
// goroutines): connections killed in every state, sessions taken over by a
// new connection mid-pipeline, frames longer than the ring's receive
// buffer split anywhere, slow readers, slow writers, shutdown under load,
// more connections than the ring's completion queue holds. Each runs in
// both I/O layers (only in -wire.io's when it is set), on 127.0.0.1, and is
// bounded in time; the process's goroutines and descriptors must come back
// to what they were.

// rsModes returns the I/O layers to test: -wire.io's, or every one this
// kernel allows.

func rsModes() []string {
	if *testIO != "" {
		return []string{*testIO}
	}
	var modes []string
	if ringAvailable() == nil {
		modes = append(modes, engine.ClientIOUring)
	}
	return append(modes, engine.ClientIOGoroutines)
}

// rsEachMode runs fn as a subtest per I/O layer, and checks that nothing of
// it outlives it.
func rsEachMode(t *testing.T, fn func(t *testing.T, mode string)) {
	for _, mode := range rsModes() {
		t.Run(mode, func(t *testing.T) {
			leaks := rsLeakCheck(t)
			t.Cleanup(func() { // the last cleanup: after every server's and client's
				if !t.Failed() {
					leaks()
				}
			})
			fn(t, mode)
		})
	}
}

// rsLog collects a peer's log lines.
type rsLog struct{ LogBuffer }

func (l *rsLog) has(s string) bool { return strings.Contains(l.String(), s) }

// rsPeer is a standalone peer whose client port the test serves and stops.
type rsPeer struct {
	e     *engine.Ensemble
	srv   *Server
	addr  string
	logs  *rsLog
	stopC chan struct{}
	done  chan struct{}
	once  sync.Once
}

// rsOpts tune a peer: its engine configuration, and the server's hooks and
// limits, set before it serves.
type rsOpts struct {
	cfg   func(*engine.Config)
	setup func(*Server)
}

func rsStart(t *testing.T, mode string, o rsOpts) *rsPeer {
	t.Helper()
	logs := &rsLog{}
	cfg := engine.Config{
		DataDir: "/zk", FS: vfs.NewMem(), ManualClock: true, TickTime: 500 * time.Millisecond,
		ClientPort: -1, ClientPortAddress: "127.0.0.1", ClientIO: mode,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	e, err := engine.NewEnsemble(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.WaitServing(ctx); err != nil {
		e.Close()
		t.Fatal(err)
	}
	srv, err := Start(e)
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	if got, want := srv.ring != nil, mode == engine.ClientIOUring; got != want {
		srv.abandon()
		e.Close()
		t.Fatalf("ClientIO %q: the server serves from a ring: %v", mode, got)
	}
	if o.setup != nil {
		o.setup(srv)
	}
	p := &rsPeer{e: e, srv: srv, addr: srv.Addr().String(), logs: logs, stopC: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		srv.Serve(p.stopC)
	}()
	t.Cleanup(func() {
		if !p.stop() {
			t.Errorf("Serve did not return within 20s of its stop\n%s", rsStacks())
		}
		e.Close()
		if p.logs.has("io_uring failed") {
			t.Errorf("the ring failed")
		}
	})
	return p
}

// stop stops the server; false when Serve did not return within 20s.
func (p *rsPeer) stop() bool {
	p.once.Do(func() { close(p.stopC) })
	select {
	case <-p.done:
		return true
	case <-time.After(20 * time.Second):
		return false
	}
}

// session opens an in-process session of the peer.
func (p *rsPeer) session(t *testing.T) *engine.Session {
	t.Helper()
	s, err := p.e.NewSession(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rsGate holds a server hook until the test opens it (at the latest when
// the test ends).
type rsGate struct {
	c    chan struct{}
	once sync.Once
}

// rsNewGate returns a closed gate; the test registers its open as a cleanup
// that runs before the server's stop (the server waits for its hooks).
func rsNewGate() *rsGate { return &rsGate{c: make(chan struct{})} }

func (g *rsGate) open() { g.once.Do(func() { close(g.c) }) }
func (g *rsGate) wait() { <-g.c }

// rsClient is a raw client of the protocol, safe to drive from one
// goroutine writing and one reading.
type rsClient struct {
	nc  net.Conn
	r   *bufio.Reader
	xid atomic.Int32
	sid int64
	pw  []byte

	closedSession bool  // its client closed the session
	ask           int32 // the session timeout it asks for, in ms (0: 4000)
}

// rsDial connects to addr; rbuf > 0 shrinks the client's receive buffer
// first (a slow reader).
func rsDial(t *testing.T, addr string, rbuf int) *rsClient {
	t.Helper()
	c, err := rsDialErr(addr, rbuf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.nc.Close() })
	return c
}

// rsSession dials addr and opens a new session that asks for a timeout of
// ask ms.
func rsSession(t *testing.T, addr string, ask int32) *rsClient {
	t.Helper()
	c := rsDial(t, addr, 0)
	c.ask = ask
	c.mustConnect(t)
	return c
}

func rsDialErr(addr string, rbuf int) (*rsClient, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if rbuf > 0 {
		nc.(*net.TCPConn).SetReadBuffer(rbuf)
	}
	nc.SetDeadline(time.Now().Add(90 * time.Second))
	return &rsClient{nc: nc, r: bufio.NewReaderSize(nc, 64<<10)}, nil
}

// connect opens a session (sid 0) or re-attaches one.
func (c *rsClient) connect(sid int64, pw []byte) (jute.ConnectResponse, error) {
	if pw == nil {
		pw = make([]byte, 16)
	}
	ask := c.ask
	if ask == 0 {
		ask = 4000
	}
	req := jute.ConnectRequest{TimeOut: ask, SessionID: sid, Passwd: pw, HasReadOnly: true}
	if _, err := c.nc.Write(jute.AppendFrame(nil, &req)); err != nil {
		return jute.ConnectResponse{}, err
	}
	b, err := jute.ReadFrame(c.r, nil, 1<<24)
	if err != nil {
		return jute.ConnectResponse{}, err
	}
	var resp jute.ConnectResponse
	if err := jute.Unmarshal(b, &resp); err != nil {
		return resp, err
	}
	if resp.SessionID != 0 {
		c.sid, c.pw = resp.SessionID, resp.Passwd
	}
	return resp, nil
}

func (c *rsClient) mustConnect(t *testing.T) jute.ConnectResponse {
	t.Helper()
	resp, err := c.connect(0, nil)
	if err != nil || resp.SessionID == 0 {
		t.Fatalf("connect: %+v %v", resp, err)
	}
	return resp
}

// req appends one request frame to b; it returns the frame and the xid its
// reply carries.
func (c *rsClient) req(b []byte, op int32, rec jute.Record) ([]byte, int32) {
	var xid int32
	switch op {
	case jute.OpPing:
		xid = jute.XidPing
	default:
		xid = c.xid.Add(1)
	}
	recs := []jute.Record{&jute.RequestHeader{Xid: xid, Type: op}}
	if rec != nil {
		recs = append(recs, rec)
	}
	return jute.AppendFrame(b, recs...), xid
}

// rsFrame is one frame from the server: a reply or an event.
type rsFrame struct {
	h    jute.ReplyHeader
	ev   *jute.WatcherEvent
	body []byte
}

func (f rsFrame) String() string {
	if f.ev != nil {
		return fmt.Sprintf("event(%d %s)", f.ev.Type, f.ev.Path)
	}
	return fmt.Sprintf("reply(xid %d err %d)", f.h.Xid, f.h.Err)
}

func (c *rsClient) next() (rsFrame, error) {
	b, err := jute.ReadFrame(c.r, nil, 1<<24)
	if err != nil {
		return rsFrame{}, err
	}
	d := jute.NewDecoder(b)
	var f rsFrame
	f.h.Decode(d)
	if err := d.Err(); err != nil {
		return f, err
	}
	if f.h.Xid == jute.XidNotification {
		f.ev = &jute.WatcherEvent{}
		f.ev.Decode(d)
		return f, d.Err()
	}
	f.body = b[jute.ReplyHeaderSize:]
	return f, nil
}

// call sends one request and returns its reply (events before it are
// dropped).
func (c *rsClient) call(op int32, rec jute.Record) (rsFrame, error) {
	b, xid := c.req(nil, op, rec)
	if _, err := c.nc.Write(b); err != nil {
		return rsFrame{}, err
	}
	for {
		f, err := c.next()
		if err != nil || f.ev != nil {
			if err != nil {
				return f, err
			}
			continue
		}
		if f.h.Xid != xid {
			return f, fmt.Errorf("reply xid %d, want %d", f.h.Xid, xid)
		}
		return f, nil
	}
}

func (c *rsClient) ok(t *testing.T, op int32, rec jute.Record) rsFrame {
	t.Helper()
	f, err := c.call(op, rec)
	if err != nil || f.h.Err != 0 {
		t.Fatalf("op %d: %v %v", op, f, err)
	}
	return f
}

// closedWithin reads (and drops) what the server still sends until the
// connection ends; nil when it ended (EOF or reset) within d.
func (c *rsClient) closedWithin(d time.Duration) error {
	c.nc.SetReadDeadline(time.Now().Add(d))
	n, err := io.Copy(io.Discard, c.r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("still open after %v (%d bytes read)", d, n)
	}
	return nil
}

// rsServerConn returns the server's connection of client c (nil if none).
func rsServerConn(srv *Server, c *rsClient) *conn {
	local := c.nc.LocalAddr().String()
	for _, k := range srv.connList() {
		if k.nc.RemoteAddr().String() == local {
			return k
		}
	}
	return nil
}

func rsListed(srv *Server, k *conn) bool { return slices.Contains(srv.connList(), k) }

// rsOfSession returns the server's connections of session id.
func rsOfSession(srv *Server, id int64) []*conn {
	var out []*conn
	for _, k := range srv.connList() {
		if k.sessionID.Load() == id {
			out = append(out, k)
		}
	}
	return out
}

// rsForgotten waits until the server forgot k (its teardown finished).
func rsForgotten(t *testing.T, srv *Server, k *conn, what string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for rsListed(srv, k) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: the server still holds the connection 15s later (its teardown never ran or never ended)\n%s", what, rsStacks())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rsBooks checks the server's books: one perIP count per connection held,
// and every session's connection held.
func rsBooks(t *testing.T, srv *Server) {
	t.Helper()
	srv.mu.Lock()
	defer srv.mu.Unlock()
	n := 0
	for _, v := range srv.perIP {
		n += v
	}
	if n != len(srv.conns) {
		t.Errorf("perIP counts %d connections, the server holds %d (a teardown ran twice, or never)", n, len(srv.conns))
	}
	for id, k := range srv.bySession {
		if _, ok := srv.conns[k]; !ok {
			t.Errorf("session %#x maps to a connection the server forgot", id)
		}
	}
}

// rsPoll waits for cond, polling.
func rsPoll(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func rsFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// rsLeakCheck notes the process's goroutines and descriptors; the check it
// returns waits (bounded) for them to come back to that.
func rsLeakCheck(t *testing.T) func() {
	// The runtime's poller, made on the first socket, is not a leak.
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
	}
	g0, f0 := runtime.NumGoroutine(), rsFDs()
	return func() {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			g, f := runtime.NumGoroutine(), rsFDs()
			if g <= g0 && f <= f0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("leak: %d goroutines (%d before), %d descriptors (%d before)\n%s", g, g0, f, f0, rsStacks())
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// rsStacks returns the stacks of the goroutines in this package and the
// engine, for a failure's message.
func rsStacks() string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "internal/wire.") && !strings.Contains(g, "rsStacks") && !strings.Contains(g, "testing.tRunner") {
			out = append(out, g)
		}
		if len(out) == 20 {
			out = append(out, "...")
			break
		}
	}
	return strings.Join(out, "\n\n")
}
