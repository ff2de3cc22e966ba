package wire

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
)

// MaxQueuedBytes bounds a connection's outgoing queue: a client whose unread
// replies and events pass it is disconnected when more comes for it. One
// reply larger than the bound is sent whole to a client that reads, as
// ZooKeeper sends it.
const MaxQueuedBytes = 8 << 20

// NewEnsemble starts a peer as engine.NewEnsemble does and, when
// cfg.ClientPort or cfg.SecureClientPort is set, serves the client protocol
// on them, and with cfg.AdminServerPort the AdminServer's commands (admin.go),
// from goroutines the Ensemble owns (Ensemble.Close stops them).
func NewEnsemble(cfg engine.Config) (*engine.Ensemble, error) {
	e, err := engine.NewEnsemble(cfg)
	if err != nil || cfg.ClientPort == 0 && cfg.SecureClientPort == 0 && cfg.AdminServerPort == 0 {
		return e, err
	}
	srv, err := Start(e)
	if err != nil {
		e.Close()
		return nil, err
	}
	if err := engine.RemoteOf(e).Own(srv.Serve); err != nil {
		srv.abandon()
		e.Close()
		return nil, err
	}
	return e, nil
}

// Server serves the client protocol for one Ensemble.
type Server struct {
	e         engine.Remote
	ens       *engine.Ensemble // for reconfig
	cfg       engine.Config
	ln        net.Listener // the client port; nil when only the secure one is set
	sln       net.Listener // the secure client port (TLS); nil when off
	aln       net.Listener // the AdminServer's HTTP port; nil when off
	maxBuffer int
	words     map[string]bool
	version   string // FullVersion, for the four-letter words
	started   time.Time
	startedMs int64             // started in Unix ms (clockMs)
	lat       *latency          // of every request answered (srvr, mntr; srst resets it)
	respSizes *engine.SizeStats // of every frame sent to a client (mntr; srst resets them)
	traceMask atomic.Int64      // ZooKeeper's trace mask (gtmk, stmk; trace.go)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	conns     map[*conn]struct{}
	perIP     map[cnxnKey]int // connections per client address and port
	perPort   map[bool]int    // connections per port: plain (false) and secure
	bySession map[int64]*conn
	closed    bool

	stats  serverStats
	bufs   bufPool  // the connections' outgoing buffers
	reads  readPool // the connections' read buffers
	limits limits
	hooks  testHooks
	ring   *ringIO // the io_uring connection layer; nil: a reader goroutine per connection
	// unified is the plain port's TLS configuration under port unification
	// (Config.ClientPortUnification), a copy of ClientTLS; nil without it.
	unified *tls.Config
}

// limits are the throttling bounds of pipe.go (the package's constants;
// tests lower them).
type limits struct {
	outstanding, outstandingBytes, global int64
}

// testHooks let the package's own tests pause a connection at a point; nil
// outside tests.
type testHooks struct {
	beforeAnswer func() // the completer, before it answers the head of its queue
	beforeReply  func() // a local call ran, its reply is not queued yet
}

// serverStats are the counters the four-letter words report.
type serverStats struct {
	received, sent atomic.Int64
	connections    atomic.Int64 // accepted since start
	outstanding    atomic.Int64
	completers     atomic.Int64 // completer goroutines started (tests)
	// With the secure port or port unification on, the counters
	// ZooKeeper's Netty factory keeps (it serves both ports then): TLS
	// handshakes that failed, and the plain port's connections from
	// loopback and other addresses.
	authFailed, plainLocal, plainRemote atomic.Int64
}

// Start binds the client ports of e (Config.ClientPort on
// Config.ClientPortAddress, Config.SecureClientPort on
// Config.SecureClientPortAddress) and the AdminServer's
// (Config.AdminServerPort; a port that cannot be bound is logged and left
// off), and records their addresses in the Ensemble.
func Start(e *engine.Ensemble) (*Server, error) {
	cfg := engine.RemoteOf(e).Config()
	ln, err := listen(cfg.ClientPortAddress, cfg.ClientPort)
	if err != nil {
		return nil, fmt.Errorf("zk: client port: %w", err)
	}
	sln, err := listen(cfg.SecureClientPortAddress, cfg.SecureClientPort)
	if err != nil {
		closeListeners(ln)
		return nil, fmt.Errorf("zk: secure client port: %w", err)
	}
	if sln != nil {
		sln = tls.NewListener(sln, cfg.ClientTLS.Clone())
	}
	s := newServer(e, ln, sln)
	if err := s.chooseIO(); err != nil {
		closeListeners(ln, sln)
		return nil, err
	}
	if s.aln = listenAdmin(cfg); s.aln != nil {
		engine.RemoteOf(e).SetAdminAddr(s.aln.Addr().String())
	}
	return s, nil
}

// listen binds port on addr: none for port 0, any free one for -1.
func listen(addr string, port int) (net.Listener, error) {
	switch {
	case port == 0:
		return nil, nil
	case port < 0:
		port = 0
	}
	return net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
}

func closeListeners(lns ...net.Listener) {
	for _, ln := range lns {
		if ln != nil {
			ln.Close()
		}
	}
}

// chooseIO makes the server's ring unless Config.ClientIO asks for a
// goroutine per connection. By default a kernel that refuses io_uring
// leaves the server with goroutines; asked for explicitly, it is an error.
func (s *Server) chooseIO() error {
	if s.cfg.ClientIO == engine.ClientIOGoroutines || s.ln == nil && s.sln == nil {
		return nil
	}
	err := s.newRing()
	switch {
	case err == nil:
	case s.cfg.ClientIO == engine.ClientIOUring:
		return fmt.Errorf("zk: client port: ClientIO %q: %w", engine.ClientIOUring, err)
	default:
		s.cfg.Logger.Info("zk: client port: io_uring refused; a goroutine per connection instead", "err", err)
	}
	return nil
}

// abandon releases a server that will not Serve.
func (s *Server) abandon() {
	closeListeners(s.ln, s.sln, s.aln)
	if s.ring != nil {
		s.ring.close()
	}
}

func newServer(e *engine.Ensemble, ln, sln net.Listener) *Server {
	r := engine.RemoteOf(e)
	cfg := r.Config()
	now := time.Now()
	s := &Server{
		e: r, ens: e, cfg: cfg, ln: ln, sln: sln, maxBuffer: cfg.JuteMaxBuffer, words: whitelist(cfg.FourLetterWords, cfg.ReadOnlyMode),
		version: FullVersion(), started: now, startedMs: now.UnixMilli(), lat: newLatency(), respSizes: newSizes(), conns: map[*conn]struct{}{}, perIP: map[cnxnKey]int{}, perPort: map[bool]int{}, bySession: map[int64]*conn{},
		limits: limits{outstanding: MaxOutstanding, outstandingBytes: MaxOutstandingBytes, global: globalLimit(cfg)},
	}
	if s.maxBuffer == 0 {
		s.maxBuffer = jute.DefaultMaxBuffer
	}
	s.traceMask.Store(defaultTraceMask)
	if cfg.ClientPortUnification && cfg.ClientTLS != nil {
		s.unified = cfg.ClientTLS.Clone()
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if ln != nil {
		r.SetClientAddr(ln.Addr().String())
	}
	if sln != nil {
		r.SetSecureClientAddr(sln.Addr().String())
	}
	return s
}

// Addr returns the client port's address (the secure one's if only it is
// set), nil when neither is (an AdminServer alone).
func (s *Server) Addr() net.Addr {
	switch {
	case s.ln != nil:
		return s.ln.Addr()
	case s.sln != nil:
		return s.sln.Addr()
	}
	return nil
}

// Serve accepts connections until stop closes, then closes the listener and
// every connection and returns once all their goroutines are gone.
func (s *Server) Serve(stop <-chan struct{}) {
	if s.ring != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.ring.run()
		}()
	}
	for _, ln := range []net.Listener{s.ln, s.sln} {
		if ln == nil {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.accept(ln)
		}()
	}
	if s.aln != nil {
		s.serveAdmin()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.monitor()
	}()
	<-stop
	s.shutdown()
}

// monitorInterval is how often the server looks for sessions that ended
// (expired, closed) or lost their serving peer.
const monitorInterval = 100 * time.Millisecond

// monitor closes the connections whose session is no longer connected, as
// a ZooKeeper server closes them when their session expires or it stops
// serving, and every connection with a session once the peer leads with
// Config.NoLeaderServes, as ZooKeeper's peer closes them when it leaves
// following for an election and then serves none as leader; the client
// reconnects (elsewhere) and learns the session's fate. One goroutine for
// all connections keeps an idle connection at one goroutine (its reader).
func (s *Server) monitor() {
	t := time.NewTicker(monitorInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		refuse := s.e.RefusesClients()
		for _, c := range s.connList() {
			// A session the client is closing ends the way awaitClose says.
			if sess := c.live.Load(); sess != nil && (refuse || sess.State() != c.liveState()) && !c.closing.Load() {
				c.kill()
			}
		}
	}
}

// shutdown closes the listener and every connection, and waits.
func (s *Server) shutdown() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.cancel()
	closeListeners(s.ln, s.sln)
	for _, c := range conns {
		c.kill()
	}
	s.wg.Wait()
}

func (s *Server) accept(ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // the listener was closed
		}
		switch {
		case ln != s.ln:
			s.admit(wrapTLS(nc), false)
		case s.unified != nil:
			s.wg.Add(1)
			go s.sniff(nc)
		default:
			s.admit(nc, true)
		}
	}
}

// admit registers a new connection of the plain port (or the secure one)
// and starts its goroutines, or closes it when that port already holds
// MaxCnxns connections, or its address MaxClientCnxns of them.
func (s *Server) admit(nc net.Conn, plainPort bool) {
	ip := remoteIP(nc)
	key := cnxnKey{ip, !plainPort}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if why, limit := s.refuse(key); why != "" {
		s.mu.Unlock()
		s.cfg.Logger.Warn("zk: client port: too many connections", "limit", why, "max", limit, "ip", ip)
		nc.Close()
		return
	}
	c := newConn(s, nc, ip)
	c.key = key
	s.conns[c] = struct{}{}
	s.perIP[key]++
	s.perPort[key.secure]++
	s.wg.Add(1)
	s.mu.Unlock()
	s.stats.connections.Add(1)
	if plainPort {
		s.countPlain(nc)
	}
	go func() {
		defer s.wg.Done()
		c.begin()
	}()
}

// countPlain counts a connection of the plain port as ZooKeeper's Netty
// factory counts one without mutual TLS (zk_non_mtls_local_conn_count and
// ..._remote_...) once its address is under maxClientCnxns: with port
// unification, a TLS one too, as ZooKeeper counts it before it knows.
// ZooKeeper serves the plain port with Netty when the secure port or port
// unification is on, and counts nothing with NIO: so does zk.
func (s *Server) countPlain(nc net.Conn) {
	if s.sln == nil && !s.cfg.ClientPortUnification {
		return
	}
	if ap, ok := nc.RemoteAddr().(*net.TCPAddr); ok && !ap.IP.IsLoopback() {
		s.stats.plainRemote.Add(1)
	} else {
		s.stats.plainLocal.Add(1)
	}
}

// refuse names the limit a new connection of key is over (MaxCnxns or
// MaxClientCnxns, checked in ZooKeeper's order), "" when none; the caller
// holds mu.
func (s *Server) refuse(key cnxnKey) (limit string, max int) {
	if max := s.cfg.MaxCnxns; max > 0 && s.perPort[key.secure] >= max {
		return "MaxCnxns", max
	}
	if max := s.cfg.MaxClientCnxns; max > 0 && s.perIP[key] >= max {
		return "MaxClientCnxns", max
	}
	return "", 0
}

// globalLimit is Config.GlobalOutstandingLimit (default
// GlobalOutstandingLimit) as ZooKeeper's servers apply theirs: a voter of
// an ensemble of more than two voters divides it by the voters less one,
// as LeaderZooKeeperServer and FollowerZooKeeperServer do.
func globalLimit(cfg engine.Config) int64 {
	limit := cfg.GlobalOutstandingLimit
	if limit == 0 {
		limit = GlobalOutstandingLimit
	}
	voters, voting := 0, false
	for _, sv := range cfg.Servers {
		if !sv.Observer {
			voters++
			voting = voting || sv.ID == cfg.ID
		}
	}
	if voting && voters > 2 {
		limit /= voters - 1
	}
	return int64(max(limit, 1))
}

// cnxnKey is what maxClientCnxns counts by: ZooKeeper's limit is per
// client address in each of its factories, one per port (a unified port's
// TLS connections count with its plain ones).
type cnxnKey struct {
	ip     string
	secure bool
}

// forget removes a finished connection.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	s.perPort[c.key.secure]--
	if s.perIP[c.key]--; s.perIP[c.key] <= 0 {
		delete(s.perIP, c.key)
	}
}

// claim makes c the connection of session id; a previous connection of the
// session is closed, as ZooKeeper closes it when the client reconnects.
func (s *Server) claim(c *conn, id int64) {
	s.mu.Lock()
	old := s.bySession[id]
	s.bySession[id] = c
	s.mu.Unlock()
	if old != nil && old != c {
		old.kill()
	}
}

// detach forgets c as its session's connection and, unless the session
// ended or a newer connection took it over, detaches the session from this
// peer. It runs under s.mu so that a reconnect (claim, then Reattach) never
// sees the session attached and then detached under it.
func (s *Server) detach(c *conn, sess engine.RemoteSession, ended bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bySession[sess.ID()] != c {
		return
	}
	delete(s.bySession, sess.ID())
	if !ended {
		sess.Detach()
	}
}

// release undoes a claim whose re-attach failed.
func (s *Server) release(c *conn, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bySession[id] == c {
		delete(s.bySession, id)
	}
}

// connList returns the live connections.
func (s *Server) connList() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

func remoteIP(nc net.Conn) string {
	host, _, err := net.SplitHostPort(nc.RemoteAddr().String())
	if err != nil {
		return nc.RemoteAddr().String()
	}
	return host
}
