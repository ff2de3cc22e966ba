package zkclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/jute"
)

// Config configures Connect.
type Config struct {
	// Servers are the addresses (host:port) the client tries in turn.
	Servers []string
	// SessionTimeout is the timeout asked of the server (it negotiates it
	// into its own bounds); default 30s.
	SessionTimeout time.Duration
	// MaxFrame bounds a reply's size; default jute.DefaultMaxBuffer plus
	// room for the reply's header.
	MaxFrame int
	// Chroot, if set, roots the session's paths there (the connect
	// string's "/path" suffix): requests name Chroot+path, and created
	// paths and events come back without it, as the Java client does.
	// getEphemerals is sent as given, as the Java client 3.8 sends it.
	Chroot string
	// ReadOnly lets a server that lost its quorum take the session in
	// read-only mode (the Java client's canBeReadOnly, zkCli's -r). While
	// it is so connected, the client looks for a read-write server as the
	// Java client does (isro to the servers in turn, backing off from
	// 100 ms to 60 s) and moves to the first that answers rw: see the
	// package documentation.
	ReadOnly bool
	// TLS, if set, secures each connection (a server's secure client
	// port), as ZooKeeper's Netty client socket with
	// zookeeper.client.secure; LoadClientConfig reads it from a client
	// configuration file. The read-only search's isro probes stay plain,
	// as the Java client's.
	TLS *TLS
	// rwTiming, set by the package's tests, shortens the search for a
	// read-write server and watches its probes.
	rwTiming *rwTiming
}

// DefaultPort is the port of a server address given without one.
const DefaultPort = "2181"

// ParseServers splits zkCli's server string ("h1:p1,h2:p2"); a host
// without a port (or with an empty one) gets DefaultPort.
func ParseServers(s string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		switch {
		case strings.HasPrefix(a, "[") && strings.HasSuffix(a, "]"):
			a += ":" + DefaultPort
		case strings.HasPrefix(a, "["):
		case !strings.Contains(a, ":"):
			a += ":" + DefaultPort
		}
		if strings.HasSuffix(a, ":") {
			a += DefaultPort
		}
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("zkclient: bad server address %q: %w", a, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// ParseConnectString splits a ZooKeeper connect string
// ("h1:p1,h2:p2/chroot") into its servers (ParseServers) and its chroot
// ("" for none or "/"), as the Java client's ConnectStringParser does.
func ParseConnectString(s string) (servers []string, chroot string, err error) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s, chroot = s[:i], s[i:]
		if chroot == "/" {
			chroot = ""
		} else if err := checkChroot(chroot); err != nil {
			return nil, "", err
		}
	}
	servers, err = ParseServers(s)
	return servers, chroot, err
}

// checkChroot refuses a chroot that is not an absolute path of non-empty
// names (ZooKeeper's PathUtils.validatePath, in its common rules).
func checkChroot(p string) error {
	for _, name := range strings.Split(p[1:], "/") {
		if name == "" || name == "." || name == ".." || strings.ContainsRune(name, 0) {
			return fmt.Errorf("zkclient: bad chroot %q", p)
		}
	}
	return nil
}

// server is a client path as the server names it.
func (c *Client) server(path string) string {
	switch {
	case c.cfg.Chroot == "":
		return path
	case path == "/":
		return c.cfg.Chroot
	}
	return c.cfg.Chroot + path
}

// client is a server path as the client names it (the Java client's
// stripChroot).
func (c *Client) client(path string) string {
	switch {
	case c.cfg.Chroot == "":
		return path
	case path == c.cfg.Chroot:
		return "/"
	case len(path) > len(c.cfg.Chroot):
		return path[len(c.cfg.Chroot):]
	}
	return path
}

// State is the client's state, as a ZooKeeper client's States names it.
type State int

// The client's states.
const (
	StateConnecting State = iota // no connection: reconnecting
	StateConnected
	StateConnectedReadOnly // connected to a server in read-only mode
	StateClosed            // Close was called, or the session expired
	StateAuthFailed        // the server refused credentials and closed the connection
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "CONNECTING"
	case StateConnected:
		return "CONNECTED"
	case StateConnectedReadOnly:
		return "CONNECTEDREADONLY"
	case StateAuthFailed:
		return "AUTH_FAILED"
	}
	return "CLOSED"
}

// Event is what ZooKeeper's default watcher receives: a notification
// (Type is the event's type, KeeperState SyncConnected) or a change of
// the connection's state (Type 0, ZooKeeper's None, and no path).
type Event struct {
	State string       // SyncConnected, Disconnected, Expired, Closed, AuthFailed
	Type  zk.EventType // 0 for a state change
	Path  string
}

// ErrClosed is returned by calls on a closed client.
var ErrClosed = errors.New("zkclient: client closed")

// Client is one ZooKeeper session over TCP.
type Client struct {
	cfg     Config
	servers []string
	stop    chan struct{}
	wg      sync.WaitGroup

	mu        sync.Mutex
	state     State
	dead      error         // why the session ended (StateClosed, StateAuthFailed)
	cur       *conn         // nil while reconnecting
	ready     chan struct{} // closed when cur is set or the session ends
	tried     chan struct{} // closed (and replaced) when a reconnect attempt fails
	next      int           // index of the next server to try
	sessionID int64
	passwd    []byte
	seenRW    bool          // a read-write server took the session (the Java client's seenRwServerBefore)
	rw        rwSearch      // the search for a read-write server while read-only
	timeout   time.Duration // negotiated
	lastZxid  int64
	xid       int32
	auths     []jute.AuthPacket
	watches   watchSet
	events    []Event
}

// Connect opens a session on one of cfg.Servers. As ZooKeeper's client, it
// tries them in turn (each attempt bounded by the session timeout divided
// among the servers) until one takes the session: a server that is
// electing, syncing or cut off from its quorum accepts the connection and
// closes it at once, so after a round in which a server did, it pauses
// 100 ms (the Java client up to 1 s) and tries again, until ctx ends. A
// round in which no server accepted a connection fails at once.
func Connect(ctx context.Context, cfg Config) (*Client, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	var lastErr error
	answered := false // a server of this round accepted the connection
	for i := 0; ; i++ {
		cn, err := c.connectOne(ctx)
		if err == nil {
			c.attach(cn)
			c.wg.Add(1)
			go c.run(cn)
			return c, nil
		}
		if errors.Is(err, zk.ErrSessionExpired) {
			return nil, err
		}
		lastErr = err
		answered = answered || errors.Is(err, errHandshake)
		if i%len(c.servers) != len(c.servers)-1 {
			continue
		}
		if !answered {
			return nil, fmt.Errorf("zkclient: no server of %s took the session: %w (last error: %w)",
				strings.Join(c.servers, ","), zk.ErrConnectionLoss, lastErr)
		}
		answered = false
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("zkclient: no server of %s took the session: %w (last error: %w; %w)",
				strings.Join(c.servers, ","), zk.ErrConnectionLoss, lastErr, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Start is Connect that does not wait, as the Java client's constructor:
// the client opens its session in the background, trying the servers in
// turn until one takes it. Until then it is CONNECTING, and a call fails
// with ConnectionLoss at each attempt that fails; the session's
// SyncConnected event comes when a server takes it.
func Start(cfg Config) (*Client, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	c.wg.Add(1)
	go c.run(nil)
	return c, nil
}

func newClient(cfg Config) (*Client, error) {
	if len(cfg.Servers) == 0 {
		return nil, errors.New("zkclient: no server address")
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 30 * time.Second
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = jute.DefaultMaxBuffer + 1024
	}
	return &Client{
		cfg: cfg, servers: cfg.Servers, stop: make(chan struct{}),
		ready: make(chan struct{}), tried: make(chan struct{}), passwd: make([]byte, 16), watches: newWatchSet(),
		rw: newRWSearch(cfg.rwTiming),
	}, nil
}

// SessionID returns the session's id (0 before the first handshake).
func (c *Client) SessionID() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionID
}

// State returns the client's state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Addr returns the address of the server the client is connected to, ""
// while it reconnects.
func (c *Client) Addr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return ""
	}
	return c.cur.addr
}

// Events returns, without waiting, the events queued since the last call.
func (c *Client) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.events
	c.events = nil
	return out
}

// queue appends an event; c.mu is held.
func (c *Client) queue(e Event) { c.events = append(c.events, e) }

// Connected reports whether st has a connection (read-only or not).
func (st State) Connected() bool { return st == StateConnected || st == StateConnectedReadOnly }

// attach makes cn the current connection; false if the client was
// closed (or failed to authenticate) meanwhile.
func (c *Client) attach(cn *conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == StateClosed || c.state == StateAuthFailed {
		return false
	}
	c.cur = cn
	c.state = StateConnected
	ev := "SyncConnected"
	if cn.readOnly {
		c.state, ev = StateConnectedReadOnly, "ConnectedReadOnly"
		c.wg.Add(1)
		go c.searchRW(cn)
	}
	close(c.ready)
	c.queue(Event{State: ev})
	return true
}

// run keeps the session connected: when the current connection dies (or
// at once, when cn is nil: Start) it tries the servers in turn until one
// takes the session (back), the server declares it expired, or Close is
// called.
func (c *Client) run(cn *conn) {
	defer c.wg.Done()
	for {
		if cn != nil {
			select {
			case <-cn.dead:
			case <-c.stop:
				cn.close(ErrClosed)
				return
			}
			if !c.detach(cn) {
				return
			}
		}
		next, ok := c.reconnect()
		if !ok {
			return
		}
		cn = next
	}
}

// detach notes the loss of cn; false if the session is over.
func (c *Client) detach(cn *conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == cn {
		c.cur = nil
	}
	if !c.state.Connected() {
		return false // closed or auth failed meanwhile
	}
	c.state = StateConnecting
	c.ready = make(chan struct{})
	c.queue(Event{State: "Disconnected"})
	return true
}

// reconnect tries the servers until one takes the session back.
func (c *Client) reconnect() (*conn, bool) {
	for i := 0; ; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-c.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		cn, err := c.connectOne(ctx)
		cancel()
		switch {
		case err == nil:
			if !c.attach(cn) {
				cn.close(ErrClosed)
				return nil, false
			}
			return cn, true
		case errors.Is(err, zk.ErrSessionExpired):
			c.end(StateClosed, zk.ErrSessionExpired, "Expired")
			return nil, false
		case c.isStopped():
			return nil, false
		}
		c.mu.Lock()
		close(c.tried) // the calls waiting for a connection fail
		c.tried = make(chan struct{})
		c.mu.Unlock()
		if i%len(c.servers) == len(c.servers)-1 {
			select {
			case <-c.stop:
				return nil, false
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

func (c *Client) isStopped() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// end ends the session with state st; calls fail with why from now on.
// An event of state evState is queued unless evState is "".
func (c *Client) end(st State, why error, evState string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == StateClosed || c.state == StateAuthFailed {
		return
	}
	c.state, c.dead = st, why
	select {
	case <-c.ready:
	default:
		close(c.ready) // wake the calls waiting for a connection
	}
	if evState != "" {
		c.queue(Event{State: evState})
	}
}

// Close ends the session (closeSession, bounded by ctx) and stops the
// client's goroutines. Closing a closed client does nothing.
func (c *Client) Close(ctx context.Context) error {
	var err error
	if c.State().Connected() {
		_, err = c.do(ctx, jute.OpCloseSession, nil, nil, nil)
	}
	c.mu.Lock()
	if c.state != StateClosed && c.state != StateAuthFailed {
		c.state, c.dead = StateClosed, ErrClosed
	}
	cn := c.cur
	c.mu.Unlock()
	select {
	case <-c.stop:
		return nil
	default:
		close(c.stop)
	}
	if cn != nil {
		cn.close(ErrClosed)
	}
	c.wg.Wait()
	if errors.Is(err, ErrClosed) {
		err = nil
	}
	return err
}

// current waits for a connection (or the session's end, or ctx). While
// the client reconnects, a call fails with ConnectionLoss at the next
// attempt that fails, as the Java client fails its queued requests then.
func (c *Client) current(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		cn, ready, tried, st, dead := c.cur, c.ready, c.tried, c.state, c.dead
		c.mu.Unlock()
		switch {
		case st == StateClosed || st == StateAuthFailed:
			return nil, dead
		case cn != nil:
			return cn, nil
		}
		select {
		case <-ready:
		case <-c.stop: // Close: the state says why
		case <-tried:
			return nil, fmt.Errorf("%w: no server took the session back", zk.ErrConnectionLoss)
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", zk.ErrConnectionLoss, ctx.Err())
		}
	}
}

// nextXid returns the next request's xid (1, 2, ...; never a special one).
func (c *Client) nextXid() int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.xid++
	if c.xid <= 0 {
		c.xid = 1
	}
	return c.xid
}

// seen notes a reply's zxid.
func (c *Client) seen(zxid int64) {
	c.mu.Lock()
	if zxid > c.lastZxid {
		c.lastZxid = zxid
	}
	c.mu.Unlock()
}
