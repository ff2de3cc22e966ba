package wire

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/embedzk/zk/internal/digestmd5"
	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
)

// conn is one client connection: a reader goroutine (readLoop) that reads
// and starts its requests, a completer goroutine that answers them in order
// while some are outstanding (pipe.go), and the outgoing buffer, sent by
// whoever finds no writer running (out.go). An idle connection holds one
// goroutine, its reader.
type conn struct {
	s      *Server
	nc     net.Conn
	ip     string
	key    cnxnKey // what it counts under in Server.perIP
	ctx    context.Context
	cancel context.CancelFunc
	hdr    [4]byte      // the handshake's frame-length buffer
	in     inbox        // the reader's input (read.go)
	dec    jute.Decoder // the reader's decoder (handle)

	// Set by the reader once the session is established.
	sess    engine.RemoteSession // sess.Session is nil until the connect
	timeout time.Duration
	ended   atomic.Bool // the client closed its session: nothing to detach
	closing atomic.Bool // a closeSession is under way: its reply goes first

	watches watchTable
	sasl    *digestmd5.Server // the connection's SASL exchange, once one began (sasl.go)
	authed  atomic.Bool       // it has an identity Config.EnforceAuthSchemes accepts (enforceAuth)

	pmu  sync.Mutex
	pipe pipe
	pwg  sync.WaitGroup // the completer

	out outbox
	rc  atomic.Pointer[ringConn] // set once the server's ring serves the socket
	wk  engine.Waker             // the conn itself, for Pending.Notify

	// For the four-letter words (cons, stat, crst).
	received, sent atomic.Int64
	stats          cnxnStats
	word           atomic.Bool // its first frame was a four-letter word
	sessionID      atomic.Int64
	live           atomic.Pointer[engine.Session] // the session, for the server's monitor
	ro             atomic.Bool                    // opened read-only: the state the monitor keeps is ConnectedReadOnly
	timeoutMsA     atomic.Int64
	since          time.Time
}

func newConn(s *Server, nc net.Conn, ip string) *conn {
	c := &conn{s: s, nc: nc, ip: ip, since: time.Now()}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	c.watches.c = c
	c.wk = c
	c.initInbox()
	return c
}

// kill closes the connection at once; its goroutines end soon after. It
// never blocks and never calls into the engine (sinks call it).
func (c *conn) kill() {
	c.cancel()
	if c.rc.Load() != nil {
		c.s.ring.post(c, ringKill)
		return
	}
	c.nc.Close()
}

// begin runs the handshake, then hands the connection to the server's ring
// or to a fresh reader goroutine: the handshake's deep calls (opening a
// session) grow its goroutine's stack, which the reader of an idle
// connection would keep.
func (c *conn) begin() {
	if !c.handshake() {
		c.teardown()
		return
	}
	if c.s.ring != nil && c.s.ring.adopt(c) {
		return
	}
	c.s.wg.Add(1) // this goroutine is counted: never at zero
	go func() {
		defer c.s.wg.Done()
		c.readLoop()
	}()
}

// readLoop reads the connection's requests in order, then tears it down.
// Before it waits for the socket it sends the replies queued so far, unless
// the next request is already buffered: a batch of pipelined requests gets
// its replies in one write.
func (c *conn) readLoop() {
	defer c.teardown()
	for {
		if !c.buffered() {
			c.flush()
		}
		if !c.room() {
			return
		}
		body, err := c.readFrame(c.timeout)
		if err != nil {
			c.logEnd(err)
			return
		}
		if c.ctx.Err() != nil {
			return // the connection is ending (its session closed): nothing more runs
		}
		c.received.Add(1)
		c.s.stats.received.Add(1)
		if !c.handle(body) {
			return
		}
	}
}

func (c *conn) timeoutMs() int64 { return c.timeoutMsA.Load() }

func (c *conn) logEnd(err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || c.ctx.Err() != nil {
		return
	}
	c.s.cfg.Logger.Info("zk: client port: closing a connection", "ip", c.ip, "session", c.sessionID.Load(), "err", err)
}

// teardown ends the connection: the calls still outstanding are dropped
// (their writes collected), its watches go, and its session is detached
// from this peer (unless the client closed it, or a newer connection took
// it over); then what is queued is sent and the connection closes.
func (c *conn) teardown() {
	c.cancel()
	c.pwg.Wait()
	if c.ended.Load() {
		c.awaitClose()
	}
	c.dropInput()
	if c.sess.Session != nil {
		c.sess.DropWatchIDs(c.watches.drain())
		c.s.detach(c, c.sess, c.ended.Load())
	}
	c.finish()
	if c.rc.Load() != nil {
		c.s.ring.post(c, ringDone)
	}
	c.s.forget(c)
}

// closeLinger bounds the wait for a client to close its end once its
// session is closed.
const closeLinger = time.Second

// awaitClose sends the reply to a closeSession, then waits (at most
// closeLinger) for the client to close its end first. ZooKeeper's Java
// client, which closes its socket right after that reply, logs an error
// when the server's close overtakes its own.
func (c *conn) awaitClose() {
	c.flush()
	if c.rc.Load() != nil {
		return // the ring waited (ringIO.linger)
	}
	c.nc.SetReadDeadline(time.Now().Add(closeLinger))
	c.discard()
}
