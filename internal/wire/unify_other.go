//go:build !unix

package wire

import "net"

// peekFirst takes the client's first byte; the connection returned reads
// it again first (unify_unix.go peeks instead).
func peekFirst(nc net.Conn) (byte, net.Conn, error) { return readFirst(nc) }
