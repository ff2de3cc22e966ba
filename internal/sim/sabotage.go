package sim

import (
	"strings"

	"github.com/embedzk/zk/internal/entry"
	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/znode"
)

// Sabotage is a deliberately broken behaviour, for the tests that show each
// check can fail: the simulation breaks, on purpose, a guarantee the code
// relies on (a disk that lies, a message altered on its way, a follower
// that ignores an instruction), which is what the corresponding bug in a
// build would do, and the checks must catch it. Sabotages that concern one
// peer apply to Options.SabotagePeer.
type Sabotage uint8

const (
	// SabotageNone is the real code on an honest world.
	SabotageNone Sabotage = iota
	// SabotageLyingFsync: every fsync reports success and makes nothing
	// durable (acknowledging before durable: the class of ZOOKEEPER-4646,
	// NEWLEADER acked before the synced txns were on disk).
	SabotageLyingFsync
	// SabotageSkipSync: the workload's Sync-then-read skips the Sync (a read
	// barrier that does not wait for the leader).
	SabotageSkipSync
	// SabotageCorruptEntry: the first proposal of a client write to
	// SabotagePeer arrives with different data and no digest.
	SabotageCorruptEntry
	// SabotageBlackHole: once the faults are healed, the network loses
	// everything.
	SabotageBlackHole
	// SabotageTamperRead: plain reads return altered data.
	SabotageTamperRead
	// SabotageDropEvent: the first event of every one-shot watch is lost on
	// its way to the client.
	SabotageDropEvent
	// SabotageIgnoreTrunc: SabotagePeer never gets TRUNC (a learner that
	// ignores it: an uncommitted txn is resurrected after TRUNC, the class
	// of ZOOKEEPER-2845 and ZOOKEEPER-3911).
	SabotageIgnoreTrunc
	// SabotageHalfClose: SabotagePeer gets every CloseSession proposal as
	// a no-op without a digest (a CloseSession half-received by a follower,
	// the class of ZOOKEEPER-2355: its ephemerals outlive the session).
	SabotageHalfClose
	// SabotageEpochFirst: SabotagePeer's fsyncs of log segments make nothing
	// durable, while its epoch file stays honest: a crash after the current
	// epoch was written leaves the epoch without the synced txns (the class
	// of ZOOKEEPER-4643, currentEpoch persisted before the txns).
	SabotageEpochFirst
	// SabotageSnapNotDurable: SabotagePeer's snapshot files are never made
	// durable, while the log is reset to them: a crash during a SNAP leaves
	// a log that starts after a snapshot the peer does not have (the class
	// of a DIFF after a partial SNAP).
	SabotageSnapNotDurable
	// SabotageNoTurn: the world gives a Reattach no turn between its sync
	// round and its revalidation (hooks.BetweenRequests), so calls woken
	// in one step queue their revalidations in their goroutines' order.
	SabotageNoTurn
)

// fsSabotage returns the fault the sabotage makes of a file operation of p,
// if any. Pebble's goroutines call it too: it reads only what never
// changes during a run.
func (w *World) fsSabotage(p *simPeer, op FSOp) *FSFault {
	if !w.sabotaged(p) || (op.Kind != OpSync && op.Kind != OpSyncDir) {
		return nil
	}
	switch {
	case w.opts.Sabotage == SabotageLyingFsync,
		w.opts.Sabotage == SabotageEpochFirst && op.Kind == OpSync && strings.HasPrefix(op.Path, "/zk/log/log."),
		w.opts.Sabotage == SabotageSnapNotDurable && strings.HasPrefix(op.Path, "/zk/snapshots"):
		return &FSFault{Lie: true}
	}
	return nil
}

func (w *World) sabotaged(p *simPeer) bool {
	id := w.sabotagePeer.Load()
	return !w.sabotageHeld.Load() && (id == 0 || id == p.id)
}

// sabotageFrame may alter or drop a message on its way to p: it returns
// the frame to deliver, or nil to drop it.
func (w *World) sabotageFrame(from int64, to *simPeer, m *zab.Message, frame []byte) []byte {
	if !w.sabotaged(to) {
		return frame
	}
	switch w.opts.Sabotage {
	case SabotageIgnoreTrunc:
		if m.Type == zab.MsgTrunc {
			w.trace.line(w.now, "sabotage: TRUNC %#x to %d dropped", m.Zxid, to.id)
			return nil
		}
	case SabotageCorruptEntry, SabotageHalfClose:
		if m.Type != zab.MsgProposal || w.sabotageDone {
			return frame
		}
		if altered := w.alterProposal(m); altered != nil {
			w.trace.line(w.now, "sabotage: PROPOSAL %#x to %d altered", m.Entries[0].Zxid, to.id)
			return altered
		}
	}
	return frame
}

// alterProposal returns m re-encoded with its txn altered as the sabotage
// says, or nil if m is not the proposal it alters.
func (w *World) alterProposal(m *zab.Message) []byte {
	en, err := entry.Decode(m.Entries[0].Data)
	if err != nil || len(en.Failure) > 0 {
		return nil
	}
	switch {
	case w.opts.Sabotage == SabotageCorruptEntry && en.Txn.Type == znode.TxnSetData && en.Txn.Path != znode.ConfigPath:
		en.Txn.Data = append([]byte("corrupt-"), en.Txn.Data...)
		w.sabotageDone = true
	case w.opts.Sabotage == SabotageHalfClose && en.Txn.Type == znode.TxnCloseSession:
		en.Txn = &znode.Txn{Type: znode.TxnNoop, Session: en.Txn.Session, Time: en.Txn.Time}
	default:
		return nil
	}
	en.Digest = 0 // so that the peer's own digest check does not see it
	data, err := entry.Encode(en)
	if err != nil {
		return nil
	}
	m2 := *m
	m2.Entries = []zab.Entry{{Zxid: m.Entries[0].Zxid, Data: data}}
	b, err := zab.EncodeMessage(&m2)
	if err != nil {
		return nil
	}
	return b
}
