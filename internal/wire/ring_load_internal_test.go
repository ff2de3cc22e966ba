package wire

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/internal/jute"
)

// Session tug-of-war, many connections, a stalled disk, a closeSession
// behind the throttle (see ring_stress_internal_test.go).

// TestRingStressSessionTugOfWar: four clients take one session from each
// other over and over, each new connection pipelining writes and reads
// while the connection it replaced is mid-pipeline. Every connection's
// replies are in order up to its close, each replaced connection closes,
// and in the end the server holds one connection of the session (the last
// one) or none, its books straight. Catches: an old connection left
// open or held after a reconnect killed it, the session detached by an old
// connection's teardown after a newer one took it (its next calls fail),
// teardown run twice.
func TestRingStressSessionTugOfWar(t *testing.T) {
	rsEachMode(t, func(t *testing.T, mode string) {
		p := rsStart(t, mode, rsOpts{})
		first := rsSession(t, p.addr, 120000)
		first.ok(t, jute.OpCreate, &jute.CreateRequest{Path: "/tug", Data: []byte("init"), ACL: rsACL})
		sid, pw := first.sid, first.pw
		var wg sync.WaitGroup
		var takes atomic.Int64
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(g), 3))
				for k := range 10 {
					c, err := rsDialErr(p.addr, 0)
					if err != nil {
						t.Errorf("dial: %v", err)
						return
					}
					resp, err := c.connect(sid, pw)
					if err != nil {
						// Taken over before its own connect was answered.
						if !rsClosedErr(err) {
							t.Errorf("reattach: %v", err)
						}
						c.nc.Close()
						continue
					}
					if resp.SessionID != sid {
						t.Errorf("reattach: session %#x, want %#x (the session was lost)", resp.SessionID, sid)
						c.nc.Close()
						return
					}
					takes.Add(1)
					path := fmt.Sprintf("/tug%d-%d", g, k)
					f, err := c.call(jute.OpCreate, &jute.CreateRequest{Path: path, Data: []byte("init"), ACL: rsACL})
					switch {
					case err == nil && f.h.Err == 0:
						err = c.pipeline(path, 20, rng, false, nil, nil)
					case err == nil:
						err = fmt.Errorf("create: %v", f)
					}
					if err != nil && !rsClosedErr(err) {
						t.Errorf("client %d: %v", g, err)
					}
					c.nc.Close()
				}
			}()
		}
		rsWaitGroup(t, &wg, 60*time.Second, "the clients")
		if takes.Load() == 0 {
			t.Fatal("no reattach succeeded")
		}
		// Every client closed its sockets; the first connection was
		// replaced: none is left.
		rsPoll(t, 15*time.Second, "no connection of the session left", func() bool { return len(rsOfSession(p.srv, sid)) == 0 })
		rsBooks(t, p.srv)
		// The session is alive and detached: a new connection takes it.
		c := rsDial(t, p.addr, 0)
		if resp, err := c.connect(sid, pw); err != nil || resp.SessionID != sid {
			t.Fatalf("the session after the tug of war: %+v %v", resp, err)
		}
		c.ok(t, jute.OpGetData, &jute.PathWatchRequest{Path: "/tug"})
	})
}

// TestRingStressManyConnections: more connections (3000) than the ring's
// submission queue (1024) and completion queue (2048) hold, all woken at
// once by one change they watch, then all pinging at once: every one gets
// its event and its reply, and the ring never fails or drops a submission.
// Catches: a full submission queue losing an SQE (a connection that never
// hears again), completions lost or an error on overflow (the ring fails
// and closes everything).
func TestRingStressManyConnections(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(2*n+500) {
		// Two descriptors a connection (the client's, the server's).
		n = int(lim.Cur-500) / 2
		if n < 1100 {
			t.Skipf("%d descriptors allowed: too few for more connections than the ring's queues hold", lim.Cur)
		}
	}
	rsEachMode(t, func(t *testing.T, mode string) {
		// Long sessions: the first clients wait, silent, for all the others
		// to connect, which takes a while under -race on a busy machine.
		p := rsStart(t, mode, rsOpts{cfg: func(c *engine.Config) { c.TickTime = 6 * time.Second }})
		s := p.session(t)
		if _, err := s.Create(context.Background(), "/hot", nil); err != nil {
			t.Fatal(err)
		}
		clients := make([]*rsClient, n)
		var wg sync.WaitGroup
		var failed atomic.Bool
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n && !failed.Load(); i += 8 {
					c, err := rsDialErr(p.addr, 0)
					if err != nil {
						t.Errorf("client %d: %v", i, err)
						failed.Store(true)
						return
					}
					clients[i] = c
					c.ask = 120000 // the most 6 s ticks allow
					if resp, err := c.connect(0, nil); err != nil || resp.SessionID == 0 {
						t.Errorf("client %d: connect: %+v %v", i, resp, err)
						failed.Store(true)
						return
					}
					if f, err := c.call(jute.OpGetData, &jute.PathWatchRequest{Path: "/hot", Watch: true}); err != nil || f.h.Err != 0 {
						t.Errorf("client %d: getData: %v %v", i, f, err)
						failed.Store(true)
						return
					}
				}
			}()
		}
		t.Cleanup(func() {
			for _, c := range clients {
				if c != nil {
					c.nc.Close()
				}
			}
		})
		rsWaitGroup(t, &wg, 120*time.Second, "the connects")
		if failed.Load() {
			t.FailNow()
		}
		if _, err := s.Set(context.Background(), "/hot", []byte("x"), -1); err != nil {
			t.Fatal(err)
		}
		// Every client reads its event and pings at once; then every one
		// reads its reply.
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 8 {
					c := clients[i]
					c.nc.SetDeadline(time.Now().Add(60 * time.Second))
					f, err := c.next()
					if err != nil || f.ev == nil || f.ev.Type != 3 || f.ev.Path != "/hot" {
						t.Errorf("client %d: %v %v, want the NodeDataChanged event", i, f, err)
						return
					}
					b, _ := c.req(nil, jute.OpPing, nil)
					if _, err := c.nc.Write(b); err != nil {
						t.Errorf("client %d: %v", i, err)
						return
					}
				}
				for i := w; i < n; i += 8 {
					if f, err := clients[i].next(); err != nil || f.ev != nil || f.h.Xid != jute.XidPing {
						t.Errorf("client %d: %v %v, want the ping's reply", i, f, err)
						return
					}
				}
			}()
		}
		rsWaitGroup(t, &wg, 90*time.Second, "the events and pings")
		if p.logs.has("io_uring") {
			t.Errorf("the ring logged an error")
		}
	})
}

// TestRingStressStalledDiskSparesIdleClients: while the log's disk stalls
// and 160 clients keep writing (past the server's outstanding limit, a
// connection with nothing outstanding may still send one request: the peer
// loop's request queue, 1024 deep, fills up), a client that only pings is
// still answered, as the reader goroutines (and a ZooKeeper quorum peer,
// whose CommitProcessor answers a session with no write pending) answer
// it: the writers wait, nobody else does. Catches: a connection layer that
// starts a write on the one goroutine serving every socket (the ring),
// which then blocks in the peer loop's queue (Ensemble.submit) and leaves
// every other connection unanswered for as long as the disk stalls: idle
// clients miss their pings and drop their connections.
func TestRingStressStalledDiskSparesIdleClients(t *testing.T) {
	rsEachMode(t, func(t *testing.T, mode string) {
		p, d := rsStallablePeer(t, mode)
		idle := rsSession(t, p.addr, 120000)
		// A hundred clients pipeline writes up to the server's outstanding
		// limit; then sixty more write once each (a connection with nothing
		// outstanding may always send one): past the 1024 the peer loop's
		// queue holds.
		const writers, late = 100, 60
		ws := make([]*rsClient, writers+late)
		for i := range ws {
			ws[i] = rsSession(t, p.addr, 120000)
			ws[i].ok(t, jute.OpCreate, &jute.CreateRequest{Path: fmt.Sprintf("/w%d", i), ACL: rsACL})
		}
		// One write stalls the disk: the peer loop holds it alone, and takes
		// nothing more.
		first := rsDial(t, p.addr, 0)
		first.mustConnect(t)
		d.stallOn(t, first, jute.OpCreate, &jute.CreateRequest{Path: "/first", ACL: rsACL})
		sent := make([]int, len(ws))
		send := func(i, n int) {
			var b []byte
			for range n {
				b, _ = ws[i].req(b, jute.OpSetData, &jute.SetDataRequest{Path: fmt.Sprintf("/w%d", i), Data: []byte("x"), Version: -1})
			}
			sent[i] = n
			go ws[i].nc.Write(b) // the server may stop reading it
		}
		for i := range writers {
			send(i, 20)
		}
		rsPoll(t, 20*time.Second, "the writes fill the server's outstanding limit", func() bool {
			return p.srv.stats.outstanding.Load() >= GlobalOutstandingLimit
		})
		for i := writers; i < len(ws); i++ {
			send(i, 1)
		}
		// Let the late writes reach the server (all of them, unless the
		// server stopped reading sockets).
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			in := 0
			for _, c := range ws[writers:] {
				if k := rsServerConn(p.srv, c); k != nil && k.received.Load() >= 3 { // connect, create, the write
					in++
				}
			}
			if in == late {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		for i := range 3 {
			idle.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
			if f, err := idle.call(jute.OpPing, nil); err != nil || f.h.Xid != jute.XidPing {
				t.Fatalf("ping %d of an idle client while the disk stalls: %v %v", i, f, err)
			}
		}
		d.release()
		for i, c := range ws {
			c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
			for range sent[i] {
				if f, err := c.next(); err != nil || f.h.Err != 0 {
					t.Fatalf("writer %d after the stall: %v %v", i, f, err)
				}
			}
		}
	})
}

// TestRingStressCloseSessionBehindThrottle: a client pipelines two hundred
// writes (far past a lowered outstanding limit: the connection is throttled
// and resumed over and over), a closeSession, and more requests after it,
// all in one go right behind its connect request (before the server handed
// the socket over from the handshake), split anywhere. It gets the connect
// response, every write's reply and the closeSession's, in order, nothing
// for what followed the closeSession, then the server's close (it lingers
// at most closeLinger for the client's); the server forgets the connection.
// Catches: requests lost or doubled across a throttle and its resume, bytes
// sent behind the connect lost when the ring takes the socket, requests run
// after a closeSession, a lingering connection never closed or never
// forgotten.
func TestRingStressCloseSessionBehindThrottle(t *testing.T) {
	rsEachMode(t, func(t *testing.T, mode string) {
		p := rsStart(t, mode, rsOpts{setup: func(s *Server) {
			s.limits = limits{outstanding: 4, outstandingBytes: 1 << 20, global: 1000}
		}})
		c := rsDial(t, p.addr, 0)
		b := jute.AppendFrame(nil, &jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16), HasReadOnly: true})
		var want []rsWant
		b, xid := c.req(b, jute.OpCreate, &jute.CreateRequest{Path: "/q", ACL: rsACL})
		want = append(want, rsWant{xid: xid})
		for i := range 200 {
			b, xid = c.req(b, jute.OpSetData, &jute.SetDataRequest{Path: "/q", Data: []byte{byte(i)}, Version: int32(i)})
			want = append(want, rsWant{xid: xid})
		}
		b, xid = c.req(b, jute.OpCloseSession, nil)
		want = append(want, rsWant{xid: xid})
		for range 20 {
			b, _ = c.req(b, jute.OpCreate, &jute.CreateRequest{Path: "/after", ACL: rsACL})
			b, _ = c.req(b, jute.OpGetData, &jute.PathWatchRequest{Path: "/q"})
		}
		if err := c.writeChunks(b, rand.New(rand.NewPCG(5, 5))); err != nil {
			t.Fatal(err)
		}
		cb, err := jute.ReadFrame(c.r, nil, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		var resp jute.ConnectResponse
		if err := jute.Unmarshal(cb, &resp); err != nil || resp.SessionID == 0 {
			t.Fatalf("connect response %+v %v", resp, err)
		}
		k := rsServerConn(p.srv, c)
		if err := c.expect(want, false); err != nil {
			t.Fatalf("%v (a setData's version says which write ran out of order)", err)
		}
		c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if f, err := c.next(); err == nil {
			t.Fatalf("%v after the closeSession's reply", f)
		} else if !rsClosedErr(err) {
			t.Fatalf("after the closeSession's reply: %v, want the server's close", err)
		}
		if k != nil {
			rsForgotten(t, p.srv, k, "a closed session's connection")
		}
		rsBooks(t, p.srv)
		s := p.session(t)
		if _, _, err := s.Get(context.Background(), "/after"); err == nil {
			t.Fatal("a create sent after the closeSession ran")
		}
	})
}

// rsSocketReport describes both ends of nc's connection (nc is the
// client's) from /proc/net/tcp, and reports whether the server still holds
// its end: a descriptor of this process refers to its socket, or the
// socket has an inode (an end the process closed is an orphan, inode 0,
// that the kernel finishes on its own).
func rsSocketReport(nc net.Conn) (report string, serverHolds bool) {
	local := nc.LocalAddr().(*net.TCPAddr)
	remote := nc.RemoteAddr().(*net.TCPAddr)
	raw, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return "no /proc/net/tcp: " + err.Error(), true
	}
	// /proc/net/tcp lists 127.0.0.1:port as 0100007F:PORT in hex.
	find := func(from, to int) []string {
		want := fmt.Sprintf("0100007F:%04X 0100007F:%04X", from, to)
		for _, l := range strings.Split(string(raw), "\n") {
			if strings.Contains(l, want) {
				return strings.Fields(strings.TrimSpace(l))
			}
		}
		return nil
	}
	f := find(remote.Port, local.Port)
	if f == nil {
		return "the server's end is not in /proc/net/tcp", false
	}
	inode := f[9]
	held := "no descriptor of this process refers to it"
	serverHolds = inode != "0"
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, e := range ents {
			if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && l == "socket:["+inode+"]" {
				held = "descriptor " + e.Name() + " of this process refers to it"
				serverHolds = true
			}
		}
	}
	client := "not in /proc/net/tcp"
	if c := find(local.Port, remote.Port); c != nil {
		client = fmt.Sprintf("state %s, queues %s", c[3], c[4])
	}
	// Fields: local, remote, state (hex: 01 established, 04 fin-wait-1, 05
	// fin-wait-2, 08 close-wait ...), tx:rx queues, ..., inode.
	return fmt.Sprintf("the server's end: state %s, queues %s, inode %s; %s; the client's end: %s", f[3], f[4], inode, held, client), serverHolds
}

// rsDisk stalls a peer's log: the write that reaches its append first,
// once armed, waits there until release.
type rsDisk struct {
	armed         atomic.Bool
	gate, stalled *rsGate
}

// rsStallablePeer starts a peer whose log rsDisk can stall, with long
// sessions (the setups are slow under -race on a busy machine).
func rsStallablePeer(t *testing.T, mode string) (*rsPeer, *rsDisk) {
	d := &rsDisk{gate: rsNewGate(), stalled: rsNewGate()}
	p := rsStart(t, mode, rsOpts{cfg: func(c *engine.Config) {
		c.TickTime = 6 * time.Second
		c.TestHooks = &hooks.Hooks{Func: func(_ int64, point string) error {
			if point == hooks.BeforeAppend && d.armed.Load() {
				d.stalled.open()
				d.gate.wait()
			}
			return nil
		}}
	}})
	t.Cleanup(d.release) // before the server's stop
	return p, d
}

// stallOn arms the stall, sends c's request, and waits until that write
// holds the disk.
func (d *rsDisk) stallOn(t *testing.T, c *rsClient, op int32, rec jute.Record) {
	t.Helper()
	d.armed.Store(true)
	b, _ := c.req(nil, op, rec)
	if _, err := c.nc.Write(b); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.stalled.c:
	case <-time.After(20 * time.Second):
		t.Fatal("the write did not reach the disk")
	}
}

// release lets the stalled write and every later one through.
func (d *rsDisk) release() {
	d.armed.Store(false)
	d.gate.open()
}
