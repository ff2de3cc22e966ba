package engine

import (
	"github.com/embedzk/zk/wal"
	"github.com/embedzk/zk/zab"
)

// walLog shows the transaction log to the ZAB core, which reads it
// synchronously (DIFF for a lagging follower, commits after a restart).
type walLog struct{ l *wal.Log }

func (w walLog) LastZxid() int64          { return w.l.LastZxid() }
func (w walLog) Base() int64              { return w.l.Base() }
func (w walLog) FirstZxid() int64         { return w.l.FirstZxid() }
func (w walLog) Contains(zxid int64) bool { return w.l.Contains(zxid) }

func (w walLog) Entries(after int64, maxBytes int) ([]zab.Entry, error) {
	ents, err := w.l.Entries(after, maxBytes)
	if err != nil {
		return nil, err
	}
	out := make([]zab.Entry, len(ents))
	for i, e := range ents {
		out[i] = zab.Entry{Zxid: e.Zxid, Data: e.Data}
	}
	return out, nil
}
