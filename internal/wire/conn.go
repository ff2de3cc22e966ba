package wire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
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
// the outgoing queue. The writer runs only while there is something to
// send, so an idle connection holds one goroutine.
type conn struct {
	s      *Server
	nc     net.Conn
	ip     string
	ctx    context.Context
	cancel context.CancelFunc
	hdr    [4]byte // the handshake's frame-length buffer
	ra     [readAhead]byte
	raN    int // bytes of ra read from the socket and not used yet

	// Set by the reader once the session is established.
	sess    engine.RemoteSession // sess.Session is nil until the connect
	timeout time.Duration
	ended   bool // the client closed its session: nothing to detach

	watches watchTable

	qmu     sync.Mutex
	q       [][]byte
	qbytes  int
	flush   bool // the reader is done: send what is queued, then close
	dead    bool
	writing bool // a writer goroutine runs

	// For the four-letter words (cons, stat).
	received, sent atomic.Int64
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
	return c
}

// kill closes the connection at once; both goroutines end soon after. It
// never blocks and never calls into the engine (sinks call it).
func (c *conn) kill() {
	c.cancel()
	c.nc.Close()
}

// send queues one frame; a writer goroutine sends it. It never blocks: a
// connection whose queue passes MaxQueuedBytes is killed. Sinks call it
// from the apply loop.
func (c *conn) send(frame []byte) {
	if c.enqueue(frame) {
		c.s.wg.Add(1) // the reader is alive (send queues nothing after finish): never at zero
		go func() {
			defer c.s.wg.Done()
			c.writeLoop()
		}()
	}
}

// reply queues one frame from the reader and, unless a writer runs, sends
// the queue on the reader's own goroutine: a reply costs no goroutine, and
// a client that does not read stalls only its own reader.
func (c *conn) reply(frame []byte) {
	if c.enqueue(frame) {
		c.writeLoop()
	}
}

// enqueue appends frame to the queue; it reports whether the caller must
// run the writer (none runs).
func (c *conn) enqueue(frame []byte) bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.dead || c.flush {
		return false
	}
	if c.qbytes+len(frame) > MaxQueuedBytes {
		c.dead = true
		c.s.cfg.Logger.Warn("zk: client port: a client does not read its replies; closing it", "ip", c.ip)
		c.kill()
		return false
	}
	c.q = append(c.q, frame)
	c.qbytes += len(frame)
	return c.claim()
}

// claim makes the caller the writer unless one runs; the caller holds qmu.
func (c *conn) claim() bool {
	if c.writing {
		return false
	}
	c.writing = true
	return true
}

// finish sends what is queued, then closes the connection (or leaves that
// to the writer that runs).
func (c *conn) finish() {
	c.qmu.Lock()
	c.flush = true
	mine := c.claim()
	c.qmu.Unlock()
	if mine {
		c.writeLoop()
	}
}

// take empties the queue. With nothing to send it ends the writer's turn
// (more reports false); last reports that the connection ends after this.
func (c *conn) take() (frames [][]byte, more, last bool) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	frames, c.q, c.qbytes = c.q, nil, 0
	if len(frames) == 0 && !c.flush {
		c.writing = false
		return nil, false, false
	}
	return frames, true, c.flush
}

// writeLoop sends queued frames until the queue is empty, then ends; it
// closes the connection when a write fails or the reader finished.
func (c *conn) writeLoop() {
	for {
		frames, more, last := c.take()
		if !more {
			return
		}
		if len(frames) > 0 {
			c.nc.SetWriteDeadline(time.Now().Add(c.writeTimeout()))
			var err error
			if len(frames) == 1 {
				_, err = c.nc.Write(frames[0])
			} else {
				bufs := net.Buffers(frames)
				_, err = bufs.WriteTo(c.nc)
			}
			if err != nil {
				c.qmu.Lock()
				c.dead, c.q, c.qbytes = true, nil, 0 // nothing more is queued
				c.qmu.Unlock()
				c.kill()
				return
			}
			c.sent.Add(int64(len(frames)))
			c.s.stats.sent.Add(int64(len(frames)))
		}
		if last {
			c.kill()
			return
		}
	}
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

// readAhead is how many bytes the reader asks the socket for at once: a
// small request (a getData, an exists) arrives whole in one read.
const readAhead = 128

// readFrame reads one frame; no frame within timeout ends the connection
// (a ZooKeeper client pings well within its session timeout). The length is
// checked against jute.maxbuffer before the body is allocated.
func (c *conn) readFrame(timeout time.Duration) ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	for c.raN < 4 {
		n, err := c.nc.Read(c.ra[c.raN:])
		c.raN += n
		if err != nil && c.raN < 4 {
			return nil, err
		}
	}
	n := int32(binary.BigEndian.Uint32(c.ra[:4]))
	if n < 0 || int64(n) > int64(c.s.maxBuffer) {
		return nil, fmt.Errorf("%w: %d (limit %d)", jute.ErrFrameTooLarge, n, c.s.maxBuffer)
	}
	body := make([]byte, n)
	k := copy(body, c.ra[4:c.raN])
	c.raN = copy(c.ra[:], c.ra[4+k:c.raN])
	if _, err := io.ReadFull(c.nc, body[k:]); err != nil {
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
	if c.sess.Session != nil {
		c.sess.DropWatchIDs(c.watches.drain())
		c.s.detach(c, c.sess, c.ended)
	}
	c.finish()
	c.s.forget(c)
}
