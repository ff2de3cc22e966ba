package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

// FuzzReadFrame: the frame reader never panics, never returns more than
// the limit, fails only with the documented errors, and what it accepts
// re-encodes to exactly the bytes it consumed.
func FuzzReadFrame(f *testing.F) {
	f.Add(encodeFrames(f, []byte{kindData, kindPing}, [][]byte{[]byte("hello"), nil}), uint16(1024))
	f.Add([]byte{0x80, 0, 0, 0, ProtocolVersion, kindData}, uint16(1024))
	f.Add([]byte{0, 0, 0, 3, ProtocolVersion + 1, kindData, 1, 2, 3}, uint16(16))
	f.Add([]byte{0, 0, 0, 9, ProtocolVersion, kindData, 1}, uint16(16))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		max := int(limit)
		fr := readerRW(bytes.NewReader(data))
		consumed := 0
		for {
			kind, payload, err := fr.readFrame(max)
			if err != nil {
				switch {
				case err == io.EOF:
					if consumed != len(data) {
						t.Fatalf("clean EOF after %d of %d bytes", consumed, len(data))
					}
				case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, ErrProtocol), errors.Is(err, ErrFrameTooLarge):
				default:
					t.Fatalf("undocumented error %v", err)
				}
				return
			}
			if len(payload) > max {
				t.Fatalf("%d-byte payload over the %d limit", len(payload), max)
			}
			enc := encodeFrames(t, []byte{kind}, [][]byte{payload})
			if !bytes.HasPrefix(data[consumed:], enc) {
				t.Fatalf("frame at %d does not re-encode to its bytes", consumed)
			}
			consumed += len(enc)
		}
	})
}

// dialerOpening is what an honest dialer 2 sends to peer 1 before the
// acceptor answers, plus a proof frame (which cannot be right: the
// acceptor's nonce is fresh each time).
func dialerOpening(tb testing.TB) []byte {
	var buf bytes.Buffer
	f := newFrameRW(rw{nil, &buf})
	f.writePreamble()
	f.writeMsg(kindHello, helloMsg{From: 2, To: 1, Nonce: make([]byte, nonceLen)})
	f.writeMsg(kindProof, proofMsg{Proof: make([]byte, 32)})
	if err := f.w.Flush(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func admitRange(id int64, _ string) error {
	if id < 2 || id > 5 {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, id)
	}
	return nil
}

// FuzzAcceptHandshake: whatever a stranger sends, the acceptor never
// panics and never admits anyone without the secret.
func FuzzAcceptHandshake(f *testing.F) {
	f.Add(dialerOpening(f))
	f.Add([]byte(magic + "\x02"))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := newFrameRW(rw{bytes.NewReader(data), io.Discard})
		if id, err := acceptHandshake(fr, 1, testSecret, admitRange); err == nil {
			t.Fatalf("admitted peer %d from fuzz input", id)
		}
	})
}

// FuzzAcceptHandshakeTLSMode: without a secret (identity from TLS, which
// admit stands for here), whatever the input, an admitted id passed admit.
func FuzzAcceptHandshakeTLSMode(f *testing.F) {
	f.Add(dialerOpening(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := newFrameRW(rw{bytes.NewReader(data), io.Discard})
		id, err := acceptHandshake(fr, 1, nil, admitRange)
		if err == nil && admitRange(id, "") != nil {
			t.Fatalf("admitted peer %d, which admit refuses", id)
		}
	})
}

// acceptorReply is an acceptor's answer to dialer 2: preamble, a challenge
// and a welcome with a (wrong) proof.
func acceptorReply(tb testing.TB) []byte {
	var buf bytes.Buffer
	f := newFrameRW(rw{nil, &buf})
	f.writePreamble()
	f.writeMsg(kindChallenge, challengeMsg{From: 1, To: 2, Nonce: make([]byte, nonceLen)})
	f.writeMsg(kindWelcome, welcomeMsg{Proof: make([]byte, 32)})
	if err := f.w.Flush(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzDialHandshake: whatever a fake acceptor answers, the dialer never
// panics and never accepts it without the secret.
func FuzzDialHandshake(f *testing.F) {
	f.Add(acceptorReply(f))
	f.Add([]byte(magic + "\x02\x00\x00\x00\x05\x02\x05\xa3abc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := newFrameRW(rw{bytes.NewReader(data), io.Discard})
		if err := dialHandshake(fr, 2, 1, testSecret, ""); err == nil {
			t.Fatal("accepted a fake acceptor")
		}
	})
}
