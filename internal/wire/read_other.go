//go:build !unix

package wire

// initInbox leaves the reader on net.Conn's Read: the raw read (tryRead)
// is written for Unix sockets.
func (c *conn) initInbox() {}

// clientGone is read_unix.go's check, which needs a raw socket: elsewhere a
// client that left is found at its connection's first read.
func (c *conn) clientGone() bool { return false }
