//go:build linux

package wire_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// The null server again, over io_uring (-wire.nulluring): one thread and
// one ring serve every connection. Receives and sends are queued in the
// ring and submitted together, so one io_uring_enter call carries the
// replies to many clients and collects their next requests: no goroutine
// per connection, no netpoller, no read that finds nothing. It answers
// exactly as the goroutine-per-connection null server does (nullConnect,
// nullReply). It measures how much of the ceiling is the cost of a system
// call per read and per write, which only batching across connections can
// remove; the kernel's own socket work stays.

const (
	sysIOURingSetup = 425
	sysIOURingEnter = 426

	opAccept = 13
	opSend   = 26
	opRecv   = 27

	enterGetEvents = 1
	featSingleMmap = 1

	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000

	ringEntries = 512
)

type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqringOffsets
	cqOff                                                                  cqringOffsets
}

type uringSQE struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	opFlags     uint32
	userData    uint64
	bufIndex    uint16
	personality uint16
	spliceFdIn  int32
	addr3       uint64
	pad         uint64
}

type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

// ring is one io_uring: its submission and completion queues mapped.
type ring struct {
	fd                            int
	sqHead, sqTail, sqMask, sqArr *uint32
	sqArray                       []uint32
	sqes                          []uringSQE
	cqHead, cqTail, cqMask        *uint32
	cqes                          []uringCQE
	queued                        uint32 // SQEs written since the last enter
	sqMem, cqMem, sqeMem          []byte
}

func newRing(entries uint32, flags uint32) (*ring, error) {
	var p uringParams
	p.flags = flags
	fd, _, errno := syscall.Syscall(sysIOURingSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", errno)
	}
	r := &ring{fd: int(fd)}
	sqSize := int(p.sqOff.array + p.sqEntries*4)
	cqSize := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	if p.features&featSingleMmap != 0 {
		sqSize = max(sqSize, cqSize)
	}
	var err error
	prot, mflags := syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE
	if r.sqMem, err = syscall.Mmap(r.fd, offSQRing, sqSize, prot, mflags); err != nil {
		return nil, fmt.Errorf("mmap sq: %w", err)
	}
	r.cqMem = r.sqMem
	if p.features&featSingleMmap == 0 {
		if r.cqMem, err = syscall.Mmap(r.fd, offCQRing, cqSize, prot, mflags); err != nil {
			return nil, fmt.Errorf("mmap cq: %w", err)
		}
	}
	sqeSize := int(p.sqEntries) * int(unsafe.Sizeof(uringSQE{}))
	if r.sqeMem, err = syscall.Mmap(r.fd, offSQEs, sqeSize, prot, mflags); err != nil {
		return nil, fmt.Errorf("mmap sqes: %w", err)
	}
	u32 := func(b []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
	r.sqHead, r.sqTail, r.sqMask = u32(r.sqMem, p.sqOff.head), u32(r.sqMem, p.sqOff.tail), u32(r.sqMem, p.sqOff.ringMask)
	r.sqArray = unsafe.Slice(u32(r.sqMem, p.sqOff.array), p.sqEntries)
	r.sqes = unsafe.Slice((*uringSQE)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	r.cqHead, r.cqTail, r.cqMask = u32(r.cqMem, p.cqOff.head), u32(r.cqMem, p.cqOff.tail), u32(r.cqMem, p.cqOff.ringMask)
	r.cqes = unsafe.Slice((*uringCQE)(unsafe.Pointer(&r.cqMem[p.cqOff.cqes])), p.cqEntries)
	return r, nil
}

// uringAvailable reports why this kernel refuses io_uring, or nil.
func uringAvailable() error {
	r, err := newRing(8, 0)
	if err != nil {
		return err
	}
	syscall.Munmap(r.sqeMem)
	if &r.cqMem[0] != &r.sqMem[0] {
		syscall.Munmap(r.cqMem)
	}
	syscall.Munmap(r.sqMem)
	return syscall.Close(r.fd)
}

// queue writes one SQE; it submits what is queued first when the ring is
// full.
func (r *ring) queue(s uringSQE) error {
	tail := *r.sqTail
	if tail-atomic.LoadUint32(r.sqHead) >= uint32(len(r.sqes)) {
		if err := r.enter(0); err != nil {
			return err
		}
	}
	i := tail & *r.sqMask
	r.sqes[i] = s
	r.sqArray[i] = i
	atomic.StoreUint32(r.sqTail, tail+1)
	r.queued++
	return nil
}

// enter submits what is queued and waits for at least wait completions.
func (r *ring) enter(wait uint32) error {
	for {
		flags := uintptr(0)
		if wait > 0 {
			flags = enterGetEvents
		}
		n, _, errno := syscall.Syscall6(sysIOURingEnter, uintptr(r.fd), uintptr(r.queued), uintptr(wait), flags, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return fmt.Errorf("io_uring_enter: %w", errno)
		}
		r.queued -= uint32(n)
		return nil
	}
}

// reap calls fn for each completion there is.
func (r *ring) reap(fn func(c uringCQE)) {
	head := *r.cqHead
	tail := atomic.LoadUint32(r.cqTail)
	for ; head != tail; head++ {
		fn(r.cqes[head&*r.cqMask])
	}
	atomic.StoreUint32(r.cqHead, head)
}

// uconn is one client connection of the io_uring null server.
type uconn struct {
	fd        int32
	in        []byte // received, not yet answered
	inN       int
	pend, out []byte // replies not yet sent; the reply being sent
	sent      int
	sending   bool
	ops       int // operations in the ring
	dead      bool
	connected bool
	session   int64
	zxid      int64
}

// uringNull is the server's state, owned by its one loop.
type uringNull struct {
	r      *ring
	lf     *os.File // the listener's descriptor, kept from its finalizer
	lfd    int32
	conns  map[uint64]*uconn
	nextID uint64
	value  []byte
}

const (
	tagAccept = 0
	tagRecv   = 1
	tagSend   = 2
)

// runUringNull serves ln's connections from one ring until the process
// exits.
func runUringNull(ln net.Listener) error {
	runtime.LockOSThread()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		return err
	}
	r, err := newRing(ringEntries, 0)
	if err != nil {
		return err
	}
	s := &uringNull{r: r, lf: f, lfd: int32(f.Fd()), conns: map[uint64]*uconn{}, nextID: 1, value: make([]byte, 1024)}
	if err := s.accept(); err != nil {
		return err
	}
	for {
		if err := r.enter(1); err != nil {
			return err
		}
		var failed error
		r.reap(func(c uringCQE) {
			if err := s.complete(c); err != nil && failed == nil {
				failed = err
			}
		})
		if failed != nil {
			return failed
		}
	}
}

func (s *uringNull) accept() error {
	return s.r.queue(uringSQE{opcode: opAccept, fd: s.lfd, opFlags: syscall.SOCK_CLOEXEC, userData: tagAccept})
}

func (s *uringNull) recv(id uint64, c *uconn) error {
	c.ops++
	b := c.in[c.inN:]
	return s.r.queue(uringSQE{opcode: opRecv, fd: c.fd, addr: uint64(uintptr(unsafe.Pointer(&b[0]))), len: uint32(len(b)), userData: id<<8 | tagRecv})
}

func (s *uringNull) send(id uint64, c *uconn) error {
	c.ops++
	b := c.out[c.sent:]
	return s.r.queue(uringSQE{opcode: opSend, fd: c.fd, addr: uint64(uintptr(unsafe.Pointer(&b[0]))), len: uint32(len(b)), opFlags: syscall.MSG_NOSIGNAL, userData: id<<8 | tagSend})
}

// complete handles one completion. A connection that failed or closed is
// closed only once none of its operations is in the ring, so a
// closeSession's reply, sent before the close, reaches the client.
func (s *uringNull) complete(cq uringCQE) error {
	if cq.userData == tagAccept {
		if cq.res < 0 {
			return fmt.Errorf("accept: %w", syscall.Errno(-cq.res))
		}
		fd := int(cq.res)
		if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
			return err
		}
		id := s.nextID
		s.nextID++
		c := &uconn{fd: int32(fd), in: make([]byte, 64<<10), session: int64(id)}
		s.conns[id] = c
		if err := s.recv(id, c); err != nil {
			return err
		}
		return s.accept()
	}
	id := cq.userData >> 8
	c := s.conns[id]
	if c == nil {
		return errors.New("a completion for no connection")
	}
	c.ops--
	var err error
	switch {
	case cq.res < 0 || cq.res == 0 && cq.userData&0xff == tagRecv:
		c.dead = true
	case cq.userData&0xff == tagRecv:
		err = s.received(id, c, int(cq.res))
	default:
		err = s.sentSome(id, c, int(cq.res))
	}
	if c.dead && c.ops == 0 {
		syscall.Close(int(c.fd))
		delete(s.conns, id)
	}
	return err
}

// received answers every whole frame in c's buffer and receives again.
func (s *uringNull) received(id uint64, c *uconn, n int) error {
	c.inN += n
	at := 0
	for c.inN-at >= 4 {
		size := int(binary.BigEndian.Uint32(c.in[at:]))
		if size > len(c.in)-4 {
			c.dead = true
			return nil
		}
		if c.inN-at-4 < size {
			break
		}
		body := c.in[at+4 : at+4+size]
		at += 4 + size
		var ok, closing bool
		if !c.connected {
			c.pend, ok = nullConnect(c.pend, body, c.session)
			c.connected = true
			closing = !ok
		} else {
			c.zxid++
			c.pend, closing = nullReply(c.pend, body, c.zxid, s.value)
		}
		if closing {
			c.dead = true
		}
	}
	c.inN = copy(c.in, c.in[at:c.inN])
	if !c.sending && len(c.pend) > 0 {
		c.pend, c.out = c.out[:0], c.pend
		c.sent, c.sending = 0, true
		if err := s.send(id, c); err != nil {
			return err
		}
	}
	if c.dead {
		return nil
	}
	return s.recv(id, c)
}

// sentSome notes n bytes of c's reply sent and sends the rest, or what
// came meanwhile.
func (s *uringNull) sentSome(id uint64, c *uconn, n int) error {
	c.sent += n
	if c.sent < len(c.out) {
		return s.send(id, c)
	}
	c.sending = false
	if len(c.pend) == 0 {
		return nil
	}
	c.pend, c.out = c.out[:0], c.pend
	c.sent, c.sending = 0, true
	return s.send(id, c)
}
