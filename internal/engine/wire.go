package engine

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/embedzk/zk/internal/codec"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// errBadWire wraps decoding failures of log entries and app messages.
var errBadWire = errors.New("zk: malformed record")

// appKind is the kind of an app message between a follower and its leader.
type appKind uint8

const (
	// appForward: follower -> leader, a write to prepare and propose.
	appForward appKind = iota + 1
	// appReply: leader -> follower, a forwarded write failed in prep.
	appReply
	// appTouch: follower -> leader, sessions attached to the follower are
	// alive.
	appTouch
	// appReconfig: follower -> leader, a membership change (reconfig.go).
	appReconfig
	// appRevalidate: follower -> leader, a session re-attached at the
	// follower, which becomes its owner (owner.go); answered by appReply.
	appRevalidate
)

// appMsg is the single app message type; unused fields stay empty.
type appMsg struct {
	Kind     appKind
	ReqID    uint64
	Txn      []byte           `codec:",omitempty"`
	Ids      []znode.Identity `codec:",omitempty"`
	Super    bool             `codec:",omitempty"`
	Result   *wireResult      `codec:",omitempty"`
	Zxid     int64            `codec:",omitempty"`
	Sessions []int64          `codec:",omitempty"`
	Reconfig *ReconfigRequest `codec:",omitempty"`
	// Epoch is the epoch of the leader a follower sends a request to
	// (forward, reconfig, revalidate): a leader takes only its own, so a
	// request sent before a leader change is never run after it.
	Epoch int64 `codec:",omitempty"`
}

// wireResult is a znode.Result with its errors as ZooKeeper codes.
type wireResult struct {
	Code  int32
	Path  string       `codec:",omitempty"`
	Stat  znode.Stat   `codec:",omitempty"`
	Multi []wireResult `codec:",omitempty"`
}

func toWire(r znode.Result) *wireResult {
	w := &wireResult{Code: int32(zkerr.CodeOf(r.Err)), Path: r.Path, Stat: r.Stat}
	for _, m := range r.Multi {
		w.Multi = append(w.Multi, *toWire(m))
	}
	return w
}

func fromWire(w *wireResult) znode.Result {
	if w == nil {
		return znode.Result{Err: zkerr.ErrSystem}
	}
	r := znode.Result{Err: zkerr.FromCode(zkerr.Code(w.Code)), Path: w.Path, Stat: w.Stat}
	for i := range w.Multi {
		r.Multi = append(r.Multi, fromWire(&w.Multi[i]))
	}
	return r
}

// encodeApp encodes m: a forwarded write (the message of every write a
// follower's session makes) in the binary layout below, any other message
// in msgpack.
func encodeApp(m *appMsg) ([]byte, error) {
	if m.Kind == appForward && m.Result == nil && m.Zxid == 0 && len(m.Sessions) == 0 && m.Reconfig == nil {
		return appendForward(m), nil
	}
	return codec.Marshal(m)
}

// appBinaryForward starts a forwarded write in its binary layout:
//
//	0x01 | uvarint ReqID | Super (0 or 1) | uvarint count of Ids
//	| per identity: uvarint length + Scheme, uvarint length + ID
//	| varint Epoch | the txn (znode.EncodeTxn), the rest of the message
//
// A msgpack-encoded appMsg (a map) never starts with 0x01.
const appBinaryForward = 0x01

func appendForward(m *appMsg) []byte {
	b := make([]byte, 0, forwardHeadSize(m.Ids)+len(m.Txn))
	return append(appendForwardHead(b, m.ReqID, m.Epoch, m.Super, m.Ids), m.Txn...)
}

// encodeForward encodes a forwarded write of txn as encodeApp does, the
// txn written straight into the message's one buffer.
func encodeForward(reqID uint64, epoch int64, super bool, ids []znode.Identity, txn *znode.Txn) ([]byte, error) {
	b := make([]byte, 0, forwardHeadSize(ids)+znode.AppendTxnBound(txn))
	return znode.AppendTxn(appendForwardHead(b, reqID, epoch, super, ids), txn)
}

// forwardHeadSize bounds the bytes appendForwardHead appends.
func forwardHeadSize(ids []znode.Identity) int {
	size := 1 + 3*binary.MaxVarintLen64 + 1
	for _, id := range ids {
		size += 2*binary.MaxVarintLen64 + len(id.Scheme) + len(id.ID)
	}
	return size
}

// appendForwardHead appends a forwarded write's layout up to its txn.
func appendForwardHead(b []byte, reqID uint64, epoch int64, super bool, ids []znode.Identity) []byte {
	b = append(b, appBinaryForward)
	b = binary.AppendUvarint(b, reqID)
	sup := byte(0)
	if super {
		sup = 1
	}
	b = append(b, sup)
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = binary.AppendUvarint(b, uint64(len(id.Scheme)))
		b = append(b, id.Scheme...)
		b = binary.AppendUvarint(b, uint64(len(id.ID)))
		b = append(b, id.ID...)
	}
	return binary.AppendVarint(b, epoch)
}

// decodeForward decodes the binary layout (b without its first byte) into
// m, which the caller may keep on its stack. Txn aliases b. The identities
// go to scratch's memory when it has room, and a string equal to the one
// scratch held at its place is reused rather than allocated: the leader
// decodes every forwarded write over the last one's identities, and
// sessions have the same few (nothing keeps a forwarded write's Ids).
func decodeForward(m *appMsg, b []byte, scratch []znode.Identity) error {
	*m = appMsg{Kind: appForward}
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			b = nil
			return 1<<64 - 1 // fails every check below
		}
		b = b[n:]
		return v
	}
	str := func(prev string) (string, bool) {
		n := uv()
		if n > uint64(len(b)) {
			return "", false
		}
		s := prev
		if string(b[:n]) != prev { // compared without a copy
			s = string(b[:n])
		}
		b = b[n:]
		return s, true
	}
	m.ReqID = uv()
	if b == nil || len(b) == 0 || b[0] > 1 {
		return fmt.Errorf("%w: forwarded write: header", errBadWire)
	}
	m.Super, b = b[0] == 1, b[1:]
	n := uv()
	if n > uint64(len(b)/2) {
		return fmt.Errorf("%w: forwarded write: %d identities", errBadWire, n)
	}
	switch {
	case n == 0:
	case n <= uint64(cap(scratch)):
		m.Ids = scratch[:n]
	default:
		m.Ids = make([]znode.Identity, n)
	}
	for i := range m.Ids {
		var ok1, ok2 bool
		m.Ids[i].Scheme, ok1 = str(m.Ids[i].Scheme)
		m.Ids[i].ID, ok2 = str(m.Ids[i].ID)
		if !ok1 || !ok2 {
			return fmt.Errorf("%w: forwarded write: identity %d", errBadWire, i)
		}
	}
	epoch, k := binary.Varint(b)
	if k <= 0 {
		return fmt.Errorf("%w: forwarded write: epoch", errBadWire)
	}
	m.Epoch, b = epoch, b[k:]
	if len(b) > 0 {
		m.Txn = b[:len(b):len(b)]
	}
	return nil
}

// isForward reports whether b is a forwarded write in the binary layout.
func isForward(b []byte) bool { return len(b) > 0 && b[0] == appBinaryForward }

// decodeApp decodes an app message from a peer; the Txn of a forwarded
// write aliases b.
func decodeApp(b []byte) (*appMsg, error) {
	if isForward(b) {
		m := new(appMsg)
		if err := decodeForward(m, b[1:], nil); err != nil {
			return nil, err
		}
		return m, nil
	}
	var m appMsg
	if err := codec.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadWire, err)
	}
	if m.Kind < appForward || m.Kind > appRevalidate {
		return nil, fmt.Errorf("%w: app message kind %d", errBadWire, m.Kind)
	}
	return &m, nil
}
