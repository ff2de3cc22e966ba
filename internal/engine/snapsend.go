package engine

import (
	"errors"
	"io"

	"github.com/embedzk/zk/zab"
)

// Snapshots go to learners in chunks, paced by the learner's acks: at most
// snapWindow bytes beyond what it made durable are in flight, so a tree of
// any size crosses a transport whose per-peer queue is bounded.
const (
	snapChunk  = 1 << 20
	snapWindow = 4 * snapChunk
)

// snapStream is one snapshot on its way to a learner.
type snapStream struct {
	sn    snapHandle
	zxid  int64
	pr    *io.PipeReader
	done  chan struct{} // closed once the writing goroutine returned
	sent  int64         // bytes sent
	acked int64         // bytes the learner acknowledged
}

// snapSent is a stream whose last chunk went out: the core is told after
// the Ready's Advance.
type snapSent struct{ peer, zxid int64 }

// startSnapshots starts a stream of the applied tree to each peer (one
// already under way to it starts over) and sends its first window.
func (p *peer) startSnapshots(peers []int64, sent []snapSent) []snapSent {
	for _, to := range peers {
		p.dropSnapshot(to)
		sn, err := p.e.tree.NewSnapshot()
		if err != nil {
			p.cfg.Logger.Warn("zk: snapshot for a learner", "to", to, "err", err)
			continue
		}
		pr, pw := io.Pipe()
		st := &snapStream{sn: sn, zxid: sn.Zxid(), pr: pr, done: make(chan struct{})}
		go func() {
			defer close(st.done)
			_, err := sn.WriteTo(pw)
			pw.CloseWithError(err)
		}()
		if p.snapOut == nil {
			p.snapOut = map[int64]*snapStream{}
		}
		p.snapOut[to] = st
		sent = p.pumpSnapshot(to, st, sent)
	}
	return sent
}

// snapAcked records the learners' progress and sends them more.
func (p *peer) snapAcked(acks []zab.SnapAck, sent []snapSent) []snapSent {
	for _, a := range acks {
		st := p.snapOut[a.Peer]
		if st == nil || st.zxid != a.Zxid {
			continue
		}
		st.acked = max(st.acked, a.Offset)
		sent = p.pumpSnapshot(a.Peer, st, sent)
	}
	return sent
}

// pumpSnapshot sends chunks while the window allows; after the last one
// the stream ends and joins sent.
func (p *peer) pumpSnapshot(to int64, st *snapStream, sent []snapSent) []snapSent {
	for st.sent-st.acked < snapWindow {
		buf := make([]byte, snapChunk)
		n, err := io.ReadFull(st.pr, buf)
		last := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !last {
			p.cfg.Logger.Warn("zk: reading a snapshot for a learner", "to", to, "err", err)
			p.dropSnapshot(to)
			return sent
		}
		m := &zab.Message{Type: zab.MsgSnap, Zxid: st.zxid, Offset: st.sent, Data: buf[:n], Last: last}
		p.send([]zab.Envelope{{To: to, Msg: m}})
		st.sent += int64(n)
		if last {
			p.logSnapshotSent(to, st)
			p.dropSnapshot(to)
			return append(sent, snapSent{peer: to, zxid: st.zxid})
		}
	}
	return sent
}

// dropSnapshot ends the stream to a learner, if any.
func (p *peer) dropSnapshot(to int64) {
	st := p.snapOut[to]
	if st == nil {
		return
	}
	delete(p.snapOut, to)
	st.pr.CloseWithError(io.ErrClosedPipe)
	<-st.done
	st.sn.Close()
}

// dropUnwantedSnapshots ends the streams the core no longer waits for (the
// learner was dropped, or this peer no longer leads).
func (p *peer) dropUnwantedSnapshots() {
	for to := range p.snapOut {
		if !p.node.SnapshotWanted(to) {
			p.dropSnapshot(to)
		}
	}
}

// dropAllSnapshots ends every stream (the peer is shutting down).
func (p *peer) dropAllSnapshots() {
	for to := range p.snapOut {
		p.dropSnapshot(to)
	}
}
