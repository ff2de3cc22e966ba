package wire

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"github.com/embedzk/zk/internal/jute"
)

// ZooKeeper's trace mask (ZooTrace): which kinds of events its trace log
// records. The client port traces requests and pings; the default mask is
// ZooKeeper's (requests, server packets, sessions, warnings: 306).
const (
	traceClientRequest = 1 << 1
	traceClientPing    = 1 << 3
	defaultTraceMask   = 1<<1 | 1<<4 | 1<<5 | 1<<8
)

// levelTrace is the slog level of the client port's trace: each request
// (and ping) read, while the trace mask (gtmk, stmk) includes its kind.
// It is below slog.LevelDebug, so only a Logger enabled for it writes it.
const levelTrace = slog.LevelDebug - 4

// trace logs the request of h at levelTrace if the trace mask includes
// its kind and the Logger is enabled for that level.
func (c *conn) trace(h *jute.RequestHeader) {
	bit := int64(traceClientRequest)
	if h.Type == jute.OpPing {
		bit = traceClientPing
	}
	if c.s.traceMask.Load()&bit == 0 || !c.s.cfg.Logger.Enabled(c.ctx, levelTrace) {
		return
	}
	c.s.cfg.Logger.Log(c.ctx, levelTrace, "zk: client request", "session", fmt.Sprintf("0x%x", c.sessionID.Load()),
		"op", opName(h.Type), "cxid", fmt.Sprintf("0x%x", h.Xid), "ip", c.ip)
}

// traceMaskWord answers gtmk and stmk: the trace mask, in decimal, with no
// newline (ZooKeeper prints the long alone).
func (s *Server) traceMaskWord() string { return strconv.FormatInt(s.traceMask.Load(), 10) }

// readTraceMask reads stmk's argument, the 8-byte mask that follows the
// word, and sets it; it reports whether the connection delivered it.
func (c *conn) readTraceMask() bool {
	var b [8]byte
	if _, err := io.ReadFull(c.nc, b[:]); err != nil {
		return false
	}
	c.s.traceMask.Store(int64(binary.BigEndian.Uint64(b[:])))
	return true
}
