package wire

import (
	"context"
	"errors"

	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

func toStat(s znode.Stat) jute.Stat {
	return jute.Stat{
		Czxid: s.Czxid, Mzxid: s.Mzxid, Ctime: s.Ctime, Mtime: s.Mtime, Version: s.Version,
		Cversion: s.Cversion, Aversion: s.Aversion, EphemeralOwner: s.EphemeralOwner,
		DataLength: s.DataLength, NumChildren: s.NumChildren, Pzxid: s.Pzxid,
	}
}

func toACL(acl []znode.ACL) []jute.ACL {
	out := make([]jute.ACL, len(acl))
	for i, a := range acl {
		out[i] = jute.ACL{Perms: int32(a.Perms), ID: jute.Id{Scheme: a.Scheme, ID: a.ID}}
	}
	return out
}

func fromACL(acl []jute.ACL) []znode.ACL {
	out := make([]znode.ACL, len(acl))
	for i, a := range acl {
		out[i] = znode.ACL{Perms: znode.Perm(a.Perms), Scheme: a.ID.Scheme, ID: a.ID.ID}
	}
	return out
}

// action is what a failed request does to its connection.
type action uint8

const (
	reply      action = iota // answer with the error code
	replyClose               // answer, then close (session expired)
	closeConn                // close without an answer: the client sees a connection loss
)

// closest maps zk's own errors (codes from -1000 down, which ZooKeeper's
// clients do not know) to the ZooKeeper code of the same situation. The
// errors that mean the peer cannot answer (ErrClosed, ErrNotServing,
// ErrOutcomeUnknown) close the connection instead (see wireError).
var closest = []struct {
	err  error
	code zkerr.Code
}{
	// A path ZooKeeper's own client would have refused: its server
	// answers BADARGUMENTS.
	{zkerr.ErrInvalidPath, zkerr.CodeBadArguments},
	// Data (or a request) over the peer's size limit: a clear refusal
	// that changes nothing, as BADARGUMENTS is, rather than the
	// connection loss ZooKeeper's jute.maxbuffer gives (a client retries
	// that forever).
	{zkerr.ErrDataTooLarge, zkerr.CodeBadArguments},
	// The session holds as many watches as the peer allows: a limit on a
	// resource, refused before anything changed, as QUOTAEXCEEDED is.
	{zkerr.ErrTooManyWatches, zkerr.CodeQuotaExceeded},
	// A watch whose buffer overflowed (never on the wire: a connection's
	// watches queue on its socket, bounded by MaxQueuedBytes).
	{zkerr.ErrWatchOverflow, zkerr.CodeSystemError},
	// A resume from a zxid the log no longer holds (never on the wire:
	// AddWatch's FromZxid is not part of ZooKeeper's protocol).
	{zkerr.ErrCompacted, zkerr.CodeSystemError},
}

// wireError maps an engine error to ZooKeeper's code and what to do with
// the connection.
func wireError(err error) (int32, action) {
	switch {
	case err == nil:
		return 0, reply
	case errors.Is(err, zkerr.ErrNotServing), errors.Is(err, zkerr.ErrOutcomeUnknown),
		errors.Is(err, zkerr.ErrClosed), errors.Is(err, context.Canceled),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, zkerr.ErrConnectionLoss):
		return int32(zkerr.CodeConnectionLoss), closeConn
	case errors.Is(err, zkerr.ErrSessionExpired):
		return int32(zkerr.CodeSessionExpired), replyClose
	case errors.Is(err, zkerr.ErrSessionClosedRequireSASLAuth):
		return int32(zkerr.CodeSessionClosedRequireSASLAuth), replyClose
	case errors.Is(err, zkerr.ErrSessionMoved):
		// The session was re-attached on another peer: ZooKeeper's
		// FinalRequestProcessor closes such a connection unanswered.
		return int32(zkerr.CodeSessionMoved), closeConn
	}
	for _, m := range closest {
		if errors.Is(err, m.err) {
			return int32(m.code), reply
		}
	}
	code := zkerr.CodeOf(err)
	if code <= -1000 {
		code = zkerr.CodeSystemError // a zk error closest does not list yet
	}
	return int32(code), reply
}

// codeOf is wireError's code alone (for a multi's per-op results).
func codeOf(err error) int32 {
	code, _ := wireError(err)
	return code
}
