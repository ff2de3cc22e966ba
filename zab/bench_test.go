package zab

import (
	"bytes"
	"testing"
)

// BenchmarkStandalonePropose: one proposal per Ready on a single voter
// (persist to the in-memory disk, apply, advance).
func BenchmarkStandalonePropose(b *testing.B) {
	benchStandalone(b, 1)
}

// BenchmarkStandaloneProposeBatch100: 100 proposals per Ready (group commit);
// the time is per proposal.
func BenchmarkStandaloneProposeBatch100(b *testing.B) {
	benchStandalone(b, 100)
}

func benchStandalone(b *testing.B, batch int) {
	h := newHarness(b, 1, []int64{1}, nil, func(c *Config) { c.MaxMsgBytes = 1 << 20 })
	p := h.peers[1]
	data := bytes.Repeat([]byte{'x'}, 128)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		for j := 0; j < batch; j++ {
			if _, err := p.node.Propose(data); err != nil {
				b.Fatal(err)
			}
		}
		rd := p.node.Ready()
		for _, op := range rd.Persist {
			p.disk.entries = append(p.disk.entries, op.Entries...)
		}
		p.node.Advance()
		if i%4096 == 0 {
			p.disk.entries = p.disk.entries[:0] // keep memory flat; nothing reads them
			p.disk.base = p.disk.last()
		}
	}
}

// BenchmarkThreePeers: proposals replicated to two followers through the
// harness (encode, decode, Step, Ready, ack, commit), 100 per round; the time
// is per proposal.
func BenchmarkThreePeers(b *testing.B) {
	h := newHarness(b, 1, voters(3), nil, func(c *Config) { c.MaxMsgBytes = 1 << 20 })
	l := h.serving(30)
	data := bytes.Repeat([]byte{'x'}, 128)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 100 {
		for j := 0; j < 100; j++ {
			if _, err := h.peers[l].node.Propose(data); err != nil {
				b.Fatal(err)
			}
		}
		h.deliverAll()
	}
}

// BenchmarkEncodeDecodeProposal: a PROPOSAL of 1 KiB through the codec.
func BenchmarkEncodeDecodeProposal(b *testing.B) {
	m := &Message{Type: MsgProposal, From: 3, Epoch: 7, Entries: []Entry{{Zxid: MakeZxid(7, 99), Data: bytes.Repeat([]byte{1}, 1024)}}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf, err := EncodeMessage(m)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := DecodeMessage(buf); err != nil {
			b.Fatal(err)
		}
	}
}
