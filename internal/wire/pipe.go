package wire

import (
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
)

// Pipelining (see doc.go, "Order and pipelining"): the reader starts each
// write as it reads it, unless a local call (any other request) is ahead of
// it in the queue; a completer goroutine answers the queue's head in xid
// order, runs the local calls, and starts the writes that waited behind
// them. The reader stops reading while the connection, or the server, is
// at its limit of outstanding requests (room).

const (
	// MaxOutstanding bounds the requests of one connection read and not
	// answered yet.
	MaxOutstanding = 1000
	// MaxOutstandingBytes bounds the request frames one connection holds
	// unanswered (one request of any admitted size always fits).
	MaxOutstandingBytes = 4 << 20
	// GlobalOutstandingLimit is ZooKeeper's globalOutstandingLimit default:
	// past it, connections with requests in flight stop reading.
	GlobalOutstandingLimit = 1000
)

// call is one request read and not answered yet.
type call struct {
	xid     int32
	op      int32
	rec     jute.Record
	size    int  // frame bytes
	local   bool // runs in order on the executor (not a pipelined write)
	unknown bool // an op code zk does not serve
	// malformed: why the request's body did not decode (rec is nil); it
	// is answered MARSHALLINGERROR in its turn.
	malformed error
	began     int64 // when its frame was read (Server.clockMs)
	// deferred: a write whose start would have waited for the peer loop
	// (the ring never waits): like a local call, it holds back the writes
	// behind it, and the completer starts it.
	deferred bool

	// A write, once started: its outcome, or the answer decided at once.
	counted  bool // counted in the outbox's writes in flight
	notified bool // the ring asked to be told of its reply (drive)
	pw       *engine.Pending
	resp     jute.Record
	err      error
	// stat is finishWrite's reply to a set or setACL, and path its reply
	// to a create, here so that they cost no allocation of their own (the
	// reply is encoded at once); set is a setData's request (rec), and
	// create a create's (create, create2, createContainer, createTTL), for
	// the same reason.
	stat   jute.StatResponse
	path   jute.PathRequest
	set    jute.SetDataRequest
	create jute.CreateRequest
}

// pipe is the connection's queue of calls.
type pipe struct {
	q       []*call
	head    int  // q[head:] are the calls in the queue
	locals  int  // local calls in the queue: a write behind one waits to start
	bytes   int  // their frame bytes
	running bool // a completer goroutine runs
	waiting bool // the reader waits for room
	roomC   chan struct{}
}

func (p *pipe) len() int { return len(p.q) - p.head }

// push queues a call read by the reader; a write starts now unless a local
// call is ahead of it. (A local call with the queue empty runs on the
// reader without being queued: see handle.)
func (c *conn) push(k *call) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	p := &c.pipe
	if !k.local && p.locals == 0 {
		c.start(k, c.rc.Load() == nil)
	}
	if k.local || k.deferred {
		p.locals++
	}
	p.q = append(p.q, k)
	p.bytes += k.size
	c.s.stats.outstanding.Add(1)
	if c.rc.Load() == nil {
		c.spawn() // the ring drives its connections' queues itself (drive)
	}
}

// spawn starts a completer goroutine unless one runs; the caller holds
// pmu.
func (c *conn) spawn() {
	p := &c.pipe
	if p.running {
		return
	}
	p.running = true
	c.s.stats.completers.Add(1)
	c.pwg.Add(1)
	go func() {
		defer c.pwg.Done()
		c.complete()
	}()
}

// drive answers the queue of a ring's connection on the ring, in order,
// as far as it can without waiting: the local calls that never wait, and
// the writes whose outcome is in. A write whose reply is not in yet asks
// the engine to wake the ring when it is (conn.Wake posts ringAnswer,
// which drives again), so that a write costs no goroutine of its own. A
// call that may wait (sync, closeSession, a deferred write, a write this
// peer has not applied yet) goes to a completer goroutine, which then
// answers the queue until it is empty, as on a connection of its own
// reader. Only the ring drives, and never while a completer runs; once the
// connection is ending it collects the started writes unanswered, which
// then never waits.
func (c *conn) drive() {
	for {
		c.pmu.Lock()
		p := &c.pipe
		if p.running || p.len() == 0 {
			c.pmu.Unlock()
			return
		}
		k := p.q[p.head]
		ending := c.ctx.Err() != nil
		switch {
		case ending:
		case k.deferred, k.local && mayWait(k.op), c.s.hooks.beforeAnswer != nil:
			c.spawn()
			c.pmu.Unlock()
			return
		case k.local, k.pw == nil, k.pw.Done():
		case k.notified || k.pw.Notify(&c.wk):
			k.notified = true
			c.pmu.Unlock()
			return // Wake drives again
		case !k.pw.Done(): // its reply is in, this peer has not applied it
			c.spawn()
			c.pmu.Unlock()
			return
		}
		c.pmu.Unlock()
		switch {
		case ending:
			if k.pw != nil {
				k.pw.Wait(c.ctx) // its ctx ended: it does not wait
			}
		case k.local:
			c.afterAnswer(c.run(k))
		default:
			c.afterAnswer(c.finishWrite(k))
		}
		c.pop()
	}
}

// Wake is the engine's word that a write the ring waits for has its reply
// (engine.Waker): the ring drives the queue again.
func (c *conn) Wake() { c.s.ring.post(c, ringAnswer) }

// pop removes the head once it was answered, starts the writes that waited
// behind it, and wakes a reader waiting for room. It returns the next
// head, or nil (the completer then ends).
func (c *conn) pop() *call {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	p := &c.pipe
	k := p.q[p.head]
	p.q[p.head] = nil
	p.head++
	p.bytes -= k.size
	c.s.stats.outstanding.Add(-1)
	if k.local || k.deferred {
		// The writes read after it waited for it: start them, up to the
		// next local call (or one that cannot start now: the ring's
		// connections never wait here, under the lock the ring takes).
		p.locals--
		wait := c.rc.Load() == nil
		for i := p.head; i < len(p.q) && !p.q[i].local && c.ctx.Err() == nil; i++ {
			if !c.start(p.q[i], wait) {
				p.locals++
				break
			}
		}
	}
	if p.waiting {
		p.waiting = false
		if c.rc.Load() != nil {
			c.s.ring.post(c, ringResume)
		} else {
			select {
			case p.roomC <- struct{}{}:
			default:
			}
		}
	}
	if p.len() == 0 {
		p.q, p.head, p.running = p.q[:0], 0, false
		if cap(p.q) > 64 {
			p.q = nil
		}
		return nil
	}
	return p.q[p.head]
}

// first returns the head of the queue (the completer runs only while the
// queue is not empty).
func (c *conn) first() *call {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	return c.pipe.q[c.pipe.head]
}

// complete answers the queue's calls in order until it is empty. Once the
// connection is ending it answers nothing more, but still collects every
// started write (so that the session's later calls are not held back).
func (c *conn) complete() {
	for k := c.first(); k != nil; k = c.pop() {
		if c.ctx.Err() != nil {
			if k.pw != nil {
				k.pw.Wait(c.ctx)
			}
			continue
		}
		if k.deferred {
			c.start(k, true) // the head: nothing behind it started
		}
		if k.pw != nil && !k.pw.Ready() {
			c.flush() // the replies so far leave before the wait
		}
		if h := c.s.hooks.beforeAnswer; h != nil {
			h()
		}
		if k.local {
			c.afterAnswer(c.run(k))
		} else {
			c.afterAnswer(c.finishWrite(k))
		}
	}
	c.flush()
}

// afterAnswer ends the connection after the call just answered, unless goOn:
// the calls behind it are dropped.
func (c *conn) afterAnswer(goOn bool) {
	if goOn {
		return
	}
	if c.ended.Load() && c.rc.Load() != nil {
		c.s.ring.post(c, ringLinger) // the ring waits for the client's close
	} else if c.ended.Load() {
		// The reader lingers for the client's close (awaitClose).
		c.nc.SetReadDeadline(time.Now().Add(closeLinger))
	} else {
		c.finish() // the writer closes the socket once the replies left
	}
	c.cancel()
}

// room waits until the connection may read another request; false when
// the connection ends first.
func (c *conn) room() bool {
	for {
		c.pmu.Lock()
		if c.hasRoom() {
			c.pmu.Unlock()
			return true
		}
		p := &c.pipe
		if p.roomC == nil {
			p.roomC = make(chan struct{}, 1)
		}
		p.waiting = true
		ch := p.roomC
		c.pmu.Unlock()
		select {
		case <-ch:
		case <-c.ctx.Done():
			return false
		}
	}
}

// roomNow is room for the ring, which never waits: false means the
// connection is throttled, and pop posts ringResume once it has room.
func (c *conn) roomNow() bool {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.hasRoom() {
		return true
	}
	c.pipe.waiting = true
	return false
}

// hasRoom reports whether the connection may read another request; the
// caller holds pmu.
func (c *conn) hasRoom() bool {
	p := &c.pipe
	n := p.len()
	l := &c.s.limits
	return n == 0 || (int64(n) < l.outstanding && int64(p.bytes) < l.outstandingBytes &&
		c.s.stats.outstanding.Load() < l.global)
}

// queued returns the number of calls not answered yet.
func (c *conn) queued() int {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	return c.pipe.len()
}
