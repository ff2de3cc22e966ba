package zab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// The binary layout of a message (protocol version 2), written and read
// field by field without reflection:
//
//	version (1 byte) | type (1 byte) | uvarint presence bits (w* below)
//	| each present field in the order of the bits
//
// A field is present exactly when it is not its zero value, so every
// message has one encoding: the decoder refuses a present zero, a bit it
// does not know and trailing bytes. Signed integers are zigzag varints,
// ID a uvarint; Last and Failed are their bit alone; Data is a uvarint
// length and the bytes; Entries is a uvarint count (at least 1) and, per
// entry, a zigzag varint zxid and a length-prefixed Data (empty Data
// decodes as nil).
const (
	wFrom = 1 << iota
	wEpoch
	wZxid
	wLeader
	wRound
	wState
	wPeerEpoch
	wCommitted
	wEntries
	wData
	wOffset
	wLast
	wID
	wFailed
	wEnd // the first unknown bit
)

// intFields lists the signed fields in their order on the wire.
func (m *Message) intFields() [8]*int64 {
	return [8]*int64{&m.From, &m.Epoch, &m.Zxid, &m.Leader, &m.Round, nil, &m.PeerEpoch, &m.Committed}
}

var intFieldNames = [8]string{"from", "epoch", "zxid", "leader", "round", "state", "peer epoch", "committed"}

// bits returns the presence bits of m.
func (m *Message) bits() uint64 {
	var f uint64
	for i, p := range m.intFields() {
		if p != nil && *p != 0 {
			f |= 1 << i
		}
	}
	set := func(ok bool, bit uint64) {
		if ok {
			f |= bit
		}
	}
	set(m.State != 0, wState)
	set(len(m.Entries) != 0, wEntries)
	set(len(m.Data) != 0, wData)
	set(m.Offset != 0, wOffset)
	set(m.Last, wLast)
	set(m.ID != 0, wID)
	set(m.Failed, wFailed)
	return f
}

// encodedSize is the length of m's encoding.
func encodedSize(m *Message) int {
	f := m.bits()
	n := 2 + uvarintLen(f)
	for i, p := range m.intFields() {
		switch {
		case f&(1<<i) == 0:
		case p == nil:
			n++ // State
		default:
			n += varintLen(*p)
		}
	}
	if f&wEntries != 0 {
		n += uvarintLen(uint64(len(m.Entries)))
		for _, e := range m.Entries {
			n += varintLen(e.Zxid) + uvarintLen(uint64(len(e.Data))) + len(e.Data)
		}
	}
	if f&wData != 0 {
		n += uvarintLen(uint64(len(m.Data))) + len(m.Data)
	}
	if f&wOffset != 0 {
		n += varintLen(m.Offset)
	}
	if f&wID != 0 {
		n += uvarintLen(m.ID)
	}
	return n
}

func uvarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// varintLen is the length of v's zigzag varint.
func varintLen(v int64) int { return uvarintLen(uint64(v<<1) ^ uint64(v>>63)) }

// appendMessage appends m's encoding to dst; it does not validate m.
func appendMessage(dst []byte, m *Message) []byte {
	f := m.bits()
	dst = append(dst, ProtocolVersion, byte(m.Type))
	dst = binary.AppendUvarint(dst, f)
	for i, p := range m.intFields() {
		if f&(1<<i) == 0 {
			continue
		}
		if p == nil { // wState
			dst = append(dst, m.State)
			continue
		}
		dst = binary.AppendVarint(dst, *p)
	}
	if f&wEntries != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(m.Entries)))
		for _, e := range m.Entries {
			dst = binary.AppendVarint(dst, e.Zxid)
			dst = appendBytes(dst, e.Data)
		}
	}
	if f&wData != 0 {
		dst = appendBytes(dst, m.Data)
	}
	if f&wOffset != 0 {
		dst = binary.AppendVarint(dst, m.Offset)
	}
	if f&wID != 0 {
		dst = binary.AppendUvarint(dst, m.ID)
	}
	return dst
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// errNotCanonical reports a field encoded although it is zero.
var errNotCanonical = errors.New("a zero field is encoded")

// reader reads the layout; the first failure sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string, err error) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %w", what, err)
	}
}

var errShort = errors.New("truncated, overlong or non-minimal varint")

// A varint's last byte is zero only in a longer encoding than needed.
func (r *reader) varint(what string) int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 || (n > 1 && r.b[n-1] == 0) {
		r.fail(what, errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint(what string) uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || (n > 1 && r.b[n-1] == 0) {
		r.fail(what, errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes reads a length-prefixed byte string, aliasing the input (capped).
func (r *reader) bytes(what string) []byte {
	n := r.uvarint(what)
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail(what, fmt.Errorf("%d bytes announced, %d left", n, len(r.b)))
		return nil
	}
	if n == 0 {
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// nonZero reads a signed field that is present, so not zero.
func (r *reader) nonZero(what string) int64 {
	v := r.varint(what)
	if v == 0 {
		r.fail(what, errNotCanonical)
	}
	return v
}

// decodeMessage decodes the layout of b; it does not validate the message.
func decodeMessage(b []byte) (*Message, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("%d bytes", len(b))
	}
	if b[0] != ProtocolVersion {
		return nil, fmt.Errorf("protocol version %d, want %d", b[0], ProtocolVersion)
	}
	d := &oneEntry{m: Message{Type: MsgType(b[1])}}
	m := &d.m
	r := &reader{b: b[2:]}
	f := r.uvarint("presence bits")
	if r.err == nil && f >= wEnd {
		return nil, fmt.Errorf("unknown presence bits %#x", f&^(wEnd-1))
	}
	for i, p := range m.intFields() {
		switch {
		case f&(1<<i) == 0:
		case p != nil:
			*p = r.nonZero(intFieldNames[i])
		case len(r.b) == 0:
			r.fail("state", errShort)
		default: // wState
			m.State, r.b = r.b[0], r.b[1:]
			if m.State == 0 {
				r.fail("state", errNotCanonical)
			}
		}
	}
	if f&wEntries != 0 {
		m.Entries = r.entries(d.one[:0:1])
	}
	if f&wData != 0 {
		if m.Data = r.bytes("data"); m.Data == nil {
			r.fail("data", errNotCanonical)
		}
	}
	if f&wOffset != 0 {
		m.Offset = r.nonZero("offset")
	}
	m.Last, m.Failed = f&wLast != 0, f&wFailed != 0
	if f&wID != 0 {
		if m.ID = r.uvarint("id"); m.ID == 0 {
			r.fail("id", errNotCanonical)
		}
	}
	switch {
	case r.err != nil:
		return nil, r.err
	case len(r.b) != 0:
		return nil, fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return m, nil
}

// oneEntry is a message with room for one entry (a PROPOSAL's), so that
// the common message takes one allocation, decoded or proposed.
type oneEntry struct {
	m   Message
	one [1]Entry
}

// entries reads a count and the entries, into buf when they fit; an entry
// takes at least two bytes, so a lying count cannot make it allocate beyond
// the input's size.
func (r *reader) entries(buf []Entry) []Entry {
	n := r.uvarint("entry count")
	switch {
	case r.err != nil:
		return nil
	case n == 0:
		r.fail("entry count", errNotCanonical)
		return nil
	case n > uint64(len(r.b)/2):
		r.fail("entry count", fmt.Errorf("%d entries in %d bytes", n, len(r.b)))
		return nil
	}
	ents := buf[:0]
	if n > uint64(cap(buf)) {
		ents = make([]Entry, 0, n)
	}
	ents = ents[:n]
	for i := range ents {
		ents[i].Zxid = r.varint("entry zxid")
		ents[i].Data = r.bytes("entry data")
		if r.err != nil {
			return nil
		}
	}
	return ents
}
