package wire

import (
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
)

// Pipelining. A client may send many requests before it reads a reply;
// ZooKeeper runs a connection's requests in order, many at a time, and
// answers them in xid order. Here the reader starts each write (create,
// delete, setData, setACL, multi) as soon as it is read: the engine issues
// it in the session's order and proposes it without waiting for the writes
// before it. Every other request (reads, sync, auth, watches, ping, close)
// is "local": it runs in order, once every request before it has been
// answered, and the writes read after a local request start only once it
// ran, so a read sees exactly the writes sent before it.
//
// The requests not answered yet wait in the connection's queue, in xid
// order. A completer goroutine, running only while the queue is not
// empty, answers its head: it waits for a write's outcome or runs a local
// request, queues the reply, and flushes the socket once per batch (when
// the next head is not ready yet). A local request that arrives with the
// queue empty runs on the reader itself.
//
// Throttling: the reader stops reading the socket while its connection has
// MaxOutstanding requests or MaxOutstandingBytes of request frames queued,
// or while the whole server has GlobalOutstandingLimit (ZooKeeper's
// globalOutstandingLimit) and this connection has some of them; TCP then
// slows the client. One request is always admitted, so a connection never
// waits for others.

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

	// A write, once started: its outcome, or the answer decided at once.
	started bool
	counted bool // counted in the outbox's writes in flight
	pw      *engine.Pending
	resp    jute.Record
	err     error
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
// call is ahead of it. It reports whether the caller must run inline (a
// local call with the queue empty).
func (c *conn) push(k *call) (inline bool) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	p := &c.pipe
	if k.local && p.len() == 0 {
		return true
	}
	if !k.local && p.locals == 0 {
		c.start(k)
	}
	if k.local {
		p.locals++
	}
	p.q = append(p.q, k)
	p.bytes += k.size
	c.s.stats.outstanding.Add(1)
	if !p.running {
		p.running = true
		c.pwg.Add(1)
		go func() {
			defer c.pwg.Done()
			c.complete()
		}()
	}
	return false
}

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
	if k.local {
		p.locals--
	}
	for i := p.head; i < len(p.q) && !p.q[i].local && c.ctx.Err() == nil; i++ {
		if !p.q[i].started {
			c.start(p.q[i])
		}
	}
	if p.waiting {
		p.waiting = false
		select {
		case p.roomC <- struct{}{}:
		default:
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
		if k.pw != nil && !k.pw.Ready() {
			c.flush() // the replies so far leave before the wait
		}
		if h := c.s.hooks.beforeAnswer; h != nil {
			h()
		}
		goOn := true
		if k.local {
			goOn = c.run(k)
		} else {
			goOn = c.finishWrite(k)
		}
		if !goOn {
			if c.ended.Load() {
				// The reader lingers for the client's close (awaitClose).
				c.nc.SetReadDeadline(time.Now().Add(closeLinger))
			} else {
				c.finish() // the writer closes the socket once the replies left
			}
			c.cancel() // the calls behind are dropped
		}
	}
	c.flush()
}

// room waits until the connection may read another request; false when
// the connection ends first.
func (c *conn) room() bool {
	for {
		c.pmu.Lock()
		p := &c.pipe
		n := p.len()
		l := &c.s.limits
		if n == 0 || (int64(n) < l.outstanding && int64(p.bytes) < l.outstandingBytes &&
			c.s.stats.outstanding.Load() < l.global) {
			c.pmu.Unlock()
			return true
		}
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

// queued returns the number of calls not answered yet.
func (c *conn) queued() int {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	return c.pipe.len()
}
