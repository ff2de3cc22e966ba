package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/jute"
)

// Connections killed in every state, and pipelines of mixed requests while
// other connections are killed (see ring_stress_internal_test.go).

var rsACL = []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "world", ID: "anyone"}}}

// rsState brings a victim's connection to one state before it is killed.
type rsState struct {
	name    string
	session bool // the victim's session is live: expire and reattach apply
	closed  bool // the victim closed its session (a reattach is refused)
	rbuf    int  // the victim's receive buffer (0: the default)
	opts    func(g *rsGate) rsOpts
	enter   func(t *testing.T, p *rsPeer, v *rsClient)
}

// rsKiller ends a victim's connection; after, if any, runs once the gate
// is open.
type rsKiller struct {
	name string
	fits func(st rsState) bool
	kill func(t *testing.T, p *rsPeer, v *rsClient, k *conn) (after func())
}

var rsStates = []rsState{
	{
		name: "idle", session: true,
		enter: func(t *testing.T, p *rsPeer, v *rsClient) {
			v.mustConnect(t)
			v.ok(t, jute.OpExists, &jute.PathWatchRequest{Path: "/", Watch: true})
		},
	},
	{
		// Throttled: its completer is held, its queue is at its limit, its
		// reader (or the ring) stopped taking its requests.
		name: "throttled", session: true,
		opts: func(g *rsGate) rsOpts {
			return rsOpts{setup: func(s *Server) {
				s.limits = limits{outstanding: 4, outstandingBytes: 1 << 20, global: 1000}
				s.hooks.beforeAnswer = g.wait
			}}
		},
		enter: func(t *testing.T, p *rsPeer, v *rsClient) {
			v.mustConnect(t)
			path := fmt.Sprintf("/t%x", v.sid)
			b, _ := v.req(nil, jute.OpCreate, &jute.CreateRequest{Path: path, ACL: rsACL})
			for i := 0; i < 30; i++ {
				b, _ = v.req(b, jute.OpSetData, &jute.SetDataRequest{Path: path, Data: []byte{byte(i)}, Version: -1})
			}
			if _, err := v.nc.Write(b); err != nil {
				t.Fatal(err)
			}
			k := rsServerConn(p.srv, v)
			rsPoll(t, 10*time.Second, "the victim waits for room", func() bool {
				k.pmu.Lock()
				defer k.pmu.Unlock()
				return k.pipe.waiting
			})
		},
	},
	{
		// Lingering: its client closed its session and keeps its socket
		// open (the server waits up to closeLinger for its close).
		name: "lingering", closed: true,
		enter: func(t *testing.T, p *rsPeer, v *rsClient) {
			v.mustConnect(t)
			v.ok(t, jute.OpCloseSession, nil)
		},
	},
	{
		// Lingering, and its client keeps sending: the input the server
		// drops keeps its receives busy when it shuts the socket.
		name: "lingering-chatty", closed: true,
		enter: func(t *testing.T, p *rsPeer, v *rsClient) {
			v.mustConnect(t)
			v.ok(t, jute.OpCloseSession, nil)
			var pings []byte
			for i := 0; i < 64; i++ {
				pings, _ = v.req(pings, jute.OpPing, nil)
			}
			go func() {
				deadline := time.Now().Add(30 * time.Second)
				for time.Now().Before(deadline) {
					if _, err := v.nc.Write(pings); err != nil {
						return
					}
				}
			}()
		},
	},
	{
		// Mid-send: 7.2 MB of replies (more than the sockets buffer, less
		// than MaxQueuedBytes) to a client that reads nothing; the server's
		// writer (or the ring's send) is stuck on a full socket.
		name: "mid-send", session: true,
		enter: func(t *testing.T, p *rsPeer, v *rsClient) {
			s := p.session(t)
			if _, err := s.Create(context.Background(), "/big", make([]byte, 900<<10)); err != nil {
				t.Fatal(err)
			}
			v.mustConnect(t)
			var b []byte
			for i := 0; i < 8; i++ {
				b, _ = v.req(b, jute.OpGetData, &jute.PathWatchRequest{Path: "/big"})
			}
			if _, err := v.nc.Write(b); err != nil {
				t.Fatal(err)
			}
			k := rsServerConn(p.srv, v)
			rsPoll(t, 10*time.Second, "the victim's replies are being sent", func() bool {
				if k.sent.Load() == 9 { // the connect's and the 8 replies
					t.Skip("the sockets here buffer 7.2 MB: no send waits")
				}
				k.out.mu.Lock()
				defer k.out.mu.Unlock()
				return k.received.Load() == 9 && k.out.writing
			})
		},
	},
	{
		// Mid-frame: 40 KB of a 100 KB request received (longer than the
		// ring's receive buffer), the rest never sent.
		name: "mid-frame", session: true,
		enter: func(t *testing.T, p *rsPeer, v *rsClient) {
			v.mustConnect(t)
			before := p.srv.ringReads()
			b, _ := v.req(nil, jute.OpSetData, &jute.SetDataRequest{Path: "/", Data: make([]byte, 100000), Version: -1})
			if _, err := v.nc.Write(b[:40000]); err != nil {
				t.Fatal(err)
			}
			if p.srv.ring != nil {
				rsPoll(t, 10*time.Second, "the ring receives the frame's start", func() bool { return p.srv.ringReads() > before })
			}
		},
	},
	{
		// Handshake: half a connect request sent.
		name: "handshake",
		enter: func(t *testing.T, p *rsPeer, v *rsClient) {
			b := jute.AppendFrame(nil, &jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)})
			if _, err := v.nc.Write(b[:10]); err != nil {
				t.Fatal(err)
			}
			rsPoll(t, 10*time.Second, "the server admits the victim", func() bool { return rsServerConn(p.srv, v) != nil })
		},
	},
}

var rsKillers = []rsKiller{
	{
		// What the monitor, a reconnect and a full outgoing queue call.
		name: "kill",
		fits: func(rsState) bool { return true },
		kill: func(t *testing.T, p *rsPeer, v *rsClient, k *conn) func() {
			k.kill()
			return nil
		},
	},
	{
		// The session expires: the monitor closes its connection.
		name: "expire",
		fits: func(st rsState) bool { return st.session },
		kill: func(t *testing.T, p *rsPeer, v *rsClient, k *conn) func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			errC := make(chan error, 1)
			go func() {
				defer cancel()
				errC <- p.e.ExpireSession(ctx, v.sid)
			}()
			return func() {
				if err := <-errC; err != nil {
					t.Errorf("expire: %v", err)
				}
			}
		},
	},
	{
		// A new connection re-attaches the session (Server.claim).
		name: "reattach",
		fits: func(st rsState) bool { return st.session || st.closed },
		kill: func(t *testing.T, p *rsPeer, v *rsClient, k *conn) func() {
			thief := rsDial(t, p.addr, 0)
			type result struct {
				resp jute.ConnectResponse
				err  error
			}
			resC := make(chan result, 1)
			go func() {
				resp, err := thief.connect(v.sid, v.pw)
				resC <- result{resp, err}
			}()
			return func() {
				r := <-resC
				switch {
				case r.err != nil:
					t.Errorf("reattach: %v", r.err)
				case v.sidClosed():
					if r.resp.SessionID != 0 {
						t.Errorf("reattach of a closed session: %+v", r.resp)
					}
				case r.resp.SessionID != v.sid:
					t.Errorf("reattach: session %#x, want %#x", r.resp.SessionID, v.sid)
				default:
					thief.ok(t, jute.OpExists, &jute.PathWatchRequest{Path: "/"})
					rsPoll(t, 15*time.Second, "one connection of the session, the new one", func() bool {
						ks := rsOfSession(p.srv, v.sid)
						return len(ks) == 1 && ks[0] == rsServerConn(p.srv, thief)
					})
				}
			}
		},
	},
	{
		// The server stops.
		name: "shutdown",
		fits: func(rsState) bool { return true },
		kill: func(t *testing.T, p *rsPeer, v *rsClient, k *conn) func() {
			p.once.Do(func() { close(p.stopC) })
			return nil
		},
	},
	{
		// Nothing: a lingering connection ends on its own.
		name: "linger-timeout",
		fits: func(st rsState) bool { return st.closed },
		kill: func(t *testing.T, p *rsPeer, v *rsClient, k *conn) func() { return nil },
	},
}

// sidClosed reports whether the client closed its session (its reattach
// is refused).
func (c *rsClient) sidClosed() bool { return c.closedSession }

// TestRingStressKillStates kills a connection in every state it can be in
// (idle, throttled, lingering after closeSession with a silent or a
// chatty client, mid-send, mid-frame of a request longer than the ring's
// buffer, mid-handshake) in every way it can be killed (kill, as the
// monitor and a full queue do; expiry; a reconnect of its session from a
// new connection; server shutdown; closeLinger's end). Its client must see
// the close, the server must finish its teardown exactly once (forget it,
// keep its books: perIP, bySession), keep serving the others, and Serve
// must return. Catches: a teardown never started (a shut connection whose
// last receive brought bytes waits for ever), started twice, a close that
// never reaches the client, Serve hanging on a connection.
func TestRingStressKillStates(t *testing.T) {
	rsEachMode(t, func(t *testing.T, mode string) {
		for _, st := range rsStates {
			for _, kl := range rsKillers {
				if !kl.fits(st) {
					continue
				}
				t.Run(st.name+"/"+kl.name, func(t *testing.T) { rsKillCase(t, mode, st, kl) })
			}
		}
	})
}

func rsKillCase(t *testing.T, mode string, st rsState, kl rsKiller) {
	g := rsNewGate()
	var o rsOpts
	if st.opts != nil {
		o = st.opts(g)
	}
	p := rsStart(t, mode, o)
	t.Cleanup(g.open) // before the server's stop
	v := rsDial(t, p.addr, st.rbuf)
	st.enter(t, p, v)
	v.closedSession = st.closed
	k := rsServerConn(p.srv, v)
	if k == nil {
		t.Fatal("the server holds no connection for the victim")
	}
	after := kl.kill(t, p, v, k)
	if err := v.closedWithin(10 * time.Second); err != nil {
		t.Errorf("the killed connection: %v", err)
	}
	g.open()
	if after != nil {
		after()
	}
	if kl.name == "shutdown" {
		if !p.stop() {
			t.Fatalf("Serve did not return within 20s of its stop\n%s", rsStacks())
		}
		if n := len(p.srv.connList()); n != 0 {
			t.Fatalf("Serve returned holding %d connections", n)
		}
		k.kill() // a late kill (a sink firing) after the server stopped: nothing to do
		return
	}
	rsForgotten(t, p.srv, k, "the killed connection")
	rsBooks(t, p.srv)
	k.kill() // a post for a connection the ring forgot: nothing to do
	n := rsDial(t, p.addr, 0)
	n.mustConnect(t)
	n.ok(t, jute.OpExists, &jute.PathWatchRequest{Path: "/"})
}

// rsWant is one frame a client expects: a reply (xid), or an event (xid 0).
type rsWant struct {
	xid  int32
	ev   int32 // the event's type
	path string
	data *string // a getData reply's data, when checked
}

func (w rsWant) String() string {
	if w.xid == 0 {
		return fmt.Sprintf("event(%d %s)", w.ev, w.path)
	}
	return fmt.Sprintf("reply(xid %d)", w.xid)
}

// round appends one round of pipelined requests on node p, whose data is
// prev, and returns the frames they must bring, in ZooKeeper's order: a
// read's reply before the event of the watch it set, an event before the
// reply of the write that fired it, replies in xid order, each read seeing
// the writes sent before it. Reads that run on the spot, local calls that
// wait (sync), pipelined writes and a multi mix.
func (c *rsClient) round(b []byte, p, prev string, n int) ([]byte, []rsWant, string) {
	var want []rsWant
	add := func(op int32, rec jute.Record, before ...rsWant) *rsWant {
		var xid int32
		b, xid = c.req(b, op, rec)
		want = append(want, before...)
		want = append(want, rsWant{xid: xid})
		return &want[len(want)-1]
	}
	v, m := fmt.Sprintf("v%d", n), fmt.Sprintf("m%d", n)
	add(jute.OpGetData, &jute.PathWatchRequest{Path: p, Watch: true}).data = &prev
	add(jute.OpSetData, &jute.SetDataRequest{Path: p, Data: []byte(v), Version: -1}, rsWant{ev: 3, path: p})
	add(jute.OpGetData, &jute.PathWatchRequest{Path: p}).data = &v
	add(jute.OpCreate, &jute.CreateRequest{Path: p + "/c", ACL: rsACL})
	add(jute.OpGetChildren, &jute.PathWatchRequest{Path: p, Watch: true})
	add(jute.OpExists, &jute.PathWatchRequest{Path: p + "/c"})
	add(jute.OpDelete, &jute.PathVersionRequest{Path: p + "/c", Version: -1}, rsWant{ev: 4, path: p})
	add(jute.OpPing, nil)
	add(jute.OpSync, &jute.PathRequest{Path: p})
	add(jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{
		{Type: jute.OpSetData, Path: p, Data: []byte(m), Version: -1}, {Type: jute.OpCheck, Path: p, Version: -1},
	}})
	add(jute.OpGetData, &jute.PathWatchRequest{Path: p}).data = &m
	return b, want, m
}

// rsErrExpired: a victim's session expired under it.
var rsErrExpired = errors.New("the session expired")

// expect reads the frames want lists and checks them; an error says how
// the stream differs (io.EOF and other socket errors as they are). With
// expiring, a reply of SESSIONEXPIRED in place of the next reply (the
// events before it never fired) ends the stream: rsErrExpired.
func (c *rsClient) expect(want []rsWant, expiring bool) error {
	for i, w := range want {
		f, err := c.next()
		if err != nil {
			return err
		}
		if expiring && f.ev == nil && f.h.Err == -112 {
			j := i
			for j < len(want) && want[j].xid == 0 {
				j++
			}
			if j < len(want) && f.h.Xid == want[j].xid {
				return rsErrExpired
			}
		}
		switch {
		case w.xid == 0 && (f.ev == nil || f.ev.Type != w.ev || f.ev.Path != w.path):
			return fmt.Errorf("frame %d: %v, want %v", i, f, w)
		case w.xid != 0 && (f.ev != nil || f.h.Xid != w.xid || f.h.Err != 0):
			return fmt.Errorf("frame %d: %v, want %v", i, f, w)
		case w.data != nil:
			var r jute.GetDataResponse
			if err := jute.Unmarshal(f.body, &r); err != nil || string(r.Data) != *w.data {
				return fmt.Errorf("frame %d: getData %q (%v), want %q: a read did not see the writes before it", i, r.Data, err, *w.data)
			}
		}
	}
	return nil
}

// writeChunks writes b in pieces of random sizes (a frame split anywhere).
func (c *rsClient) writeChunks(b []byte, rng *rand.Rand) error {
	for len(b) > 0 {
		n := min(len(b), 1+rng.IntN(300))
		if rng.IntN(4) == 0 {
			n = len(b)
		}
		if _, err := c.nc.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// rsErrSelf: the client closed its connection in the middle of a frame.
var rsErrSelf = errors.New("closed mid-frame by its client")

// pipeline keeps up to three batches of three rounds (about a hundred
// requests) in flight on c's node path: a writer goroutine sends batch
// after batch, split anywhere, while this goroutine checks what comes back.
// It ends after batches batches (0: while more says so), on the first
// error (a wrong frame, the connection's end, none of them within 20s), or
// when self asks the client to close its connection mid-frame (rsErrSelf).
func (c *rsClient) pipeline(path string, batches int, rng *rand.Rand, expiring bool, more func() bool, self *atomic.Bool) error {
	wants := make(chan []rsWant, 3)
	quit := make(chan struct{})
	werrC := make(chan error, 1)
	go func() {
		defer close(wants)
		prev, n := "init", 0
		for i := 0; batches == 0 || i < batches; i++ {
			if more != nil && !more() {
				break
			}
			var b []byte
			var want []rsWant
			for range 3 {
				var w []rsWant
				b, w, prev = c.round(b, path, prev, n)
				want = append(want, w...)
				n++
			}
			if self != nil && self.Load() {
				c.nc.Write(b[:len(b)/2+3])
				c.nc.Close()
				werrC <- rsErrSelf
				return
			}
			select {
			case wants <- want:
			case <-quit:
				werrC <- nil
				return
			}
			if err := c.writeChunks(b, rng); err != nil {
				werrC <- err
				return
			}
		}
		werrC <- nil
	}()
	var err error
	for want := range wants {
		c.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
		if err = c.expect(want, expiring); err != nil {
			break
		}
	}
	close(quit)
	if err != nil && !errors.Is(err, rsErrExpired) {
		c.nc.Close() // the writer may wait on a socket nobody reads
	}
	werr := <-werrC
	switch {
	case errors.Is(werr, rsErrSelf):
		return werr
	case err != nil:
		return err
	}
	return werr
}

// rsVictim is a connection the chaos may kill.
type rsVictim struct {
	mu   sync.Mutex
	c    *rsClient
	k    *conn
	self atomic.Bool // the client itself closes mid-frame
}

// TestRingStressMixedPipelines: clients pipeline rounds of mixed requests
// (reads run on the spot, writes, multi, sync, ping, watches that fire
// within the round) in frames split anywhere, and must get exactly
// ZooKeeper's order: replies in xid order, each event after the reply of
// the read that set its watch and before the reply of the write that fired
// it, every read seeing the writes before it. Meanwhile other clients doing
// the same are killed at random points (kill, expiry, their session taken
// over by a new connection that then closes it, their own close in the
// middle of a frame); what they got before the close must be a prefix of
// the same order, and each must see its close. Catches: an event or reply
// out of order or lost (the ring's send of an outbox, a flush posted to the
// ring), a read run inline ahead of a queued call, a victim's teardown
// disturbing another connection, a connection never closed.
func TestRingStressMixedPipelines(t *testing.T) {
	rsEachMode(t, func(t *testing.T, mode string) {
		p := rsStart(t, mode, rsOpts{})
		const survivors, victims, batches = 6, 6, 40
		var stop atomic.Bool
		var wg sync.WaitGroup
		for i := 0; i < survivors; i++ {
			c := rsDial(t, p.addr, 0)
			c.mustConnect(t)
			path := fmt.Sprintf("/s%d", i)
			c.ok(t, jute.OpCreate, &jute.CreateRequest{Path: path, Data: []byte("init"), ACL: rsACL})
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.pipeline(path, batches, rand.New(rand.NewPCG(uint64(i), 1)), false, nil, nil); err != nil {
					t.Errorf("survivor %d: %v", i, err)
				}
			}()
		}
		slots := make([]*rsVictim, victims)
		var vwg sync.WaitGroup
		for i := range slots {
			slots[i] = &rsVictim{}
			vwg.Add(1)
			go func() {
				defer vwg.Done()
				rsChurn(t, p, i, slots[i], &stop)
			}()
		}
		chaosDone := make(chan struct{})
		go func() {
			defer close(chaosDone)
			rsChaos(t, p, slots, &stop)
		}()
		wg.Wait()
		stop.Store(true)
		<-chaosDone
		rsWaitGroup(t, &vwg, 30*time.Second, "the victims")
		rsPoll(t, 15*time.Second, "the server holds the survivors' connections alone", func() bool {
			return len(p.srv.connList()) == survivors
		})
		rsBooks(t, p.srv)
	})
}

// rsWaitGroup waits for wg, bounded.
func rsWaitGroup(t *testing.T, wg *sync.WaitGroup, d time.Duration, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not end within %v\n%s", what, d, rsStacks())
	}
}

// rsChurn runs victim connections one after the other until stop: each
// pipelines rounds until it is killed (or kills itself mid-frame).
func rsChurn(t *testing.T, p *rsPeer, id int, slot *rsVictim, stop *atomic.Bool) {
	rng := rand.New(rand.NewPCG(uint64(id), 2))
	for gen := 0; !stop.Load(); gen++ {
		c, err := rsDialErr(p.addr, 0)
		if err != nil {
			t.Errorf("victim %d: %v", id, err)
			return
		}
		func() {
			defer c.nc.Close()
			if resp, err := c.connect(0, nil); err != nil || resp.SessionID == 0 {
				t.Errorf("victim %d: connect: %+v %v", id, resp, err)
				return
			}
			path := fmt.Sprintf("/v%d-%d", id, gen)
			if f, err := c.call(jute.OpCreate, &jute.CreateRequest{Path: path, Data: []byte("init"), ACL: rsACL}); err != nil || f.h.Err != 0 {
				t.Errorf("victim %d: create: %v %v", id, f, err)
				return
			}
			k := rsServerConn(p.srv, c)
			slot.mu.Lock()
			slot.c, slot.k = c, k
			slot.self.Store(false)
			slot.mu.Unlock()
			defer func() {
				slot.mu.Lock()
				slot.c, slot.k = nil, nil
				slot.mu.Unlock()
			}()
			err := c.pipeline(path, 0, rng, true, func() bool { return !stop.Load() }, &slot.self)
			var ne net.Error
			switch {
			case err == nil, errors.Is(err, rsErrSelf):
			case errors.As(err, &ne) && ne.Timeout():
				t.Errorf("victim %d: neither answered nor closed within 20s", id)
			case errors.Is(err, rsErrExpired):
				if err := c.closedWithin(20 * time.Second); err != nil {
					t.Errorf("victim %d: after SESSIONEXPIRED: %v", id, err)
				}
			case !rsClosedErr(err):
				t.Errorf("victim %d: %v", id, err) // out of order before the close
			}
		}()
	}
}

// rsClosedErr reports whether err is a connection's end (EOF, reset,
// broken pipe) rather than a wrong frame.
func rsClosedErr(err error) bool {
	var ne net.Error
	switch {
	case err == nil, errors.As(err, &ne) && ne.Timeout():
		return false
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// rsChaos kills random victims in random ways until stop.
func rsChaos(t *testing.T, p *rsPeer, slots []*rsVictim, stop *atomic.Bool) {
	rng := rand.New(rand.NewPCG(7, 7))
	blows := 0
	defer func() { t.Logf("%d blows", blows) }()
	for !stop.Load() {
		slot := slots[rng.IntN(len(slots))]
		slot.mu.Lock()
		c, k := slot.c, slot.k
		slot.mu.Unlock()
		if c == nil {
			runtime.Gosched()
			continue
		}
		switch rng.IntN(4) {
		case 0:
			k.kill()
		case 1:
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			if err := p.e.ExpireSession(ctx, c.sid); err != nil {
				t.Errorf("expire: %v", err)
			}
			cancel()
		case 2:
			thief, err := rsDialErr(p.addr, 0)
			if err != nil {
				t.Errorf("thief: %v", err)
				break
			}
			if resp, err := thief.connect(c.sid, c.pw); err == nil && resp.SessionID == c.sid {
				if f, err := thief.call(jute.OpExists, &jute.PathWatchRequest{Path: "/"}); err != nil || f.h.Err != 0 {
					t.Errorf("thief: exists: %v %v", f, err)
				}
				if f, err := thief.call(jute.OpCloseSession, nil); err != nil || f.h.Err != 0 {
					t.Errorf("thief: closeSession: %v %v", f, err)
				}
			}
			thief.nc.Close()
		case 3:
			slot.self.Store(true)
		}
		blows++
		// Wait for the victim to see its end (and start its next
		// connection) before the next blow.
		deadline := time.Now().Add(20 * time.Second)
		for !stop.Load() {
			slot.mu.Lock()
			same := slot.c == c
			slot.mu.Unlock()
			if !same {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("a victim did not see its connection end within 20s")
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// TestRingStressShutdownUnderLoad stops the server while clients pipeline
// as fast as they can, others connect (handshakes racing the stop), read
// nothing (sends stuck on full sockets), or linger after closeSession while
// still sending. Serve must return within 20s, every client must see its
// connection end, and the goroutines and descriptors of the server (the
// ring, its eventfd, every socket) must be gone after Ensemble.Close.
// Catches: Serve hanging on a connection whose teardown never starts (a
// shut socket whose receive brought bytes), a handshake adopted by a ring
// that already stopped, a descriptor left open, a goroutine left waiting.

// TestKilledWithWriteInFlight: a connection killed while its write waits
// for the disk drops its queue as it goes (the ring drains it at teardown;
// a completer does in the goroutine layer), collecting the write. Otherwise
// its calls stay counted in the server's outstanding requests, which
// throttle every connection once they reach GlobalOutstandingLimit. The
// session, reattached on a new connection, goes on writing.
func TestKilledWithWriteInFlight(t *testing.T) {
	rsEachMode(t, func(t *testing.T, mode string) {
		p, d := rsStallablePeer(t, mode)
		a := rsSession(t, p.addr, 60000)
		a.ok(t, jute.OpCreate, &jute.CreateRequest{Path: "/k", ACL: rsACL})
		d.stallOn(t, a, jute.OpSetData, &jute.SetDataRequest{Path: "/k", Data: []byte("a"), Version: -1})
		k := rsServerConn(p.srv, a)
		k.kill()
		rsPoll(t, 20*time.Second, "the killed connection is gone", func() bool { return len(p.srv.connList()) == 0 })
		rsPoll(t, 20*time.Second, "the killed connection's calls are no longer outstanding", func() bool {
			return p.srv.stats.outstanding.Load() == 0
		})
		d.release()
		n := rsDial(t, p.addr, 0)
		n.ask = 60000
		if resp, err := n.connect(a.sid, a.pw); err != nil || resp.SessionID != a.sid {
			t.Fatalf("reattach: %+v %v", resp, err)
		}
		n.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
		f, err := n.call(jute.OpSetData, &jute.SetDataRequest{Path: "/k", Data: []byte("b"), Version: -1})
		if err != nil || f.h.Err != 0 {
			t.Fatalf("the session's next write, on a new connection: %v %v", f, err)
		}
	})
}
