//go:build !linux

package wire

import "github.com/embedzk/zk/internal/uring"

// Without Linux there is no ring: every connection has its reader
// goroutine. These stand in for ring_linux.go's.

type ringIO struct{}

type ringConn struct{}

const (
	ringFlush = 1 << iota
	ringResume
	ringKill
	ringLinger
	ringDone
	ringAnswer
)

func (s *Server) ringReads() int64  { return 0 }
func (s *Server) newRing() error    { return uring.Available() }
func (ri *ringIO) adopt(*conn) bool { return false }
func (ri *ringIO) post(*conn, int)  {}
func (ri *ringIO) run()             {}
func (ri *ringIO) close()           {}

func ringAvailable() error { return uring.Available() }
