//go:build linux

package wire

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/embedzk/zk/internal/uring"
)

// The io_uring connection layer (doc.go, "Connection I/O"). One goroutine
// owns the ring and every socket handed to it: it receives the requests of
// every connection, runs the reads that need no wait on the spot, starts
// the writes, and sends whatever each connection's outbox holds; each call
// to io_uring_enter submits all the sends and receives queued since the
// last one and collects what completed. The completer goroutines (pipe.go)
// stay as they are: they post a flush, and the ring sends.
//
// Other goroutines reach the ring only through post: a flag on the
// connection and, when the ring sleeps, one write to its eventfd.

const (
	ringEntries  = 1024
	ringRecvSize = 2 << 10 // a connection's receive buffer: a 1 KiB setData fits
	ringTick     = 100 * time.Millisecond

	tagWake = 1 // the eventfd's read
	tagTick = 2 // the sweep's timeout
	tagRecv = 3 // a connection's receive: id<<8 | tagRecv
	tagSend = 4
)

// Posted flags: what another goroutine asks the ring to do for a connection.
const (
	ringAdopt  = 1 << iota // serve it
	ringFlush              // its outbox has a writer's turn to send
	ringResume             // it has room for requests again
	ringKill               // close it now
	ringLinger             // its session closed: wait for the client's close
	ringDone               // its teardown ran: close the socket once idle
	ringAnswer             // a write it waits for has its reply (conn.Wake)
)

// ringIO is the ring and the connections it serves.
type ringIO struct {
	s    *Server
	r    *uring.Ring
	efd  int
	wake [8]byte
	tick uring.Timespec

	recvs atomic.Int64 // receives that brought bytes (the package's tests count them)

	mu       sync.Mutex
	posted   []*conn
	stopped  bool
	sleeping atomic.Bool

	// Owned by the ring's goroutine.
	conns   map[uint64]*conn
	nextID  uint64
	broken  error   // a submission failed: the ring fails
	orphans []int   // the sockets of a failed ring, closed with it
	batch   []*conn // the posted connections being looked at
	// now is the time the last enter returned: the deadlines' clock (the
	// sweep runs every ringTick, so a few milliseconds do not matter),
	// read once per turn rather than once per receive and send.
	now   time.Time
	dirty []*conn // connections whose outbox may have something to send
}

// ringConn is one connection's state in the ring. The ring's goroutine owns
// every field but flags and queued (under ringIO.mu).
type ringConn struct {
	flags  int
	queued bool

	id       uint64
	fd       int
	recving  bool      // a receive is in the ring
	sending  bool      // a send is in the ring (the outbox's writer turn is the ring's)
	paused   bool      // throttled: no receive until it has room
	shut     bool      // shut down: what is in the ring completes with an error
	ending   bool      // its teardown runs (or ran)
	done     bool      // its teardown finished
	lingers  bool      // its session closed: its input is dropped until the client closes
	dirty    bool      // in ringIO.dirty
	closed   bool      // its socket is closed and the ring forgot it
	ops      int       // operations in the ring
	readBy   time.Time // the next frame's deadline
	fresh    bool      // a frame was taken since readBy was set
	sendBy   time.Time
	lingerBy time.Time
	out      []byte // the bytes being sent
	sent     int
	frames   int
}

// ringReads returns the receives of the ring's connections that brought
// bytes.
func (s *Server) ringReads() int64 {
	if s.ring == nil {
		return 0
	}
	return s.ring.recvs.Load()
}

// ringAvailable reports why the client port cannot use io_uring here.
func ringAvailable() error { return uring.Available() }

// newRing prepares the server's ring once the kernel showed it allows one;
// Serve runs it, and run makes the ring itself on its own thread (an owned
// ring: uring.NewOwned).
func (s *Server) newRing() error {
	if err := uring.Available(); err != nil {
		return err
	}
	efd, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return fmt.Errorf("eventfd: %w", errno)
	}
	ri := &ringIO{s: s, efd: int(efd), conns: map[uint64]*conn{}, nextID: 1}
	ri.tick = uring.Timespec{Nsec: int64(ringTick)}
	s.ring = ri
	return nil
}

// start makes the ring on the calling thread, which from then on is the
// only one to enter it, and arms it.
func (ri *ringIO) start() error {
	r, err := uring.NewOwned(ringEntries)
	if err != nil {
		return err
	}
	ri.r = r
	return ri.arm()
}

// arm queues the eventfd's read and the sweep's timeout.
func (ri *ringIO) arm() error {
	if err := ri.r.Queue(uring.Read(ri.efd, ri.wake[:], tagWake)); err != nil {
		return err
	}
	return ri.r.Queue(uring.Timeout(&ri.tick, tagTick))
}

func (ri *ringIO) close() {
	if ri.r != nil {
		ri.r.Close()
	}
	syscall.Close(ri.efd)
	for _, fd := range ri.orphans {
		syscall.Close(fd) // nothing of theirs is in the ring any more
	}
}

// adopt hands c's socket to the ring, once its handshake is done; false
// leaves c to a reader goroutine (the ring stopped, or the socket has no
// descriptor to take).
func (ri *ringIO) adopt(c *conn) bool {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	fd := -1
	// The copy is close-on-exec from its birth: a host that starts a
	// process between a dup and a later CloseOnExec would pass it the
	// socket, which then outlives the server's close.
	if err := raw.Control(func(f uintptr) { fd, err = dupCloexec(int(f)) }); err != nil || fd < 0 {
		return false
	}
	// Under the outbox's lock: a writer that starts from now on finds the
	// ring (notify, flush), and one that started keeps the socket.
	c.out.mu.Lock()
	ri.mu.Lock()
	if ri.stopped || c.out.writing {
		ri.mu.Unlock()
		c.out.mu.Unlock()
		syscall.Close(fd)
		return false
	}
	rc := &ringConn{fd: fd, flags: ringAdopt, queued: true}
	c.rc.Store(rc)
	ri.posted = append(ri.posted, c)
	ri.mu.Unlock()
	c.out.mu.Unlock()
	// The descriptor the runtime polls goes (its poller forgets it); the
	// ring's copy keeps the socket open.
	c.nc.Close()
	ri.wakeUp()
	return true
}

// dupCloexec duplicates fd, close-on-exec at once.
func dupCloexec(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// post asks the ring to look at c for flag.
func (ri *ringIO) post(c *conn, flag int) {
	rc := c.rc.Load()
	ri.mu.Lock()
	rc.flags |= flag
	if !rc.queued {
		rc.queued = true
		ri.posted = append(ri.posted, c)
	}
	ri.mu.Unlock()
	ri.wakeUp()
}

// wakeUp makes the ring's enter return if it waits.
func (ri *ringIO) wakeUp() {
	if ri.sleeping.CompareAndSwap(true, false) {
		one := [8]byte{1}
		syscall.Write(ri.efd, one[:])
	}
}

// run is the ring's loop: it stops once the server stopped and every
// connection it served is closed.
func (ri *ringIO) run() {
	// One thread submits everything: the kernel's completion work for the
	// ring's operations runs in that thread's own enter calls.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer ri.close()
	ri.now = time.Now()
	if err := ri.start(); err != nil {
		ri.s.cfg.Logger.Error("zk: client port: io_uring failed; closing its connections", "err", err)
		ri.fail()
		return
	}
	for {
		ri.takePosted()
		ri.flushDirty()
		if ri.s.ctx.Err() != nil && len(ri.conns) == 0 && ri.quiet() {
			return
		}
		wait := uint32(1)
		if ri.r.Ready() {
			wait = 0
		} else {
			ri.sleeping.Store(true)
			if !ri.quiet() {
				ri.sleeping.Store(false)
				wait = 0
			}
		}
		var err error
		if wait > 0 || ri.r.Queued() > 0 {
			err = ri.r.Enter(wait)
		}
		ri.sleeping.Store(false)
		ri.now = time.Now()
		if err == nil {
			err = ri.broken
		}
		if err != nil {
			ri.s.cfg.Logger.Error("zk: client port: io_uring failed; closing its connections", "err", err)
			ri.fail()
			return
		}
		ri.r.Reap(ri.complete)
	}
}

// quiet reports whether nothing is posted; when the server stopped it also
// refuses new connections from then on.
func (ri *ringIO) quiet() bool {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	if ri.s.ctx.Err() != nil && len(ri.posted) == 0 && len(ri.conns) == 0 {
		ri.stopped = true
	}
	return len(ri.posted) == 0
}

// fail ends every connection when the ring itself fails, those it serves
// and those posted to it: their sockets are shut (and closed with the
// ring), their teardowns run without it.
func (ri *ringIO) fail() {
	ri.mu.Lock()
	ri.stopped = true
	posted := ri.posted
	ri.posted = nil
	ri.mu.Unlock()
	for _, c := range posted {
		if rc := c.rc.Load(); rc.id == 0 { // never adopted: not in conns
			rc.id = ri.nextID
			ri.nextID++
			ri.conns[rc.id] = c
		}
	}
	for id, c := range ri.conns {
		rc := c.rc.Load()
		syscall.Shutdown(rc.fd, syscall.SHUT_RDWR)
		ri.orphans = append(ri.orphans, rc.fd)
		rc.closed = true
		c.out.mu.Lock()
		c.out.dead, c.out.writing = true, false
		c.out.mu.Unlock()
		c.cancel()
		if !rc.ending {
			rc.ending = true
			ri.teardown(c)
		}
		delete(ri.conns, id)
	}
}

// takePosted looks at every posted connection.
func (ri *ringIO) takePosted() {
	ri.mu.Lock()
	ri.batch, ri.posted = ri.posted, ri.batch[:0]
	for _, c := range ri.batch {
		rc := c.rc.Load()
		rc.queued = false
	}
	ri.mu.Unlock()
	for i, c := range ri.batch {
		ri.batch[i] = nil
		ri.act(c)
	}
}

// act does what was posted for c.
func (ri *ringIO) act(c *conn) {
	rc := c.rc.Load()
	ri.mu.Lock()
	f := rc.flags
	rc.flags = 0
	ri.mu.Unlock()
	if rc.closed {
		return // its socket is closed: nothing more to do
	}
	if f&ringAdopt != 0 {
		rc.id = ri.nextID
		ri.nextID++
		ri.conns[rc.id] = c
		ri.takeInput(c)
		ri.serve(c)
	}
	if f&ringLinger != 0 && !rc.ending {
		ri.linger(c)
	}
	if f&ringResume != 0 && rc.paused && !rc.ending {
		rc.paused = false
		ri.serve(c)
	}
	if f&ringAnswer != 0 && !rc.ending {
		ri.markDirty(c)
		c.drive()
	}
	if f&ringFlush != 0 {
		ri.markDirty(c)
	}
	if f&ringKill != 0 {
		ri.shut(c)
	}
	if f&ringDone != 0 {
		rc.done = true
	}
	ri.settle(c)
}

// takeInput gives c its own receive buffer, with whatever it buffered
// before the ring took it.
func (ri *ringIO) takeInput(c *conn) {
	in := &c.in
	b := make([]byte, max(ringRecvSize, in.end-in.off))
	n := copy(b, in.buf[in.off:in.end])
	c.dropInput()
	in.buf, in.box, in.off, in.end = b, nil, 0, n
}

func (ri *ringIO) markDirty(c *conn) {
	if rc := c.rc.Load(); !rc.dirty {
		rc.dirty = true
		ri.dirty = append(ri.dirty, c)
	}
}

// serve runs c's buffered requests, then receives more unless c is
// throttled or ending.
func (ri *ringIO) serve(c *conn) {
	rc := c.rc.Load()
	ri.markDirty(c)
	for !rc.ending && !rc.shut {
		if rc.lingers {
			c.in.off, c.in.end = 0, 0 // dropped: the session is closed
			break
		}
		if c.ctx.Err() != nil {
			ri.stop(c) // its session closed, or it is being killed
			return
		}
		if !c.buffered() {
			break
		}
		if !c.roomNow() {
			rc.paused = true
			c.drive() // what it answers makes room (ringResume)
			return
		}
		body, err := ri.frame(c)
		if err != nil {
			c.s.cfg.Logger.Info("zk: client port: closing a connection", "ip", c.ip, "session", c.sessionID.Load(), "err", err)
			ri.stop(c)
			return
		}
		c.received.Add(1)
		c.s.stats.received.Add(1)
		if !c.handle(body) {
			ri.stop(c)
			return
		}
	}
	c.drive()
	if !rc.recving && !rc.ending && !rc.shut {
		ri.recv(c)
	}
}

// frame takes one whole frame out of c's buffer (buffered said there is
// one).
func (ri *ringIO) frame(c *conn) ([]byte, error) {
	in := &c.in
	n := int(binary.BigEndian.Uint32(in.buf[in.off:]))
	if err := c.s.checkFrame(int32(n)); err != nil {
		return nil, err
	}
	c.rc.Load().fresh = true
	body := make([]byte, n)
	copy(body, in.buf[in.off+4:])
	in.off += 4 + n
	if in.off == in.end {
		in.off, in.end = 0, 0
	}
	return body, nil
}

// recv queues a receive into the free end of c's buffer. A frame longer
// than what the buffer holds gets a buffer its size; a frame over
// jute.maxbuffer ends the connection before anything is allocated.
func (ri *ringIO) recv(c *conn) {
	rc, in := c.rc.Load(), &c.in
	if in.end-in.off >= 4 {
		n := int32(binary.BigEndian.Uint32(in.buf[in.off:]))
		if err := c.s.checkFrame(n); err != nil {
			c.s.cfg.Logger.Info("zk: client port: closing a connection", "ip", c.ip, "session", c.sessionID.Load(), "err", err)
			ri.stop(c)
			return
		}
		if need := 4 + int(n); need > len(in.buf)-in.off {
			b := make([]byte, max(need, ringRecvSize))
			in.end = copy(b, in.buf[in.off:in.end])
			in.buf, in.off = b, 0
		}
	} else if len(in.buf) > ringRecvSize && in.end == in.off {
		in.buf, in.off, in.end = make([]byte, ringRecvSize), 0, 0 // a long frame's buffer goes
	}
	if in.end == len(in.buf) {
		in.end = copy(in.buf, in.buf[in.off:in.end])
		in.off = 0
	}
	rc.recving = true
	rc.ops++
	if rc.fresh || rc.readBy.IsZero() {
		// A frame must arrive whole within the session timeout, as the
		// reader goroutine's read deadline asks.
		rc.readBy, rc.fresh = ri.now.Add(c.timeout), false
	}
	ri.queue(uring.Recv(rc.fd, in.buf[in.end:], rc.id<<8|tagRecv))
}

// queue queues one SQE. Only a failed submission of a full queue fails
// here: the loop then fails the ring (broken).
func (ri *ringIO) queue(sqe uring.SQE) {
	if err := ri.r.Queue(sqe); err != nil && ri.broken == nil {
		ri.broken = err
	}
}

// complete handles one completion.
func (ri *ringIO) complete(cq uring.CQE) {
	switch cq.UserData {
	case tagWake:
		ri.queue(uring.Read(ri.efd, ri.wake[:], tagWake))
		return
	case tagTick:
		ri.sweep(ri.now)
		ri.queue(uring.Timeout(&ri.tick, tagTick))
		return
	}
	c := ri.conns[cq.UserData>>8]
	if c == nil {
		return
	}
	rc := c.rc.Load()
	rc.ops--
	if cq.UserData&0xff == tagRecv {
		rc.recving = false
		switch {
		case cq.Res <= 0 || rc.shut:
			ri.stop(c) // the client closed, or the socket failed or was shut
		default:
			ri.recvs.Add(1)
			c.in.end += int(cq.Res)
			ri.serve(c)
		}
	} else {
		ri.sentSome(c, int(cq.Res))
	}
	ri.settle(c)
}

// stop ends c's input: a connection whose session its client closed waits
// for the client's close (linger); any other starts its teardown.
func (ri *ringIO) stop(c *conn) {
	rc := c.rc.Load()
	if c.ended.Load() && !rc.lingers && !rc.shut {
		ri.linger(c)
		return
	}
	if rc.recving {
		ri.shut(c) // its receive completes, then this runs again
		return
	}
	if rc.ending {
		return
	}
	rc.ending = true
	rc.paused = false
	ri.teardown(c)
}

// linger drops c's input until the client closes or closeLinger passes
// (awaitClose's wait, done here).
func (ri *ringIO) linger(c *conn) {
	rc := c.rc.Load()
	rc.lingers = true
	rc.lingerBy = ri.now.Add(closeLinger)
	rc.paused = false
	c.in.off, c.in.end = 0, 0
	ri.markDirty(c)
	if !rc.recving && !rc.shut {
		ri.recv(c)
	}
}

// shut shuts c's socket down: its client sees the close, and what c has in
// the ring completes with an error.
func (ri *ringIO) shut(c *conn) {
	rc := c.rc.Load()
	if !rc.shut {
		rc.shut = true
		syscall.Shutdown(rc.fd, syscall.SHUT_RDWR)
	}
	if !rc.recving {
		ri.stop(c)
	}
}

// teardown runs c's teardown on a goroutine of its own: it waits for the
// completer and the engine.
func (ri *ringIO) teardown(c *conn) {
	// The calls queued are dropped, their started writes collected (the
	// ring drives them only until now; a completer that runs does it).
	c.cancel()
	c.drive()
	ri.s.wg.Add(1) // the ring's goroutine is counted: never at zero
	go func() {
		defer ri.s.wg.Done()
		c.teardown()
	}()
}

// settle closes c's socket once its teardown finished and nothing of it is
// in the ring.
func (ri *ringIO) settle(c *conn) {
	rc := c.rc.Load()
	if !rc.done || rc.closed || rc.ops > 0 || rc.sending {
		return
	}
	c.out.mu.Lock()
	dead := c.out.dead // its last bytes left (teardown's finish), or never will
	c.out.mu.Unlock()
	if !dead {
		return
	}
	rc.closed = true
	delete(ri.conns, rc.id)
	syscall.Close(rc.fd)
}

// flushDirty sends what the outboxes of the connections touched since the
// last call hold.
func (ri *ringIO) flushDirty() {
	for i, c := range ri.dirty {
		ri.dirty[i] = nil
		rc := c.rc.Load()
		rc.dirty = false
		if !rc.sending {
			ri.sendNext(c)
		}
		ri.settle(c)
	}
	ri.dirty = ri.dirty[:0]
}

// sendNext takes c's outbox and sends it, when no send of c is in the ring.
// The outbox's writer turn is held by whoever claimed it: a goroutine that
// posted ringFlush hands it to the ring, and the ring may claim it itself.
func (ri *ringIO) sendNext(c *conn) {
	rc := c.rc.Load()
	c.out.mu.Lock()
	if !c.out.writing {
		if !c.claim() {
			c.out.mu.Unlock()
			return
		}
	}
	c.out.mu.Unlock()
	b, frames, more, last := c.take()
	switch {
	case !more:
		return
	case last:
		c.out.mu.Lock()
		c.out.dead = true
		c.out.mu.Unlock()
		ri.shut(c)
		return
	case rc.shut:
		c.sentBuf(b)
		ri.writeFailed(c)
		return
	}
	rc.out, rc.sent, rc.frames = b, 0, frames
	ri.sendRest(c)
}

func (ri *ringIO) sendRest(c *conn) {
	rc := c.rc.Load()
	rc.sending = true
	rc.ops++
	rc.sendBy = ri.now.Add(c.writeTimeout())
	ri.queue(uring.Send(rc.fd, rc.out[rc.sent:], rc.id<<8|tagSend))
}

// sentSome notes a send's outcome: the rest of a short send goes out, a
// whole one gives its buffer back and the outbox's next bytes follow.
func (ri *ringIO) sentSome(c *conn, n int) {
	rc := c.rc.Load()
	rc.sending = false
	if n < 0 {
		c.sentBuf(rc.out)
		rc.out = nil
		ri.writeFailed(c)
		return
	}
	rc.sent += n
	if rc.sent < len(rc.out) {
		ri.sendRest(c)
		return
	}
	c.sentBuf(rc.out)
	rc.out = nil
	c.sent.Add(int64(rc.frames))
	c.s.stats.sent.Add(int64(rc.frames))
	ri.sendNext(c)
}

// writeFailed ends a connection whose send failed, as writeLoop does.
func (ri *ringIO) writeFailed(c *conn) {
	o := &c.out
	o.mu.Lock()
	o.dead, o.buf, o.held, o.marks, o.n, o.big = true, nil, nil, nil, 0, 0
	o.writing = false
	o.mu.Unlock()
	c.cancel()
	ri.shut(c)
}

// sweep applies the deadlines: a connection that sent no request for its
// session timeout, a send stalled for as long, a linger past closeLinger.
func (ri *ringIO) sweep(now time.Time) {
	for _, c := range ri.conns {
		rc := c.rc.Load()
		switch {
		case rc.shut || rc.ending:
		case rc.lingers && now.After(rc.lingerBy):
			ri.shut(c)
		case rc.sending && now.After(rc.sendBy):
			c.s.cfg.Logger.Info("zk: client port: a client does not read; closing it", "ip", c.ip, "session", c.sessionID.Load())
			ri.writeFailed(c)
		case rc.recving && !rc.lingers && now.After(rc.readBy):
			c.s.cfg.Logger.Info("zk: client port: closing a connection", "ip", c.ip, "session", c.sessionID.Load(), "err", "no request within the session timeout")
			ri.shut(c)
		}
	}
}
