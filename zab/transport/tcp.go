package transport

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// TCP is the Transport over TCP (optionally TLS): one listening port per
// peer, one connection per pair of peers, dialed by the higher id. See the
// package documentation for the wire protocol.
type TCP struct {
	cfg    TCPConfig
	log    *slog.Logger
	ln     net.Listener
	addr   string                             // the address our hellos name (TCPConfig.Advertise)
	peers  atomic.Pointer[map[int64]*tcpPeer] // replaced (under mu) by AddPeer, never modified
	seed   uint64
	events chan Event

	serverTLS *tls.Config // nil without TLS
	adm       *admission  // bounds the handshakes in progress on the accept side
	lastFull  time.Time   // accept loop only: when "handshake bounds reached" was last logged

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	done   chan struct{} // closed by Close
	wg     sync.WaitGroup
	closed atomic.Bool
	once   sync.Once

	mu      sync.Mutex
	closing bool // guarded by mu; set once by Close
	// maxStrangers (guarded by mu) bounds the peers added from hellos:
	// the constant maxStrangers, lowered by tests.
	maxStrangers int
	pending      map[net.Conn]struct{} // guarded by mu: connections still in their handshake
}

// tcpPeer is what the TCP knows about one other peer.
type tcpPeer struct {
	id        int64
	addr      atomic.Pointer[string]  // where it listens: fixed once a configuration lists it (address)
	clientTLS *tls.Config             // nil without TLS
	stranger  atomic.Bool             // added from a hello (AcceptStrangers) and by no configuration yet
	cur       atomic.Pointer[tcpConn] // the current connection; written under TCP.mu
	last      *tcpConn                // guarded by TCP.mu: the latest installed, maybe broken but still serving
}

var _ Transport = (*TCP)(nil)

// NewTCP validates cfg, listens at once (so a ":0" address can be read back
// with Addr) and starts dialing every peer with a lower id (with
// AcceptStrangers, knocking on each peer of cfg.Peers with a higher id).
func NewTCP(cfg TCPConfig) (*TCP, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ln := cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return nil, fmt.Errorf("transport: listen %s: %w", cfg.Listen, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &TCP{
		cfg:     cfg,
		log:     cfg.Logger.With("peer", cfg.ID),
		ln:      ln,
		events:  make(chan Event, cfg.EventBuffer),
		adm:     newAdmission(cfg.MaxHandshakes, cfg.MaxHandshakesPerHost),
		ctx:     ctx,
		cancel:  cancel,
		done:    make(chan struct{}),
		pending: make(map[net.Conn]struct{}),

		maxStrangers: maxStrangers,
	}
	if cfg.TLS != nil {
		t.serverTLS = serverTLS(cfg.TLS)
	}
	peers := make(map[int64]*tcpPeer, len(cfg.Peers))
	for id, addr := range cfg.Peers {
		peers[id] = t.newPeer(id, addr)
	}
	t.peers.Store(&peers)
	t.seed = cfg.Seed
	if t.seed == 0 {
		t.seed = randomSeed()
	}
	t.addr = cmp.Or(cfg.Advertise, cfg.Listen, ln.Addr().String())
	t.wg.Add(1)
	go t.acceptLoop()
	for _, id := range slices.Sorted(maps.Keys(peers)) {
		bo := newBackoff(cfg.Backoff, t.seed, uint64(id))
		switch {
		case id < cfg.ID:
			t.wg.Add(1)
			go t.dialLoop(peers[id], bo)
		case cfg.AcceptStrangers:
			t.wg.Add(1)
			go t.knockLoop(peers[id], bo)
		}
	}
	return t, nil
}

func (t *TCP) newPeer(id int64, addr string) *tcpPeer {
	p := &tcpPeer{id: id}
	p.addr.Store(&addr)
	if t.cfg.TLS != nil {
		p.clientTLS = clientTLS(t.cfg.TLS, id)
	}
	return p
}

// address is where p listens, as its configuration or its latest hello says.
func (p *tcpPeer) address() string { return *p.addr.Load() }

// strangers counts the peers in peers added from hellos that no
// configuration lists yet.
func (t *TCP) strangers(peers map[int64]*tcpPeer) int {
	n := 0
	for _, p := range peers {
		if p.stranger.Load() {
			n++
		}
	}
	return n
}

// peer returns the member id, or nil.
func (t *TCP) peer(id int64) *tcpPeer { return (*t.peers.Load())[id] }

// AddPeer makes peer id, at addr, a member: this transport dials it (if its
// id is lower) or accepts it from now on. A membership change (package
// zab's reconfiguration) learns new peers' addresses so. Adding a member
// again at the same address does nothing; at another address, or the
// local id, is ErrConfig. Errors: ErrClosed.
func (t *TCP) AddPeer(id int64, addr string) error {
	return t.addPeer(id, addr, false)
}

// maxStrangers is how many peers a transport adds from hellos (see
// AcceptStrangers) before it refuses more: joiners in flight at once are
// few, and a stranger that never becomes a member stays until Close.
const maxStrangers = 16

// addPeer is AddPeer; stranger marks a peer learned from its hello, which
// counts against maxStrangers until a configuration adds it too.
func (t *TCP) addPeer(id int64, addr string, stranger bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return ErrClosed
	}
	old := *t.peers.Load()
	if p := old[id]; p != nil {
		if was := p.address(); was != addr {
			if !p.stranger.Load() {
				return fmt.Errorf("%w: peer %d is at %s, not %s", ErrConfig, id, was, addr)
			}
			// A stranger that moved (restarted on another port, say), or a
			// configuration that lists it elsewhere: what is newest wins,
			// and the dial loop dials there from its next attempt.
			p.addr.Store(&addr)
			t.log.Info("a peer known only from its hello moved", "remote", id, "from", was, "to", addr)
		}
		if !stranger {
			p.stranger.Store(false) // a configuration lists it now
		}
		return nil
	}
	if id <= 0 || id == t.cfg.ID || addr == "" {
		return fmt.Errorf("%w: AddPeer(%d, %q)", ErrConfig, id, addr)
	}
	if stranger && t.strangers(old) >= t.maxStrangers {
		return fmt.Errorf("%w: %d peers are already known only from their hellos", ErrProtocol, t.maxStrangers)
	}
	peers := maps.Clone(old)
	peers[id] = t.newPeer(id, addr)
	peers[id].stranger.Store(stranger)
	t.peers.Store(&peers)
	if id < t.cfg.ID {
		t.wg.Add(1)
		go t.dialLoop(peers[id], newBackoff(t.cfg.Backoff, t.seed, uint64(id)))
	}
	return nil
}

// ID is the local peer's id.
func (t *TCP) ID() int64 { return t.cfg.ID }

// Addr is the address the transport listens on.
func (t *TCP) Addr() net.Addr { return t.ln.Addr() }

// Events is the transport's event channel, closed by Close.
func (t *TCP) Events() <-chan Event { return t.events }

// Send queues frame on the current connection to peer to; see Transport.
func (t *TCP) Send(to int64, frame []byte) error {
	if t.closed.Load() {
		return ErrClosed
	}
	p := t.peer(to)
	if p == nil {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, to)
	}
	if len(frame) > t.cfg.MaxFrame {
		return fmt.Errorf("%w: %d bytes to peer %d, limit %d", ErrFrameTooLarge, len(frame), to, t.cfg.MaxFrame)
	}
	c := p.cur.Load()
	if c == nil {
		if t.closed.Load() {
			return ErrClosed
		}
		return fmt.Errorf("%w: peer %d", ErrNotConnected, to)
	}
	return c.enqueue(frame)
}

// Disconnect breaks the current connection to peer; it re-forms.
func (t *TCP) Disconnect(peer int64) error {
	if t.closed.Load() {
		return ErrClosed
	}
	p := t.peer(peer)
	if p == nil {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, peer)
	}
	c := p.cur.Load()
	if c == nil {
		return fmt.Errorf("%w: peer %d", ErrNotConnected, peer)
	}
	c.fail(errDisconnected)
	return nil
}

// Close stops the transport; see Transport.
func (t *TCP) Close() error {
	t.once.Do(func() {
		t.mu.Lock()
		t.closing = true
		t.closed.Store(true)
		pending := make([]net.Conn, 0, len(t.pending))
		for raw := range t.pending {
			pending = append(pending, raw)
		}
		t.mu.Unlock()
		close(t.done)
		t.cancel()
		_ = t.ln.Close()
		for _, raw := range pending {
			_ = raw.Close()
		}
		for _, p := range *t.peers.Load() {
			if c := p.cur.Load(); c != nil {
				c.fail(ErrClosed)
			}
		}
		t.wg.Wait()
		close(t.events)
	})
	return nil
}

// emit hands ev to the consumer, waiting for room (back-pressure) unless the
// transport closes.
func (t *TCP) emit(ev Event) bool {
	select {
	case t.events <- ev:
		return true
	case <-t.done:
		return false
	}
}

// track registers a connection in its handshake so Close can interrupt it.
func (t *TCP) track(raw net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return false
	}
	t.pending[raw] = struct{}{}
	return true
}

func (t *TCP) untrack(raw net.Conn) {
	t.mu.Lock()
	delete(t.pending, raw)
	t.mu.Unlock()
}

// install makes c the current connection to its peer, replacing (and
// breaking) any previous one. c.serve waits for the previously installed
// connection, current or already broken, to finish serving, so the
// consumer sees its Down before c's Up. It fails if the transport is
// closing.
func (t *TCP) install(c *tcpConn) bool {
	t.mu.Lock()
	delete(t.pending, c.raw)
	if t.closing {
		t.mu.Unlock()
		return false
	}
	old := c.peer.cur.Swap(c)
	c.prev = c.peer.last
	c.peer.last = c
	t.mu.Unlock()
	if old != nil {
		t.log.Info("new connection replaces the current one", "remote", c.peer.id)
		old.fail(errReplaced)
	}
	return true
}

// detach clears c as its peer's current connection, if it still is.
func (t *TCP) detach(c *tcpConn) {
	t.mu.Lock()
	c.peer.cur.CompareAndSwap(c, nil)
	t.mu.Unlock()
}
