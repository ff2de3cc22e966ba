package transport

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

var (
	errDisconnected = errors.New("transport: disconnected locally")
	errReplaced     = errors.New("transport: replaced by a newer connection from the same peer")
)

// tcpConn is one authenticated connection to a peer. Its reader runs on the
// goroutine that made it (serve); its writer on a goroutine serve starts.
// Sends queue frames; a failure at any point breaks the whole connection.
type tcpConn struct {
	t    *TCP
	peer *tcpPeer
	raw  net.Conn  // closing it breaks everything above
	idle *idleConn // raw with per-read idle deadlines
	f    *frameRW  // over idle, or over TLS over idle
	prev *tcpConn  // the connection this one replaced; set by install

	mu     sync.Mutex
	queue  [][]byte // guarded by mu
	queued int      // guarded by mu: bytes queued or being written, with overhead
	broken bool     // guarded by mu
	cause  error    // guarded by mu: why it broke

	wake chan struct{} // cap 1: the queue is not empty
	dead chan struct{} // closed when broken
	done chan struct{} // closed when serve has emitted Down and returned
}

func newTCPConn(t *TCP, p *tcpPeer, raw net.Conn, idle *idleConn, f *frameRW) *tcpConn {
	return &tcpConn{
		t: t, peer: p, raw: raw, idle: idle, f: f,
		wake: make(chan struct{}, 1),
		dead: make(chan struct{}),
		done: make(chan struct{}),
	}
}

// enqueue adds frame to the outbound queue, or breaks the connection if the
// queue is full.
func (c *tcpConn) enqueue(frame []byte) error {
	cost := len(frame) + frameOverhead
	c.mu.Lock()
	if c.broken {
		c.mu.Unlock()
		return fmt.Errorf("%w: peer %d", ErrNotConnected, c.peer.id)
	}
	if queued := c.queued; queueFull(queued, cost, c.t.cfg.MaxQueue) {
		c.mu.Unlock()
		err := fmt.Errorf("%w: peer %d, %d bytes queued", ErrOverflow, c.peer.id, queued)
		c.fail(err)
		return err
	}
	c.queue = append(c.queue, frame)
	c.queued += cost
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// take swaps the queue out for writing; buf is reused as the next queue.
func (c *tcpConn) take(buf [][]byte) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = buf[:0]
	return q
}

func (c *tcpConn) written(n int) {
	c.mu.Lock()
	c.queued -= n
	c.mu.Unlock()
}

// fail breaks the connection once: it is no longer the peer's current one,
// its queue is dropped, and its socket is closed, which ends the reader and
// the writer.
func (c *tcpConn) fail(err error) {
	c.mu.Lock()
	if c.broken {
		c.mu.Unlock()
		return
	}
	c.broken = true
	c.cause = err
	c.queue = nil
	c.mu.Unlock()
	c.t.detach(c)
	close(c.dead)
	_ = c.raw.Close()
}

func (c *tcpConn) why() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// serve runs the connection until it breaks: Up, frames..., Down. It waits
// for the connection this one replaced to finish first, so the consumer
// sees that one's Down before this one's Up.
func (c *tcpConn) serve() {
	defer close(c.done)
	if c.prev != nil {
		<-c.prev.done
		c.prev = nil
	}
	t := c.t
	c.idle.arm(t.cfg.IdleTimeout)
	t.wg.Add(1)
	go c.writeLoop()
	t.log.Info("connection up", "remote", c.peer.id, "addr", c.raw.RemoteAddr().String())
	if !t.emit(Event{Kind: EventUp, Peer: c.peer.id}) {
		c.fail(ErrClosed)
		return
	}
	c.fail(c.readLoop())
	t.log.Info("connection down", "remote", c.peer.id, "err", c.why())
	t.emit(Event{Kind: EventDown, Peer: c.peer.id})
}

// readLoop delivers frames until the stream breaks or violates the protocol.
func (c *tcpConn) readLoop() error {
	for {
		kind, payload, err := c.f.readFrame(c.t.cfg.MaxFrame)
		if err != nil {
			if errors.Is(err, ErrProtocol) || errors.Is(err, ErrFrameTooLarge) {
				c.t.log.Warn("bad frame from peer, breaking the connection", "remote", c.peer.id, "err", err)
			}
			return fmt.Errorf("read: %w", err)
		}
		switch {
		case kind == kindData:
			if tr := c.t.cfg.Trace; tr != nil {
				tr("read", c.peer.id, 1)
			}
			if !c.t.emit(Event{Kind: EventFrame, Peer: c.peer.id, Frame: payload}) {
				return ErrClosed
			}
		case kind == kindPing && len(payload) == 0:
		default:
			err := fmt.Errorf("%w: frame kind %d with %d bytes after the handshake", ErrProtocol, kind, len(payload))
			c.t.log.Warn("bad frame from peer, breaking the connection", "remote", c.peer.id, "err", err)
			return err
		}
	}
}

// writeLoop writes queued frames, and a ping whenever the connection has
// been silent for a Heartbeat, until the connection breaks.
func (c *tcpConn) writeLoop() {
	defer c.t.wg.Done()
	hb := time.NewTimer(c.t.cfg.Heartbeat)
	defer hb.Stop()
	var spare [][]byte
	for {
		select {
		case <-c.dead:
			return
		case <-hb.C:
			if err := c.ping(); err != nil {
				c.fail(err)
				return
			}
		case <-c.wake:
			batch := c.take(spare)
			if err := c.flushFrames(batch); err != nil {
				c.fail(err)
				return
			}
			clear(batch)
			spare = batch
		}
		hb.Reset(c.t.cfg.Heartbeat)
	}
}

// flushFrames writes data frames and flushes them.
func (c *tcpConn) flushFrames(frames [][]byte) error {
	if len(frames) == 0 {
		return nil
	}
	n := 0
	for _, fr := range frames {
		if err := c.f.writeFrame(kindData, fr); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		n += len(fr) + frameOverhead
	}
	if err := c.f.w.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if tr := c.t.cfg.Trace; tr != nil {
		tr("written", c.peer.id, len(frames))
	}
	c.written(n)
	return nil
}

// ping writes and flushes a heartbeat.
func (c *tcpConn) ping() error {
	if err := c.f.writeFrame(kindPing, nil); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := c.f.w.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// idleConn is a net.Conn whose every Read, once armed, must make progress
// within the idle timeout. Writes are not bounded: a peer that stops reading
// still sends heartbeats, and a dead one is caught by its silence here.
type idleConn struct {
	net.Conn
	idle time.Duration // set by arm before the reader uses it; 0 disarmed
}

// arm starts the idle deadline. Call it on the reading goroutine, or before
// the reader starts.
func (c *idleConn) arm(d time.Duration) {
	_ = c.Conn.SetDeadline(time.Time{})
	c.idle = d
}

func (c *idleConn) Read(p []byte) (int, error) {
	if c.idle > 0 {
		if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(p)
}
