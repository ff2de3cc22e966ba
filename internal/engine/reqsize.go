package engine

import (
	"fmt"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// Request sizes. ZooKeeper refuses a request packet longer than
// jute.maxbuffer: the request header (xid, type) plus the request record,
// as its client serializes them with jute (ints 4 bytes, longs 8, booleans
// 1, strings and buffers a 4-byte length then the bytes, vectors a 4-byte
// count then the elements; a multi is each op behind a MultiHeader, then
// an end header). zk computes that very size from the request and compares
// it with Config.JuteMaxBuffer, at the session and again at the leader, so
// that a request ZooKeeper would take zk takes, and one it would refuse zk
// refuses with ErrRequestTooLarge.
//
// Why an accepted request always fits a proposal: zk's log entry of a txn
// (internal/entry: a 25-byte header, the failure of a failed request, the
// txn in msgpack) costs at most entryOverhead + txn + failure bytes. The
// msgpack txn is no larger than the jute request but for ACL entries
// (msgpack may spend 2 to 6 bytes more on an entry whose jute size is at
// least 12) and a create's TTL and mode fields, so it is below 1.5 times
// the request size; a failure costs at most maxOpFailure bytes per op of a
// multi, and an op is at least minJuteOp bytes. At MaxJuteMaxBuffer (2
// MiB) the entry is therefore below 2 MiB * (1.5 + 8/18) + entryOverhead,
// about 4.0 MiB: within maxProposalBytes (the ZAB core's limit on one
// proposal), wal.MaxEntrySize (8 MiB) and the transports' frame limit (64
// MiB), and the failure within entry's 1 MiB. TestRequestSizeWorstCases
// builds the worst shapes at exactly the limit and checks every bound
// with the real encoders; the leader also refuses, before preparing it, a
// txn that its "auth" ACL expansion made larger than the limit.
const (
	juteHeader      = 4 + 4     // RequestHeader: xid, type
	juteInt         = 4         // int, and the length of a string, buffer or vector
	juteLong        = 8         // long
	juteBool        = 1         // boolean
	juteMultiHeader = 4 + 1 + 4 // MultiHeader: type, done, err
	// minJuteOp is the smallest op of a multi: a check or delete of "/".
	minJuteOp = juteMultiHeader + juteInt + 1 + juteInt
	// maxOpFailure bounds the msgpack of one op's result in a failed
	// multi's recorded failure (a map holding the code).
	maxOpFailure = 8
	// entryOverhead bounds what a log entry adds besides the txn and the
	// failure: the entry header, the failure's length and envelope, the
	// txn's format byte, type, session, time and map header.
	entryOverhead = 128
	// maxProposalBytes is the ZAB core's limit on one proposal (its
	// MaxMsgBytes), which the engine sets explicitly.
	maxProposalBytes = 4 << 20
	// seqSuffixLen is the length of a sequential node's suffix.
	seqSuffixLen = 10
)

// entryBound bounds the log entry of any txn whose request (its "auth"
// ACL entries expanded) is at most limit bytes: the txn in msgpack below
// 1.5 times the request, the recorded failure of a multi at most
// maxOpFailure bytes per op of at least minJuteOp bytes, and the rest.
func entryBound(limit int) int {
	return limit*3/2 + limit*maxOpFailure/minJuteOp + entryOverhead
}

func juteString(s string) int { return juteInt + len(s) }

func juteBuffer(b []byte) int { return juteInt + len(b) }

func juteACL(acl []znode.ACL) int {
	n := juteInt
	for _, a := range acl {
		n += juteInt + juteString(a.Scheme) + juteString(a.ID)
	}
	return n
}

// txnRequestSize returns the size of the request txn stands for, as
// ZooKeeper's client would send it.
func txnRequestSize(txn *znode.Txn) int { return juteHeader + recordSize(txn) }

// recordSize is the jute size of txn's request record (not its header).
func recordSize(t *znode.Txn) int {
	switch t.Type {
	case znode.TxnCreate:
		n := juteString(t.Path) + juteBuffer(t.Data) + juteACL(t.ACL) + juteInt // flags
		if t.Mode == znode.ModePersistentWithTTL || t.Mode == znode.ModePersistentSequentialWithTTL {
			n += juteLong // CreateTTLRequest
		}
		return n
	case znode.TxnDelete, znode.TxnCheck:
		return juteString(t.Path) + juteInt
	case znode.TxnSetData:
		return juteString(t.Path) + juteBuffer(t.Data) + juteInt
	case znode.TxnSetACL:
		return juteString(t.Path) + juteACL(t.ACL) + juteInt
	case znode.TxnMulti:
		n := juteMultiHeader // the end marker
		for i := range t.Ops {
			n += juteMultiHeader + recordSize(&t.Ops[i])
		}
		return n
	case znode.TxnCreateSession:
		// ConnectRequest: protocol version, last zxid seen, timeout,
		// session id, password, read-only.
		return juteInt + juteLong + juteInt + juteLong + juteBuffer(t.Password) + juteBool
	}
	return 0 // close session and the leader's own txns: the header alone
}

// pathRequestSize is the size of a read of one path (getData, exists,
// getChildren: path and watch flag).
func pathRequestSize(path string) int { return juteHeader + juteString(path) + juteBool }

// authRequestSize is the size of an addAuth request (AuthPacket).
func authRequestSize(scheme string, auth []byte) int {
	return juteHeader + juteInt + juteString(scheme) + juteBuffer(auth)
}

// expandedRequestSize is txnRequestSize after ZooKeeper's fixupACL
// replaces each distinct "auth" entry of a create's or setACL's ACL with
// one entry per digest identity of the session, computed without building
// the expansion (which could be huge: entries times identities). Other
// duplicates still count, so it is never below the real size.
func expandedRequestSize(txn *znode.Txn, ids []znode.Identity) int {
	per := 0 // one expanded entry per digest identity
	for _, id := range ids {
		if id.Scheme == znode.SchemeDigest {
			per += juteInt + juteString(id.Scheme) + juteString(id.ID)
		}
	}
	n := txnRequestSize(txn)
	if per == 0 {
		return n // nothing to expand to: fixupACL refuses an auth entry
	}
	grow := func(acl []znode.ACL) {
		seen := map[znode.ACL]bool{}
		for _, a := range acl {
			if a.Scheme == znode.SchemeAuth && !seen[a] {
				seen[a] = true
				n += per - (juteInt + juteString(a.Scheme) + juteString(a.ID))
			}
		}
	}
	grow(txn.ACL)
	for i := range txn.Ops {
		grow(txn.Ops[i].ACL)
	}
	return n
}

// checkSize refuses a request of size bytes over limit.
func checkSize(what string, size, limit int) error {
	if size > limit {
		return fmt.Errorf("zk: %s: %w: %d bytes, limit %d (jute.maxbuffer)", what, zkerr.ErrRequestTooLarge, size, limit)
	}
	return nil
}

// checkPathLength refuses a path over MaxPathLength (a sequential one
// counts with its suffix). It runs before any other check of the path, so
// that no error repeats a huge path.
func checkPathLength(path string, sequential bool) error {
	n := len(path)
	if sequential {
		n += seqSuffixLen
	}
	if n > MaxPathLength {
		return &pathTooLongError{n: n, path: shortPath(path)}
	}
	return nil
}

// pathTooLongError is checkPathLength's refusal, an ErrRequestTooLarge
// that the audit log tells from the others (auditRefused).
type pathTooLongError struct {
	n    int
	path string
}

func (e *pathTooLongError) Error() string {
	return fmt.Sprintf("zk: %v: a path of %d bytes (limit %d): %s", zkerr.ErrRequestTooLarge, e.n, MaxPathLength, e.path)
}

func (e *pathTooLongError) Unwrap() error { return zkerr.ErrRequestTooLarge }

// shortPath is path as an error message shows it: its first bytes only.
func shortPath(path string) string {
	const show = 64
	if len(path) <= show {
		return fmt.Sprintf("%q", path)
	}
	return fmt.Sprintf("%q... (%d bytes)", path[:show], len(path))
}

// checkTxnLimits is the leader's check of a client's txn, before anything
// is prepared: the whole request within the leader's own limit, every
// path within MaxPathLength. It runs on what a follower forwarded too.
func checkTxnLimits(txn *znode.Txn, limit int) error {
	if err := checkSize("request", txnRequestSize(txn), limit); err != nil {
		return err
	}
	if err := checkPathLength(txn.Path, txn.Type == znode.TxnCreate && isSequential(txn.Mode)); err != nil {
		return err
	}
	for i := range txn.Ops {
		op := &txn.Ops[i]
		if err := checkPathLength(op.Path, op.Type == znode.TxnCreate && isSequential(op.Mode)); err != nil {
			return err
		}
	}
	return nil
}
