//go:build unix

package wire

import "syscall"

// initInbox finds the socket's raw access, if it has one.
func (c *conn) initInbox() {
	if sc, ok := c.nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			c.in.rc, c.in.try = rc, c.tryRead
		}
	}
}

// tryRead is the raw socket's read (fill): one read into the buffer,
// taken from the pool if it has none; false on a socket with nothing to
// read (the buffer then goes back if it holds nothing), to wait for it.
func (c *conn) tryRead(fd uintptr) bool {
	in := &c.in
	if in.buf == nil {
		in.box = c.s.reads.get()
		in.buf = *in.box
	}
	for {
		in.n, in.rerr = syscall.Read(int(fd), in.buf[in.end:])
		if in.rerr != syscall.EINTR {
			break
		}
	}
	if in.rerr == syscall.EAGAIN {
		if in.end == 0 {
			// Nothing buffered: wait for the socket without a buffer.
			c.s.reads.put(in.box)
			in.buf, in.box = nil, nil
		}
		return false
	}
	return true
}

// rawOf is the socket beneath nc, seen through TLS; nil if it has none.
func rawOf(nc any) syscall.RawConn {
	if t, ok := nc.(tlsConn); ok {
		nc = t.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}
