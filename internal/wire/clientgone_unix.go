//go:build unix && !linux

package wire

import "syscall"

// clientGone reports whether the client closed or reset its side of the
// socket (or the connection was killed), taking no byte from it: a recv
// with MSG_PEEK that finds the end of the stream or an error. A socket with
// bytes waiting is not gone (Linux's POLLRDHUP, clientgone_linux.go, sees
// a close behind them).
func (c *conn) clientGone() bool {
	rc := rawOf(c.nc)
	if rc == nil {
		return c.ctx.Err() != nil
	}
	gone := false
	var b [1]byte
	err := rc.Read(func(fd uintptr) bool {
		for {
			n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if err == syscall.EINTR {
				continue
			}
			gone = (n == 0 && err == nil) || (err != nil && err != syscall.EAGAIN)
			return true
		}
	})
	return gone || err != nil
}
