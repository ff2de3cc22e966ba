// Package entry is the format of zk's log entries: what the leader proposes
// and every peer applies. An entry carries the txn, the digest of the tree
// after it (so every peer checks its own apply), and who asked for it (so
// the origin peer can answer its caller). It is internal so that zk's own
// tests can read a peer's log.
//
// A request that fails against the leader's state is not answered at once:
// it is proposed as a no-op entry carrying its failure, so that a quorum
// orders the failure like any write (ZooKeeper does the same with its error
// txns); a leader that was deposed without knowing it can therefore never
// answer from a stale state.
//
// Layout: version(1) | digest(8) | origin(8) | reqID(8) | uvarint len(failure)
// | failure | txn (znode.EncodeTxn).
package entry

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/embedzk/zk/znode"
)

// ErrMalformed wraps every decoding failure.
var ErrMalformed = errors.New("entry: malformed")

// Entry is one log entry's content.
type Entry struct {
	Digest uint64 // the tree digest after applying Txn; 0 = unchecked
	Origin int64  // the peer whose caller asked for it
	ReqID  uint64 // the caller's request at Origin; 0 = the leader's own
	// Failure, if not empty, is the encoded result of a request that failed
	// (Txn is then the failed txn, applied as a no-op); its meaning belongs
	// to the root package.
	Failure []byte
	Txn     *znode.Txn
}

const (
	version    = 2
	headerSize = 1 + 8 + 8 + 8
	maxFailure = 1 << 20
)

// Encode encodes e. The txn is written straight into the entry's buffer
// (znode.AppendTxn), which is allocated once.
func Encode(e Entry) ([]byte, error) {
	if len(e.Failure) > maxFailure {
		return nil, fmt.Errorf("%w: failure of %d bytes", ErrMalformed, len(e.Failure))
	}
	size := headerSize + binary.MaxVarintLen32 + len(e.Failure)
	if e.Txn != nil {
		size += znode.AppendTxnBound(e.Txn)
	}
	head := make([]byte, headerSize, size)
	head[0] = version
	binary.BigEndian.PutUint64(head[1:], e.Digest)
	binary.BigEndian.PutUint64(head[9:], uint64(e.Origin))
	binary.BigEndian.PutUint64(head[17:], e.ReqID)
	head = binary.AppendUvarint(head, uint64(len(e.Failure)))
	head = append(head, e.Failure...)
	b, err := znode.AppendTxn(head, e.Txn)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Decode decodes b; it is safe on untrusted bytes.
func Decode(b []byte) (Entry, error) {
	return DecodeInto(b, new(znode.Txn))
}

// DecodeInto decodes b as Decode does, its txn into txn (the Entry's Txn
// then points to it), so that a caller may keep the txn on its stack.
func DecodeInto(b []byte, txn *znode.Txn) (Entry, error) {
	if len(b) < headerSize {
		return Entry{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	if b[0] != version {
		return Entry{}, fmt.Errorf("%w: version %d", ErrMalformed, b[0])
	}
	rest := b[headerSize:]
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > maxFailure || n > uint64(len(rest)-k) {
		return Entry{}, fmt.Errorf("%w: failure length", ErrMalformed)
	}
	rest = rest[k:]
	var failure []byte
	if n > 0 {
		failure = append([]byte(nil), rest[:n]...)
	}
	if err := znode.DecodeTxnInto(txn, rest[n:]); err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return Entry{
		Digest:  binary.BigEndian.Uint64(b[1:]),
		Origin:  int64(binary.BigEndian.Uint64(b[9:])),
		ReqID:   binary.BigEndian.Uint64(b[17:]),
		Failure: failure,
		Txn:     txn,
	}, nil
}
