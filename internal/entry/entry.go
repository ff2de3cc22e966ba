// Package entry is the format of zk's log entries: what the leader proposes
// and every peer applies. An entry carries the txn, the digest of the tree
// after it (so every peer checks its own apply), and who asked for it (so
// the origin peer can answer its caller). It is internal so that zk's own
// tests can read a peer's log.
//
// Layout: version(1) | digest(8) | origin(8) | reqID(8) | txn (znode.EncodeTxn).
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
	Txn    *znode.Txn
}

const (
	version    = 1
	headerSize = 1 + 8 + 8 + 8
)

// Encode encodes e.
func Encode(e Entry) ([]byte, error) {
	txn, err := znode.EncodeTxn(e.Txn)
	if err != nil {
		return nil, err
	}
	b := make([]byte, headerSize, headerSize+len(txn))
	b[0] = version
	binary.BigEndian.PutUint64(b[1:], e.Digest)
	binary.BigEndian.PutUint64(b[9:], uint64(e.Origin))
	binary.BigEndian.PutUint64(b[17:], e.ReqID)
	return append(b, txn...), nil
}

// Decode decodes b; it is safe on untrusted bytes.
func Decode(b []byte) (Entry, error) {
	if len(b) < headerSize {
		return Entry{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	if b[0] != version {
		return Entry{}, fmt.Errorf("%w: version %d", ErrMalformed, b[0])
	}
	txn, err := znode.DecodeTxn(b[headerSize:])
	if err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return Entry{
		Digest: binary.BigEndian.Uint64(b[1:]),
		Origin: int64(binary.BigEndian.Uint64(b[9:])),
		ReqID:  binary.BigEndian.Uint64(b[17:]),
		Txn:    txn,
	}, nil
}
