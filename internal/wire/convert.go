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

// wireError maps an engine error to ZooKeeper's code and what to do with
// the connection. Errors without a ZooKeeper code become the code ZooKeeper
// uses for the same situation.
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
	case errors.Is(err, zkerr.ErrInvalidPath), errors.Is(err, zkerr.ErrDataTooLarge):
		return int32(zkerr.CodeBadArguments), reply
	}
	code := zkerr.CodeOf(err)
	if code <= -1000 {
		code = zkerr.CodeSystemError
	}
	return int32(code), reply
}

// codeOf is wireError's code alone (for a multi's per-op results).
func codeOf(err error) int32 {
	code, _ := wireError(err)
	return code
}
