package engine

import (
	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/zab"
)

// mark notes one step of a request's way for a latency trace
// (hooks.Hooks.Trace); without a tracer it does nothing.
func (p *peer) mark(point string, session int64, req uint64, zxid int64) {
	p.cfg.TestHooks.Note(hooks.Mark{Peer: p.cfg.ID, Point: point, Session: session, Req: req, Zxid: zxid})
}

// markMsg notes a peer message sent or received (prefix "send-", "recv-").
func (p *peer) markMsg(prefix string, m *zab.Message) {
	if !p.cfg.TestHooks.Tracing() {
		return
	}
	z := m.Zxid
	if n := len(m.Entries); n > 0 {
		z = m.Entries[n-1].Zxid
	}
	p.mark(prefix+m.Type.String(), 0, 0, z)
}

// lastZxid is the zxid of the last of ents (0 for none).
func lastZxid(ents []zab.Entry) int64 {
	if len(ents) == 0 {
		return 0
	}
	return ents[len(ents)-1].Zxid
}
