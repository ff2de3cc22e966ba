package wire

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/embedzk/zk/internal/jute"
)

// The reader's input. One read syscall brings whatever the socket holds, up
// to readBufSize bytes: a request of a few KiB (a create or setData of a
// 1 KiB value) in one read, a pipelined burst of small requests in one read
// too. The buffer comes from the server's pool only while it holds bytes
// not used yet or a read runs on a readable socket: the reader waits for a
// readable socket without one (syscall.RawConn), so an idle connection
// holds no read buffer.

// readBufSize is the size of a read buffer; a frame longer than what it
// holds is read straight into its own body.
const readBufSize = 16 << 10

// inbox is the reader's buffered input: in[off:end] are bytes read from the
// socket and not used yet. Only the reader goroutine touches it.
type inbox struct {
	buf      []byte  // nil while nothing is buffered
	box      *[]byte // buf's pool entry (nil without a pool: no raw socket)
	off, end int
	rc       syscall.RawConn       // nil when the connection has none (then buf stays)
	try      func(fd uintptr) bool // c.tryRead, made once
	n        int                   // the last raw read's outcome
	rerr     error
}

// readPool holds the connections' read buffers (as pointers: a Put of a
// pointer allocates nothing).
type readPool struct{ p sync.Pool }

func (rp *readPool) get() *[]byte {
	if b, ok := rp.p.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, readBufSize)
	return &b
}

func (rp *readPool) put(b *[]byte) { rp.p.Put(b) }

// buffered reports whether a whole frame is in the read buffer.
func (c *conn) buffered() bool {
	in := &c.in
	if in.end-in.off < 4 {
		return false
	}
	n := int(binary.BigEndian.Uint32(in.buf[in.off:]))
	return n >= 0 && n <= in.end-in.off-4
}

// readFrame reads one frame; no frame within timeout ends the connection
// (a ZooKeeper client pings well within its session timeout). The length is
// checked against jute.maxbuffer before the body is allocated.
func (c *conn) readFrame(timeout time.Duration) ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	in := &c.in
	for in.end-in.off < 4 {
		if err := c.fill(); err != nil {
			return nil, err
		}
	}
	n := int32(binary.BigEndian.Uint32(in.buf[in.off:]))
	if err := c.s.checkFrame(n); err != nil {
		return nil, err
	}
	body := make([]byte, n)
	k := copy(body, in.buf[in.off+4:in.end])
	in.off += 4 + k
	c.drained()
	if k < len(body) {
		// The rest of a frame longer than what was buffered: straight
		// into its body.
		if _, err := io.ReadFull(c.nc, body[k:]); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// checkFrame refuses a frame length over jute.maxbuffer (or negative),
// before anything is allocated for it.
func (s *Server) checkFrame(n int32) error {
	if n < 0 || int64(n) > int64(s.maxBuffer) {
		return fmt.Errorf("%w: %d (limit %d)", jute.ErrFrameTooLarge, n, s.maxBuffer)
	}
	return nil
}

// drained gives the read buffer back once everything in it was used.
func (c *conn) drained() {
	in := &c.in
	if in.off < in.end || in.box == nil {
		return
	}
	c.s.reads.put(in.box)
	in.buf, in.box, in.off, in.end = nil, nil, 0, 0
}

// fill reads once from the socket into the read buffer, after the bytes
// buffered (moved to its start).
func (c *conn) fill() error {
	in := &c.in
	if in.off > 0 {
		in.end = copy(in.buf, in.buf[in.off:in.end])
		in.off = 0
	}
	if in.rc == nil {
		if in.buf == nil {
			in.buf = make([]byte, readBufSize)
		}
		n, err := c.nc.Read(in.buf[in.end:])
		in.end += n
		if n > 0 {
			return nil
		}
		return err
	}
	err := in.rc.Read(in.try)
	n, rerr := in.n, in.rerr
	in.rerr = nil
	switch {
	case err != nil:
		return err
	case rerr != nil:
		return rerr
	case n <= 0:
		return io.EOF
	}
	in.end += n
	return nil
}

// discard reads and drops what the client sends until the socket fails
// (its close, or the read deadline).
func (c *conn) discard() {
	for {
		c.in.off, c.in.end = 0, 0
		if err := c.fill(); err != nil {
			return
		}
	}
}

// dropInput gives back the read buffer of a connection that ended.
func (c *conn) dropInput() {
	c.in.off, c.in.end = 0, 0
	c.drained()
}
