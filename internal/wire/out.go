package wire

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/watch"
)

// outbox is a connection's outgoing bytes: replies and watch events encoded
// back to back into one buffer, sent by one write per batch. Whoever finds
// no writer running becomes the writer: the reader or the completer on its
// own goroutine (after a batch of replies), a fresh goroutine for events
// queued by the apply loop. The buffers come from the server's pool and go
// back to it when the connection falls idle, so an idle connection holds
// none.
//
// Events and replies leave in ZooKeeper's order. Every reply has a
// position, the zxid of the state it reflects: a write's own zxid, the
// state a read saw. An event leaves before every reply whose position is at
// or past its zxid and after every other one. So an event that fires while
// writes of this connection are in flight, or while a read that registered
// a watch has not replied yet, is held, and each reply first releases the
// held events its position covers. (A client registers a watch when the
// read's reply arrives: an event before it would reach no watcher.)
type outbox struct {
	mu    sync.Mutex
	buf   []byte // frames queued, not taken by the writer yet
	n     int    // frames in buf
	big   int    // the largest frame in buf over MaxQueuedBytes (0: none): bound exempts it
	spare []byte // the buffer the writer last sent, for reuse

	held     []byte       // held event frames, in zxid order
	marks    []heldMark   // where each held event ends
	first    int          // marks[first:] are still held
	writes   atomic.Int32 // started writes not answered yet
	holding  bool         // a read registered a watch and has not replied
	holdZxid int64        // the state that read saw

	enc jute.Encoder // appendReply's, under mu

	closing bool // send what is queued, then close
	dead    bool // nothing more is queued
	writing bool // a writer runs
}

// heldMark is one held event: its zxid, and its frame's end in held.
type heldMark struct {
	zxid int64
	end  int
}

// bufPool holds the outboxes' buffers. A pool holds pointers (a slice put
// in an interface would be allocated), and the pointers themselves are
// pooled too: boxing a buffer would otherwise cost an allocation per put.
type bufPool struct {
	p     sync.Pool // *[]byte holding a buffer
	boxes sync.Pool // *[]byte holding nothing
}

// keepCap is the largest buffer the pool keeps.
const keepCap = 64 << 10

func (bp *bufPool) get() []byte {
	box, ok := bp.p.Get().(*[]byte)
	if !ok {
		return make([]byte, 0, 4096)
	}
	b := (*box)[:0]
	*box = nil
	bp.boxes.Put(box)
	return b
}

func (bp *bufPool) put(b []byte) {
	if b == nil || cap(b) > keepCap {
		return
	}
	box, ok := bp.boxes.Get().(*[]byte)
	if !ok {
		box = new([]byte)
	}
	*box = b[:0]
	bp.p.Put(box)
}

// frameFn appends one frame to b.
type frameFn func(b []byte) []byte

// noPos is the position of a reply that reflects no new state (a ping, an
// auth, a write refused before it was proposed): it releases no event.
const noPos = 0

// queueReply appends a reply at position pos (see outbox), after the held
// events pos covers; write says the reply answers a started write. The
// caller flushes once its batch of replies is queued.
func (c *conn) queueReply(h *jute.ReplyHeader, resp jute.Record, pos int64, write bool) {
	c.queueFrames(nil, h, resp, pos, write)
}

// queueFrames appends events evs (the events a reconnecting client missed)
// then a reply, as queueReply does.
func (c *conn) queueFrames(evs []watch.Event, h *jute.ReplyHeader, resp jute.Record, pos int64, write bool) {
	o := &c.out
	o.mu.Lock()
	defer o.mu.Unlock()
	if write {
		o.writes.Add(-1)
	}
	if o.dead || o.closing || c.ctx.Err() != nil {
		// A connection that is ending answers nothing more: the calls
		// queued when it ended were dropped, so a reply queued now (a
		// ping the reader ran once the completer had dropped them) would
		// overtake theirs, which never come.
		return
	}
	c.grab()
	before := o.queued()
	if o.holding {
		pos = min(pos, o.holdZxid)
	}
	o.holding = false
	c.releaseHeld(pos)
	for _, ev := range evs {
		n := len(o.buf)
		o.buf = appendEvent(o.buf, ev)
		c.s.noteFrame(o.buf, n)
		o.n++
	}
	n := len(o.buf)
	o.buf = appendReply(&o.enc, o.buf, h, resp)
	c.s.noteFrame(o.buf, n)
	o.n++
	if size := len(o.buf) - n; size > MaxQueuedBytes {
		o.big = max(o.big, size)
	}
	if o.writes.Load() == 0 {
		c.releaseHeld(math.MaxInt64) // nothing in flight can come before them
	}
	c.bound(before)
}

// queueRaw appends bytes sent as they are (a four-letter word's answer, a
// connect response).
func (c *conn) queueRaw(f frameFn) {
	o := &c.out
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dead || o.closing {
		return
	}
	c.grab()
	before := o.queued()
	o.buf = f(o.buf)
	o.n++
	c.bound(before)
}

// grab makes sure buf is a pooled buffer; the caller holds mu.
func (c *conn) grab() {
	if c.out.buf == nil {
		c.out.buf = c.s.bufs.get()
	}
}

// releaseHeld moves the held events of zxids up to pos to the queue; the
// caller holds mu.
func (c *conn) releaseHeld(pos int64) {
	o := &c.out
	k := o.first
	for k < len(o.marks) && o.marks[k].zxid <= pos {
		k++
	}
	if k == o.first {
		return
	}
	from := 0
	if o.first > 0 {
		from = o.marks[o.first-1].end
	}
	o.buf = append(o.buf, o.held[from:o.marks[k-1].end]...)
	o.n += k - o.first
	o.first = k
	if k == len(o.marks) {
		o.held, o.marks, o.first = nil, nil, 0
	}
}

// hold makes the events that fire from now on wait for the reply of the
// read that runs: the engine calls it (through the watch table) under the
// apply lock when the read registers a watch, so the tree's zxid now is
// the state that read saw.
func (c *conn) hold() {
	z := c.s.e.TreeZxid()
	c.out.mu.Lock()
	c.out.holding, c.out.holdZxid = true, z
	c.out.mu.Unlock()
}

// startWrite counts a started write: until its reply is queued, events are
// held (their place among the replies is known only then).
func (c *conn) startWrite() { c.out.writes.Add(1) }

// queued is the bytes the outbox holds for its client; the caller holds
// mu.
func (o *outbox) queued() int { return len(o.buf) + len(o.held) }

// bound kills a connection that is given more to send while its queue,
// but for one reply larger than MaxQueuedBytes, already holds more than
// MaxQueuedBytes (before, measured before the caller queued its frames);
// the caller holds mu. So a reply larger than the bound (a getChildren of
// many long names, which ZooKeeper sends whatever its size) reaches a
// client that reads, with what is queued after it before the writer takes
// it; and a client that does not read holds at most the batch being
// written, two such replies and MaxQueuedBytes.
func (c *conn) bound(before int) {
	o := &c.out
	if before-o.big <= MaxQueuedBytes {
		return
	}
	o.dead = true
	o.buf, o.held, o.marks, o.first, o.n, o.big = nil, nil, nil, 0, 0, 0
	c.s.cfg.Logger.Warn("zk: client port: a client does not read its replies; closing it", "ip", c.ip)
	c.kill()
}

// notify queues a watch event (xid -1, zxid -1, as ZooKeeper sends them);
// the apply loop calls it, in zxid order. It never blocks: a writer
// goroutine sends it.
func (c *conn) notify(ev watch.Event) {
	o := &c.out
	o.mu.Lock()
	if o.dead || o.closing || c.ctx.Err() != nil {
		o.mu.Unlock()
		return
	}
	held := o.holding || o.writes.Load() > 0 || len(o.marks) > o.first
	before := o.queued()
	if held {
		n := len(o.held)
		o.held = appendEvent(o.held, ev)
		c.s.noteFrame(o.held, n)
		o.marks = append(o.marks, heldMark{zxid: ev.Zxid, end: len(o.held)})
	} else {
		c.grab()
		n := len(o.buf)
		o.buf = appendEvent(o.buf, ev)
		c.s.noteFrame(o.buf, n)
		o.n++
	}
	c.bound(before)
	start := !held && c.claim()
	o.mu.Unlock()
	if start && c.rc.Load() != nil {
		c.s.ring.post(c, ringFlush)
	} else if start {
		c.s.wg.Add(1) // the reader is alive (notify queues nothing after finish): never at zero
		go func() {
			defer c.s.wg.Done()
			c.writeLoop()
		}()
	}
}

// claim makes the caller the writer if there is something to send and no
// writer runs; the caller holds mu.
func (c *conn) claim() bool {
	o := &c.out
	if o.writing || o.dead || (len(o.buf) == 0 && !o.closing) {
		return false
	}
	o.writing = true
	return true
}

// flush sends what is queued on the caller's goroutine, unless a writer
// runs (it sends it). The ring's connections hand the writer's turn to the
// ring, which sends.
func (c *conn) flush() {
	c.out.mu.Lock()
	mine := c.claim()
	c.out.mu.Unlock()
	if mine {
		c.write()
	}
}

// finish sends what is queued, then closes the connection.
func (c *conn) finish() {
	c.out.mu.Lock()
	c.out.closing = true
	mine := c.claim()
	c.out.mu.Unlock()
	if mine {
		c.write()
	}
}

// write sends the queue, having claimed the writer's turn.
func (c *conn) write() {
	if c.rc.Load() != nil {
		c.s.ring.post(c, ringFlush)
		return
	}
	c.writeLoop()
}

// take hands the writer the queued bytes. With nothing to send it ends the
// writer's turn (more is false) and gives the buffers back to the pool;
// last reports that the connection closes after this.
func (c *conn) take() (b []byte, frames int, more, last bool) {
	o := &c.out
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.buf) == 0 {
		if o.closing && !o.dead {
			return nil, 0, true, true
		}
		o.writing = false
		c.s.bufs.put(o.buf)
		c.s.bufs.put(o.spare)
		o.buf, o.spare = nil, nil
		return nil, 0, false, false
	}
	b, frames = o.buf, o.n
	o.buf, o.spare, o.n, o.big = o.spare, nil, 0, 0
	return b, frames, true, false
}

// sentBuf gives back the buffer the writer sent.
func (c *conn) sentBuf(b []byte) {
	o := &c.out
	o.mu.Lock()
	if o.spare == nil && cap(b) <= keepCap {
		o.spare = b[:0]
	}
	o.mu.Unlock()
}

// writeLoop sends the queue until it is empty; it closes the connection
// when a write fails or the connection is closing.
func (c *conn) writeLoop() {
	for {
		b, frames, more, last := c.take()
		if !more {
			return
		}
		if last {
			c.out.mu.Lock()
			c.out.dead = true
			c.out.mu.Unlock()
			c.kill()
			return
		}
		c.nc.SetWriteDeadline(time.Now().Add(c.writeTimeout()))
		_, err := c.nc.Write(b)
		c.sentBuf(b)
		if err != nil {
			c.out.mu.Lock()
			c.out.dead, c.out.buf, c.out.held, c.out.marks, c.out.n = true, nil, nil, nil, 0
			c.out.writing = false
			c.out.mu.Unlock()
			c.kill()
			return
		}
		c.sent.Add(int64(frames))
		c.s.stats.sent.Add(int64(frames))
	}
}

// writeTimeout bounds one write: a client that stops reading for that long
// is gone.
func (c *conn) writeTimeout() time.Duration {
	if t := c.timeoutMsA.Load(); t > 0 {
		return time.Duration(t) * time.Millisecond
	}
	return 30 * time.Second
}

// appendReply appends a reply frame: the header, and resp unless the reply
// carries an error or nothing. It encodes with e (the outbox's: an Encoder
// handed to an interface's method would be allocated for each reply) and
// leaves e's buffer nil.
func appendReply(e *jute.Encoder, b []byte, h *jute.ReplyHeader, resp jute.Record) []byte {
	b, start := jute.BeginFrame(b)
	e.B = b
	h.Encode(e)
	if h.Err == 0 && resp != nil {
		resp.Encode(e)
	}
	b, e.B = e.B, nil
	return jute.EndFrame(b, start)
}

// appendEvent appends a watch event's frame.
func appendEvent(b []byte, ev watch.Event) []byte {
	b, start := jute.BeginFrame(b)
	e := jute.Encoder{B: b}
	h := jute.ReplyHeader{Xid: jute.XidNotification, Zxid: -1}
	h.Encode(&e)
	w := jute.WatcherEvent{Type: int32(ev.Type), State: jute.StateSyncConnected, Path: ev.Path}
	w.Encode(&e)
	return jute.EndFrame(e.B, start)
}
