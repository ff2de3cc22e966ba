//go:build unix

package wire

import (
	"io"
	"net"
	"syscall"
)

// peekFirst waits for the client's first byte (under nc's read deadline)
// and reports it without taking it from the socket: nc is returned as is,
// so a plain connection is still a socket the ring can adopt.
func peekFirst(nc net.Conn) (byte, net.Conn, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return readFirst(nc)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, nil, err
	}
	var b [1]byte
	var n int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		for {
			n, _, rerr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
			if rerr != syscall.EINTR {
				return rerr != syscall.EAGAIN
			}
		}
	})
	switch {
	case err != nil:
		return 0, nil, err
	case rerr != nil:
		return 0, nil, rerr
	case n == 0:
		return 0, nil, io.EOF
	}
	return b[0], nc, nil
}
