//go:build !unix

package wire

// initInbox leaves the reader on net.Conn's Read: the raw read (tryRead)
// is written for Unix sockets.
func (c *conn) initInbox() {}
