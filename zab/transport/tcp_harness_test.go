package transport

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedzk/zk/zab/transport/internal/leak"
)

var testSecret = []byte("0123456789abcdef-test-secret")

type node struct {
	tr  *TCP
	log *LogCapture
}

// group is a set of TCP transports on 127.0.0.1.
type group struct {
	t     *testing.T
	addrs map[int64]string
	nodes map[int64]*node
}

func listenLocal(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// closedAddr is a local address nobody listens on.
func closedAddr(t testing.TB) string {
	ln := listenLocal(t)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// baseConfig is a test configuration: shared secret, fast backoff.
func baseConfig(id int64, addrs map[int64]string, log *LogCapture) TCPConfig {
	return TCPConfig{
		ID:      id,
		Peers:   addrs,
		Secret:  testSecret,
		Backoff: Backoff{Min: time.Millisecond, Max: 20 * time.Millisecond},
		Seed:    uint64(id),
		Logger:  log.Logger(),
	}
}

// startGroup checks for leaked goroutines, then starts a transport for each
// of ids (every one a member), adjusting each configuration with mod.
func startGroup(t *testing.T, ids []int64, mod func(*TCPConfig)) *group {
	t.Helper()
	leak.Check(t)
	g := &group{t: t, addrs: make(map[int64]string), nodes: make(map[int64]*node)}
	lns := make(map[int64]net.Listener)
	for _, id := range ids {
		lns[id] = listenLocal(t)
		g.addrs[id] = lns[id].Addr().String()
	}
	for _, id := range ids {
		log := NewLogCapture(t)
		cfg := baseConfig(id, g.addrs, log)
		cfg.Listener = lns[id]
		if mod != nil {
			mod(&cfg)
		}
		g.start(id, cfg, log)
	}
	return g
}

func (g *group) start(id int64, cfg TCPConfig, log *LogCapture) *node {
	g.t.Helper()
	tr, err := NewTCP(cfg)
	if err != nil {
		g.t.Fatalf("NewTCP(%d): %v", id, err)
	}
	g.t.Cleanup(func() { tr.Close() })
	n := &node{tr: tr, log: log}
	g.nodes[id] = n
	return n
}

func (g *group) tr(id int64) *TCP { return g.nodes[id].tr }

// nextEvent returns tr's next event, failing after the test timeout.
func nextEvent(t testing.TB, tr Transport) Event {
	t.Helper()
	timer := newTestTimer()
	defer timer.Stop()
	select {
	case ev, ok := <-tr.Events():
		if !ok {
			t.Fatalf("peer %d: Events closed", tr.ID())
		}
		return ev
	case <-timer.C:
		t.Fatalf("peer %d: no event within %v", tr.ID(), testTimeout)
	}
	return Event{}
}

// expect checks that tr's next event is kind from peer, and returns it.
func expect(t testing.TB, tr Transport, kind EventKind, peer int64) Event {
	t.Helper()
	ev := nextEvent(t, tr)
	if ev.Kind != kind || ev.Peer != peer {
		t.Fatalf("peer %d: got %v from %d, want %v from %d", tr.ID(), ev.Kind, ev.Peer, kind, peer)
	}
	return ev
}

// noEvent checks that tr has no event ready.
func noEvent(t testing.TB, tr Transport) {
	t.Helper()
	select {
	case ev := <-tr.Events():
		t.Fatalf("peer %d: unexpected %v from %d", tr.ID(), ev.Kind, ev.Peer)
	default:
	}
}

// rawPeer is a hand-driven client of a TCP transport.
type rawPeer struct {
	t    testing.TB
	conn net.Conn
	f    *frameRW
}

func dialRaw(t testing.TB, addr string) *rawPeer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testTimeout))
	return &rawPeer{t: t, conn: c, f: newFrameRW(c)}
}

func (r *rawPeer) write(b []byte) {
	r.t.Helper()
	if _, err := r.conn.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawPeer) frame(kind byte, payload []byte) {
	r.t.Helper()
	if err := r.f.writeFrame(kind, payload); err != nil {
		r.t.Fatal(err)
	}
	if err := r.f.w.Flush(); err != nil {
		r.t.Fatal(err)
	}
}

// expectClosed reads until the other side closes.
func (r *rawPeer) expectClosed() {
	r.t.Helper()
	_, err := io.Copy(io.Discard, r.f.r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		r.t.Fatalf("the connection was not closed")
	}
}

// proxy forwards TCP connections to target; Blackhole turns every current
// connection into a half-open one (bytes and closes vanish), while new
// connections pass.
type proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup
	mu     sync.Mutex
	pairs  []*proxyPair
	refuse atomic.Bool // new connections are closed at once (isolate)
}

type proxyPair struct {
	a, b net.Conn
	dead atomic.Bool
}

func startProxy(t testing.TB, target string) *proxy {
	p := &proxy{ln: listenLocal(t), target: target}
	p.wg.Add(1)
	go p.acceptLoop()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		a, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.refuse.Load() {
			a.Close()
			continue
		}
		b, err := net.Dial("tcp", p.target)
		if err != nil {
			a.Close()
			continue
		}
		pp := &proxyPair{a: a, b: b}
		p.mu.Lock()
		p.pairs = append(p.pairs, pp)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.copy(pp, a, b)
		go p.copy(pp, b, a)
	}
}

func (p *proxy) copy(pp *proxyPair, src, dst net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !pp.dead.Load() {
			dst.Write(buf[:n])
		}
		if err != nil {
			if !pp.dead.Load() {
				dst.Close()
			}
			return
		}
	}
}

// isolate makes every current connection half-open and refuses new ones
// until rejoin: each side must find the silence itself.
func (p *proxy) isolate() {
	p.refuse.Store(true)
	p.blackhole()
}

// rejoin lets new connections through again.
func (p *proxy) rejoin() { p.refuse.Store(false) }

// blackhole makes every current connection half-open.
func (p *proxy) blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pp := range p.pairs {
		pp.dead.Store(true)
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, pp := range p.pairs {
		pp.a.Close()
		pp.b.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
