//go:build linux

package wire_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"

	"github.com/embedzk/zk/internal/uring"
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

const ringEntries = 512

// uringAvailable reports why this kernel refuses io_uring, or nil.
func uringAvailable() error { return uring.Available() }

// uconn is one client connection of the io_uring null server.
type uconn struct {
	fd        int
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
	held      []byte // replies waiting for the log (the logging null server)
	heldGroup uint64 // the log group they wait for, 0 if none
}

// uringNull is the server's state, owned by its one loop.
type uringNull struct {
	r      *uring.Ring
	lf     *os.File // the listener's descriptor, kept from its finalizer
	lfd    int
	conns  map[uint64]*uconn
	nextID uint64
	value  []byte
	log    *nullLog // the logging null server's log, or nil
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
	r, err := uring.NewOwned(ringEntries)
	if err != nil {
		return err
	}
	s := &uringNull{r: r, lf: f, lfd: int(f.Fd()), conns: map[uint64]*uconn{}, nextID: 1, value: make([]byte, 1024)}
	if spec := os.Getenv(nullLogEnv); spec != "" {
		if s.log, err = openNullLog(spec); err != nil {
			return err
		}
	}
	if err := s.accept(); err != nil {
		return err
	}
	for {
		if err := r.Enter(1); err != nil {
			return err
		}
		var failed error
		r.Reap(func(c uring.CQE) {
			if err := s.complete(c); err != nil && failed == nil {
				failed = err
			}
		})
		if failed != nil {
			return failed
		}
		if s.log != nil {
			if err := s.log.turn(s); err != nil {
				return err
			}
		}
	}
}

func (s *uringNull) accept() error {
	return s.r.Queue(uring.Accept(s.lfd, tagAccept))
}

func (s *uringNull) recv(id uint64, c *uconn) error {
	c.ops++
	return s.r.Queue(uring.Recv(c.fd, c.in[c.inN:], id<<8|tagRecv))
}

func (s *uringNull) send(id uint64, c *uconn) error {
	c.ops++
	return s.r.Queue(uring.Send(c.fd, c.out[c.sent:], id<<8|tagSend))
}

// complete handles one completion. A connection that failed or closed is
// closed only once none of its operations is in the ring, so a
// closeSession's reply, sent before the close, reaches the client.
func (s *uringNull) complete(cq uring.CQE) error {
	if cq.UserData == tagAccept {
		if cq.Res < 0 {
			return fmt.Errorf("accept: %w", syscall.Errno(-cq.Res))
		}
		fd := int(cq.Res)
		if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
			return err
		}
		id := s.nextID
		s.nextID++
		c := &uconn{fd: fd, in: make([]byte, 64<<10), session: int64(id)}
		s.conns[id] = c
		if err := s.recv(id, c); err != nil {
			return err
		}
		return s.accept()
	}
	if cq.UserData == tagLogWrite || cq.UserData == tagLogSync {
		return s.log.completed(s, cq)
	}
	id := cq.UserData >> 8
	c := s.conns[id]
	if c == nil {
		return errors.New("a completion for no connection")
	}
	c.ops--
	var err error
	switch {
	case cq.Res < 0 || cq.Res == 0 && cq.UserData&0xff == tagRecv:
		c.dead = true
	case cq.UserData&0xff == tagRecv:
		err = s.received(id, c, int(cq.Res))
	default:
		err = s.sentSome(id, c, int(cq.Res))
	}
	if c.dead && c.ops == 0 {
		syscall.Close(c.fd)
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
			if s.log.holds(c, body) {
				c.held, closing = nullReply(c.held, body, c.zxid, s.value)
				s.log.hold(id, c, body)
			} else {
				c.pend, closing = nullReply(c.pend, body, c.zxid, s.value)
			}
		}
		if closing {
			c.dead = true
		}
	}
	c.inN = copy(c.in, c.in[at:c.inN])
	if err := s.kick(id, c); err != nil {
		return err
	}
	if c.dead {
		return nil
	}
	return s.recv(id, c)
}

// kick starts sending c's pending replies unless a send is in the ring.
func (s *uringNull) kick(id uint64, c *uconn) error {
	if c.sending || len(c.pend) == 0 {
		return nil
	}
	c.pend, c.out = c.out[:0], c.pend
	c.sent, c.sending = 0, true
	return s.send(id, c)
}

// sentSome notes n bytes of c's reply sent and sends the rest, or what
// came meanwhile.
func (s *uringNull) sentSome(id uint64, c *uconn, n int) error {
	c.sent += n
	if c.sent < len(c.out) {
		return s.send(id, c)
	}
	c.sending = false
	return s.kick(id, c)
}
