package wire

import (
	"syscall"
	"unsafe"
)

// pollRDHUP is Linux's POLLRDHUP: the peer closed its end (or shut down
// its writing side), reported even while unread bytes wait.
const pollRDHUP = 0x2000

type pollFD struct {
	fd      int32
	events  int16
	revents int16
}

// clientGone reports whether the client closed or reset its side of the
// socket (or the connection was killed), taking no byte from it: a ppoll
// with no timeout for POLLRDHUP, which sees the close even behind bytes
// still unread (a TLS client's close_notify alert comes just before it).
func (c *conn) clientGone() bool {
	rc := rawOf(c.nc)
	if rc == nil {
		return c.ctx.Err() != nil
	}
	gone := false
	err := rc.Control(func(fd uintptr) {
		p := pollFD{fd: int32(fd), events: pollRDHUP}
		var ts syscall.Timespec
		for {
			n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&p)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
			if errno == syscall.EINTR {
				continue
			}
			gone = errno != 0 || (n == 1 && p.revents&(pollRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0)
			return
		}
	})
	return gone || err != nil
}
