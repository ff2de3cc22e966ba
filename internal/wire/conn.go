package wire

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
)

// conn is one client connection: a reader goroutine (readLoop) that
// handles requests in order, and a writer goroutine (writeLoop) that sends
// the outgoing queue.
type conn struct {
	s      *Server
	nc     net.Conn
	ip     string
	ctx    context.Context
	cancel context.CancelFunc
	hdr    [4]byte // the reader's frame-length buffer

	// Set by the reader once the session is established.
	sess    *engine.Session
	sessC   chan *engine.Session // hands the session to the writer
	timeout time.Duration
	ended   bool // the client closed its session: nothing to detach

	watches watchTable

	qmu    sync.Mutex
	q      [][]byte
	qbytes int
	flush  bool // the reader is done: send what is queued, then close
	dead   bool
	wake   chan struct{}

	// For the four-letter words (cons, stat).
	received, sent atomic.Int64
	sessionID      atomic.Int64
	timeoutMsA     atomic.Int64
	since          time.Time
}

func newConn(s *Server, nc net.Conn, ip string) *conn {
	c := &conn{s: s, nc: nc, ip: ip, sessC: make(chan *engine.Session, 1), wake: make(chan struct{}, 1), since: time.Now()}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	c.watches.c = c
	return c
}

// kill closes the connection at once; both goroutines end soon after. It
// never blocks and never calls into the engine (sinks call it).
func (c *conn) kill() {
	c.cancel()
	c.nc.Close()
}

// send queues one frame for the writer. It never blocks: a connection whose
// queue passes MaxQueuedBytes is killed.
func (c *conn) send(frame []byte) {
	c.qmu.Lock()
	if c.dead || c.flush {
		c.qmu.Unlock()
		return
	}
	if c.qbytes+len(frame) > MaxQueuedBytes {
		c.dead = true
		c.qmu.Unlock()
		c.s.cfg.Logger.Warn("zk: client port: a client does not read its replies; closing it", "ip", c.ip)
		c.kill()
		return
	}
	c.q = append(c.q, frame)
	c.qbytes += len(frame)
	c.qmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// finish asks the writer to send what is queued, then close.
func (c *conn) finish() {
	c.qmu.Lock()
	c.flush = true
	c.qmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// take empties the queue; last reports that the writer should close after
// sending it.
func (c *conn) take() (frames [][]byte, last bool) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	frames, c.q, c.qbytes = c.q, nil, 0
	return frames, c.flush
}

// writeLoop sends queued frames until the connection ends. It also ends
// the connection when its session ends or its peer stops serving, as a
// ZooKeeper server closes its connections then.
func (c *conn) writeLoop() {
	defer c.kill()
	var states <-chan engine.SessionState
	for {
		select {
		case <-c.ctx.Done():
			return
		case sess := <-c.sessC:
			states = sess.States()
		case st, ok := <-states:
			if !ok || st != engine.StateConnected {
				c.sendQueued()
				return
			}
		case <-c.wake:
			if !c.sendQueued() {
				return
			}
		}
	}
}

// sendQueued writes the queue; it returns false when the connection should
// end (a write failed, or the reader finished and all is sent).
func (c *conn) sendQueued() bool {
	frames, last := c.take()
	if len(frames) > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(c.writeTimeout()))
		bufs := net.Buffers(frames)
		if _, err := bufs.WriteTo(c.nc); err != nil {
			return false
		}
		c.sent.Add(int64(len(frames)))
		c.s.stats.sent.Add(int64(len(frames)))
	}
	return !last
}

// writeTimeout bounds one write: a client that stops reading for that long
// is gone.
func (c *conn) writeTimeout() time.Duration {
	if c.timeout > 0 {
		return c.timeout
	}
	return 30 * time.Second
}

// readLoop handles the connection's requests in order, then tears it down.
func (c *conn) readLoop() {
	defer c.teardown()
	if !c.handshake() {
		return
	}
	for {
		body, err := c.readFrame(c.timeout)
		if err != nil {
			c.logEnd(err)
			return
		}
		c.received.Add(1)
		c.s.stats.received.Add(1)
		if !c.handle(body) {
			return
		}
	}
}

// readFrame reads one frame; no frame within timeout ends the connection
// (a ZooKeeper client pings well within its session timeout).
func (c *conn) readFrame(timeout time.Duration) ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	n, err := jute.ReadFrameLen(c.nc, &c.hdr, c.s.maxBuffer)
	if err != nil {
		return nil, err
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.nc, body); err != nil {
		return nil, err
	}
	return body, nil
}

func (c *conn) timeoutMs() int64 { return c.timeoutMsA.Load() }

func (c *conn) logEnd(err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || c.ctx.Err() != nil {
		return
	}
	c.s.cfg.Logger.Info("zk: client port: closing a connection", "ip", c.ip, "session", c.sessionID.Load(), "err", err)
}

// teardown ends the connection: its watches go, and its session is
// detached from this peer (unless the client closed it, or a newer
// connection took it over); then the writer sends what is queued and
// closes.
func (c *conn) teardown() {
	if c.sess != nil {
		c.sess.DropWatchIDs(c.watches.drain())
		c.s.detach(c, c.sess, c.ended)
	}
	c.finish()
	c.s.forget(c)
}
