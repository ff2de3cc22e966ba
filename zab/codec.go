package zab

import (
	"errors"
	"fmt"
	"io"
)

// ProtocolVersion is the first byte of every encoded message; a peer
// rejects any other version. Version 1 was msgpack; version 2 is the
// binary layout of wire.go.
const ProtocolVersion = 2

// EncodeMessage encodes m with the protocol version. It refuses a message
// that does not validate. The result is allocated once, at its exact size.
func EncodeMessage(m *Message) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return appendMessage(make([]byte, 0, encodedSize(m)), m), nil
}

// DecodeMessage decodes untrusted bytes: a wrong version, a malformed or
// non-canonical layout, trailing bytes or fields that do not validate are
// errors matching ErrBadMessage (or ErrStaleEpoch). The byte slices of the
// result (Data, each entry's Data) alias b, which must not change
// afterwards (a received frame belongs to its receiver alone); they are
// capped, so appending to one never writes into b.
func DecodeMessage(b []byte) (*Message, error) {
	m, err := decodeMessage(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// SnapshotMessages splits the snapshot stream r (the state at zxid) into SNAP
// messages of at most chunk bytes (default 1 MiB when chunk <= 0) and passes
// each to emit, in order; the last one has Last set (an empty stream makes
// one empty, last message). It stops at the first error of r or emit.
func SnapshotMessages(zxid int64, r io.Reader, chunk int, emit func(*Message) error) error {
	if chunk <= 0 {
		chunk = 1 << 20
	}
	if zxid < 0 {
		return fmt.Errorf("%w: snapshot zxid %#x", ErrBadMessage, zxid)
	}
	var off int64
	cur := make([]byte, chunk)
	n, err := io.ReadFull(r, cur)
	for {
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return emit(&Message{Type: MsgSnap, Zxid: zxid, Offset: off, Data: cur[:n], Last: true})
		case err != nil:
			return fmt.Errorf("zab: reading the snapshot: %w", err)
		}
		next := make([]byte, chunk)
		m, nerr := io.ReadFull(r, next)
		if errors.Is(nerr, io.EOF) {
			// The stream ended exactly at a chunk boundary.
			return emit(&Message{Type: MsgSnap, Zxid: zxid, Offset: off, Data: cur[:n], Last: true})
		}
		if nerr == nil || errors.Is(nerr, io.ErrUnexpectedEOF) {
			if err := emit(&Message{Type: MsgSnap, Zxid: zxid, Offset: off, Data: cur[:n]}); err != nil {
				return err
			}
			off += int64(n)
		}
		cur, n, err = next, m, nerr
	}
}
