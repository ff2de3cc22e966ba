package zab

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecodeMessage: any bytes either fail to decode with an error or give a
// message that validates, encodes back to the same bytes (one encoding per
// message) and survives another round trip unchanged.
func FuzzDecodeMessage(f *testing.F) {
	for _, m := range sampleMessages() {
		b, _ := EncodeMessage(m)
		f.Add(b)
	}
	f.Add([]byte{0x82, 0xa1, 'v', 0x01, 0xa1, 'm', 0x81, 0xa1, 't', 0x0b})
	f.Add(rawMessage(MsgDiff, wEpoch|wEntries, 2, 0xff, 0xff, 0x03, 2, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			if m != nil {
				t.Fatal("message with an error")
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("decoded but invalid: %v", err)
		}
		b2, err := EncodeMessage(m)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(b, b2) {
			t.Fatalf("two encodings of one message:\n%x\n%x", b, b2)
		}
		m2, err := DecodeMessage(b2)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if diff := cmp.Diff(m, m2); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

// FuzzStep throws decoded messages (any type, any sender, any field the
// decoder lets through) at a serving leader, a follower, an observer and a
// looking peer. Nothing may panic, and what the core asks the driver to do
// must stay sane: appends that extend the log, truncations above what is
// applied, applied entries that are durable and in order.
func FuzzStep(f *testing.F) {
	for _, m := range sampleMessages() {
		b, _ := EncodeMessage(m)
		for _, who := range []byte{0, 1, 2, 3} {
			f.Add(append([]byte{who, byte(m.From)}, b...))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		m, err := DecodeMessage(data[2:])
		if err != nil {
			return
		}
		h := newHarness(t, 60, voters(3), []int64{9}, nil)
		h.serving(30)
		h.propose(3, "a")
		h.deliverAll()
		target := []int64{3, 1, 9, 2}[data[0]%4]
		if target == 2 {
			h.crash(3) // 2 is left looking with 1
			h.deliverAll()
		}
		p := h.peers[target]
		from := int64(data[1] % 12)
		_ = p.node.Step(from, m)
		_ = p.node.Step(from, m) // twice: duplicates must be harmless too
		for i := 0; p.node.HasReady(); i++ {
			if i > 100 {
				t.Fatal("endless Readies")
			}
			rd := p.node.Ready()
			for _, op := range rd.Persist {
				if err := p.disk.persist(op); err != nil {
					t.Fatalf("bad persist op %v: %v", op.Kind, err)
				}
			}
			prev := p.disk.smZxid()
			for _, e := range rd.Apply {
				if e.Zxid <= prev || !p.disk.has(e) {
					t.Fatalf("applies %#x after %#x (durable %v)", e.Zxid, prev, p.disk.has(e))
				}
				prev = e.Zxid
				p.disk.sm = append(p.disk.sm, e)
			}
			for _, env := range append(rd.Send, rd.SendAfterPersist...) {
				if _, err := EncodeMessage(env.Msg); err != nil || env.To == target {
					t.Fatalf("sends an invalid message %v to %d: %v", env.Msg.Type, env.To, err)
				}
			}
			p.node.Advance()
		}
	})
}
