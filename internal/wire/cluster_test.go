package wire_test

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/wire"
	"github.com/embedzk/zk/zab/transport"
)

// startCluster starts n peers over an in-memory network (real clock, short
// ticks: go-zookeeper runs on real time), each with a client port.
func startCluster(t *testing.T, n int) []*engine.Ensemble {
	return startClusterWith(t, n, nil)
}

// startClusterWith is startCluster with each peer's configuration changed
// by tweak (nil: none).
func startClusterWith(t *testing.T, n int, tweak func(*engine.Config)) []*engine.Ensemble {
	peers, _ := startClusterNet(t, n, tweak)
	return peers
}

// startClusterNet is startClusterWith that also returns the peers' network.
func startClusterNet(t *testing.T, n int, tweak func(*engine.Config)) ([]*engine.Ensemble, *transport.Network) {
	var ids []int64
	var servers []engine.Server
	for i := 1; i <= n; i++ {
		ids = append(ids, int64(i))
		servers = append(servers, engine.Server{ID: int64(i), Host: "inmem", QuorumPort: 2000 + i, ElectionPort: 3000 + i})
	}
	network := transport.NewNetwork(transport.NetworkOptions{Peers: ids})
	t.Cleanup(network.Close)
	peers := make([]*engine.Ensemble, n)
	for i := range peers {
		cfg := peerConfig()
		cfg.ManualClock, cfg.TickTime, cfg.FS = false, 50*time.Millisecond, vfs.NewMem()
		// The clients ask for 4 s (dial); ZooKeeper's default bound, 20
		// ticks, would cut that to 1 s of real time, which a loaded CI
		// machine has let a test's absent client outlive.
		cfg.MaxSessionTimeout = 20 * time.Second
		cfg.ID, cfg.Servers, cfg.Transport = int64(i+1), servers, network.Restart(int64(i+1))
		cfg.Rand = &seeded{x: uint64(i+1) * 0x9e3779b97f4a7c15}
		if tweak != nil {
			tweak(&cfg)
		}
		e, err := wire.NewEnsemble(cfg)
		must(t, err)
		t.Cleanup(func() { e.Close() })
		peers[i] = e
	}
	for _, e := range peers {
		must(t, e.WaitServing(testCtx(t)))
	}
	return peers, network
}

// switchProxy forwards client connections to a target it can change; while
// paused it refuses them.
type switchProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	target string
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	p := &switchProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.run()
	t.Cleanup(func() {
		ln.Close()
		p.cut("")
		p.wg.Wait()
	})
	return p
}

func (p *switchProxy) run() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		if target == "" {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); io.Copy(s, c); s.Close() }()
		go func() { defer p.wg.Done(); io.Copy(c, s); c.Close() }()
	}
}

// cut closes every proxied connection and sends new ones to target ("" to
// refuse them).
func (p *switchProxy) cut(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestReconnectToAnotherPeer: a go-zookeeper session moves from one peer of
// a 3-peer ensemble to another; its ephemeral node stays, its watches
// survive, and the changes made while it was away arrive as events.
func TestReconnectToAnotherPeer(t *testing.T) {
	peers := startCluster(t, 3)
	proxy := newSwitchProxy(t, peers[0].ClientAddr())
	c1, events := dial(t, proxy.ln.Addr().String())
	c2, _ := dial(t, peers[2].ClientAddr())
	_, err := c1.Create("/d", []byte("1"), 0, open)
	must(t, err)
	_, err = c1.Create("/p", nil, 0, open)
	must(t, err)
	_, err = c1.Create("/p/mine", nil, gozk.FlagEphemeral, open)
	must(t, err)
	_, _, dataW, err := c1.GetW("/d")
	must(t, err)
	_, _, existW, err := c1.ExistsW("/new")
	must(t, err)
	_, _, childW, err := c1.ChildrenW("/p")
	must(t, err)

	proxy.cut("") // c1 is away
	waitState(t, events, gozk.StateDisconnected)
	_, err = c2.Set("/d", []byte("2"), -1)
	must(t, err)
	_, err = c2.Create("/new", nil, 0, open)
	must(t, err)
	_, err = c2.Create("/p/kid", nil, 0, open)
	must(t, err)
	proxy.cut(peers[1].ClientAddr()) // c1 comes back, on another peer
	waitState(t, events, gozk.StateHasSession)

	for name, ch := range map[string]<-chan gozk.Event{"data": dataW, "exist": existW, "child": childW} {
		ev := nextEvent(t, ch)
		if ev.Type < gozk.EventNodeCreated || ev.Type > gozk.EventNodeChildrenChanged {
			t.Fatalf("%s watch: %+v", name, ev)
		}
	}
	data, _, err := c1.Get("/d")
	must(t, err)
	if string(data) != "2" {
		t.Fatalf("c1 reads %q after moving", data)
	}
	ok, _, err := c2.Exists("/p/mine")
	must(t, err)
	if !ok {
		t.Fatal("the moved session's ephemeral node is gone")
	}
}

// TestRefuseClientAhead: a client that saw a newer zxid than the peer has
// is refused, as ZooKeeper refuses it.
func TestRefuseClientAhead(t *testing.T) {
	e := startPeer(t, peerConfig())
	r := rawDial(t, e.ClientAddr())
	r.write(jute.AppendFrame(nil, &jute.ConnectRequest{TimeOut: 4000, LastZxidSeen: engine.RemoteOf(e).AppliedZxid() + 1000, Passwd: make([]byte, 16)}))
	if !r.closed() {
		t.Fatal("a client ahead of the peer was accepted")
	}
	ok := rawDial(t, e.ClientAddr())
	if resp := ok.connect(jute.ConnectRequest{LastZxidSeen: engine.RemoteOf(e).AppliedZxid()}); resp.SessionID == 0 {
		t.Fatal("a client level with the peer was refused")
	}
}

// TestReattachByPassword: a session re-attaches by id and password; a wrong
// password is told its session is gone (zero session id and timeout).
func TestReattachByPassword(t *testing.T) {
	e := startPeer(t, peerConfig())
	a := rawDial(t, e.ClientAddr())
	resp := a.connect(jute.ConnectRequest{})
	createRaw(a, "/eph", 1)
	a.nc.Close()
	bad := rawDial(t, e.ClientAddr())
	wrong := append([]byte(nil), resp.Passwd...)
	wrong[0] ^= 1
	if r := bad.connect(jute.ConnectRequest{SessionID: resp.SessionID, Passwd: wrong}); r.SessionID != 0 || r.TimeOut != 0 {
		t.Fatalf("wrong password accepted: %+v", r)
	}
	b := rawDial(t, e.ClientAddr())
	if r := b.connect(jute.ConnectRequest{SessionID: resp.SessionID, Passwd: resp.Passwd}); r.SessionID != resp.SessionID {
		t.Fatalf("reattach: %+v", r)
	}
	var eph jute.StringsResponse
	b.ok(jute.OpGetEphemerals, &jute.PathRequest{Path: "/"}, &eph)
	if len(eph.Strings) != 1 {
		t.Fatalf("ephemerals after reattach %v", eph.Strings)
	}
}

// TestReattachClosesOldConnection: a client that re-attaches its session
// while its old connection is still open takes the session over; the old
// connection is closed, as ZooKeeper closes it, and the session stays
// attached to the peer.
func TestReattachClosesOldConnection(t *testing.T) {
	e := startPeer(t, peerConfig())
	a := rawDial(t, e.ClientAddr())
	resp := a.connect(jute.ConnectRequest{})
	createRaw(a, "/mine", 1)
	b := rawDial(t, e.ClientAddr())
	if got := b.connect(jute.ConnectRequest{SessionID: resp.SessionID, Passwd: resp.Passwd}); got.SessionID != resp.SessionID {
		t.Fatalf("reattach: %+v", got)
	}
	if !a.closed() {
		t.Fatal("the old connection stayed open")
	}
	var eph jute.StringsResponse
	b.ok(jute.OpGetEphemerals, &jute.PathRequest{Path: "/"}, &eph)
	if len(eph.Strings) != 1 {
		t.Fatalf("ephemerals %v", eph.Strings)
	}
	if st := e.Status(); st.Sessions != 1 {
		t.Fatalf("%d sessions attached, want 1", st.Sessions)
	}
}

// TestRefuseWhileNotServing: a peer cut off from its quorum closes every
// connect, a new session's and a re-attach's, as ZooKeeper's server closes
// them while it is not running, once a TickTime (50 ms here) has passed
// since it stopped serving; it does not hold them for their session timeout
// (20 s here, longer than closed waits). The session is not touched: once
// the peer serves again, it re-attaches there.
func TestRefuseWhileNotServing(t *testing.T) {
	peers, network := startClusterNet(t, 3, nil)
	cut := peers[0]
	r := rawDial(t, cut.ClientAddr())
	sess := r.connect(jute.ConnectRequest{TimeOut: 20000})
	createRaw(r, "/before", 0)
	network.Isolate(cut.Status().ID)
	waitFor(t, func() bool { return !cut.Status().Serving })
	refused(t, cut.ClientAddr(), jute.ConnectRequest{TimeOut: 20000})
	refused(t, cut.ClientAddr(), jute.ConnectRequest{TimeOut: 20000, SessionID: sess.SessionID, Passwd: sess.Passwd})
	network.Heal()
	must(t, cut.WaitServing(testCtx(t)))
	back := rawDial(t, cut.ClientAddr())
	if resp := back.connect(jute.ConnectRequest{TimeOut: 20000, SessionID: sess.SessionID, Passwd: sess.Passwd}); resp.SessionID != sess.SessionID {
		t.Fatalf("re-attach after the peer serves again: %+v, want session %#x", resp, sess.SessionID)
	}
	var st jute.Stat
	back.ok(jute.OpExists, &jute.PathWatchRequest{Path: "/before"}, &st)
}

// TestConnectHeldUntilServing: a peer that stopped serving less than a
// TickTime ago holds a connect, a new session's and a re-attach's, and
// answers both once it serves again, here after its partition heals (an
// election, on a quick network, takes far less than a TickTime). Without
// the hold both would close, and a client that tried every server in an
// election (go-zookeeper) would fail its queued requests with ErrNoServer.
func TestConnectHeldUntilServing(t *testing.T) {
	peers, network := startClusterNet(t, 3, func(c *engine.Config) { c.TickTime, c.SyncLimit = time.Second, 1 })
	f := peers[0]
	if f.Status().Mode == engine.ModeLeading {
		f = peers[1]
	}
	addr := f.ClientAddr()
	before := rawDial(t, addr)
	sess := before.connect(jute.ConnectRequest{TimeOut: 20000})
	createRaw(before, "/before", 0)
	network.Isolate(f.Status().ID)
	waitFor(t, func() bool { return !f.Status().Serving })
	fresh, back := rawDial(t, addr), rawDial(t, addr)
	fresh.write(jute.AppendFrame(nil, &jute.ConnectRequest{TimeOut: 20000, Passwd: make([]byte, 16)}))
	back.write(jute.AppendFrame(nil, &jute.ConnectRequest{TimeOut: 20000, SessionID: sess.SessionID, Passwd: sess.Passwd}))
	for _, r := range []*rawConn{fresh, back} {
		// Held: no answer and no close while the peer is cut off (the
		// refusal this replaced closed at once).
		r.nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		var b [1]byte
		if _, err := r.nc.Read(b[:]); !isTimeout(err) {
			t.Fatalf("a connect to a peer that just stopped serving: %v, want it held", err)
		}
		r.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	}
	network.Heal()
	var resp jute.ConnectResponse
	must(t, jute.Unmarshal(fresh.read(), &resp))
	if resp.SessionID == 0 || resp.SessionID == sess.SessionID {
		t.Fatalf("held new session: %+v", resp)
	}
	must(t, jute.Unmarshal(back.read(), &resp))
	if resp.SessionID != sess.SessionID {
		t.Fatalf("held re-attach: %+v, want session %#x", resp, sess.SessionID)
	}
	if !f.Status().Serving {
		t.Fatal("answered a held connect before serving")
	}
	var st jute.Stat
	back.ok(jute.OpExists, &jute.PathWatchRequest{Path: "/before"}, &st)
	fresh.ok(jute.OpExists, &jute.PathWatchRequest{Path: "/before"}, &st)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
