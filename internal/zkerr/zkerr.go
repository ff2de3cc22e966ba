// Package zkerr holds the sentinel errors every zk package returns, named as
// ZooKeeper names them, and their ZooKeeper numeric codes.
//
// The errors live here, below every other package, so that znode, watch,
// session, zab and the root all return the very same values; the root
// package re-exports each one (zk.ErrNoNode is zkerr.ErrNoNode), and users
// only ever name the root's. Codes travel in log records and peer messages
// (a multi's per-op results, a forwarded request's error), so an error
// survives a round trip through Code and FromCode.
package zkerr

import "errors"

// Sentinel errors. Callers test them with errors.Is; functions wrap them with
// %w to add detail.
var (
	// ErrSystem is ZooKeeper's SYSTEMERROR: an unexpected internal failure.
	ErrSystem = errors.New("zk: system error")
	// ErrRuntimeInconsistency marks the ops of a failed multi that came after
	// the op that failed.
	ErrRuntimeInconsistency = errors.New("zk: runtime inconsistency")
	// ErrDataInconsistency reports a divergence between replicas.
	ErrDataInconsistency = errors.New("zk: data inconsistency")
	// ErrConnectionLoss reports that the outcome of a request is unknown: the
	// peer lost its quorum or the ensemble stopped while it was in flight.
	ErrConnectionLoss = errors.New("zk: connection loss")
	// ErrMarshalling reports a request or record that could not be encoded.
	ErrMarshalling = errors.New("zk: marshalling error")
	// ErrUnimplemented reports an operation zk does not implement.
	ErrUnimplemented = errors.New("zk: unimplemented")
	// ErrOperationTimeout reports a wait that ended before an answer.
	ErrOperationTimeout = errors.New("zk: operation timeout")
	// ErrBadArguments reports an argument the server rejects (an unknown
	// create mode, a TTL out of range, a negative version other than -1).
	ErrBadArguments = errors.New("zk: bad arguments")
	// ErrInvalidPath reports a path that is not a valid znode path. ZooKeeper
	// raises IllegalArgumentException for these; it has no code of its own
	// and travels as ErrBadArguments.
	ErrInvalidPath = errors.New("zk: invalid path")
	// ErrRequestTooLarge reports a request over the size limit: the whole
	// request as ZooKeeper's client serializes it (path, data, ACLs; a
	// multi as a whole) against the configured limit (ZooKeeper's
	// jute.maxbuffer, 1 MiB - 1 by default), or a path over the path
	// limit. errors.Is(err, ErrBadArguments) also matches it: it is a bad
	// argument, never worth a retry.
	ErrRequestTooLarge error = &subError{"zk: request exceeds the size limit", ErrBadArguments}
	// ErrDataTooLarge is ErrRequestTooLarge under the name znode's Apply
	// uses for data over its hard ceiling.
	ErrDataTooLarge = ErrRequestTooLarge
	// ErrUnknownSession reports a session id the ensemble does not know.
	ErrUnknownSession = errors.New("zk: unknown session")
	// ErrNewConfigNoQuorum is ZooKeeper's NEWCONFIGNOQUORUM.
	ErrNewConfigNoQuorum = errors.New("zk: new config has no quorum")
	// ErrReconfigInProgress is ZooKeeper's RECONFIGINPROGRESS.
	ErrReconfigInProgress = errors.New("zk: reconfig in progress")
	// ErrAPI is ZooKeeper's APIERROR: the API was used wrongly.
	ErrAPI = errors.New("zk: api error")
	// ErrNoNode reports that the node does not exist.
	ErrNoNode = errors.New("zk: node does not exist")
	// ErrNoAuth reports that the session lacks the permission the operation
	// needs.
	ErrNoAuth = errors.New("zk: not authenticated")
	// ErrBadVersion reports that an expected version did not match.
	ErrBadVersion = errors.New("zk: version conflict")
	// ErrNoChildrenForEphemerals reports a create under an ephemeral node.
	ErrNoChildrenForEphemerals = errors.New("zk: ephemeral nodes may not have children")
	// ErrNodeExists reports that the node already exists.
	ErrNodeExists = errors.New("zk: node already exists")
	// ErrNotEmpty reports a delete of a node that has children.
	ErrNotEmpty = errors.New("zk: node has children")
	// ErrSessionExpired reports that the session has expired; every later
	// call on it fails with this error.
	ErrSessionExpired = errors.New("zk: session has been expired by the server")
	// ErrInvalidCallback is ZooKeeper's INVALIDCALLBACK.
	ErrInvalidCallback = errors.New("zk: invalid callback specified")
	// ErrInvalidACL reports an ACL that is malformed or cannot be applied.
	ErrInvalidACL = errors.New("zk: invalid ACL specified")
	// ErrAuthFailed reports failed authentication (AddAuth with a bad scheme
	// or credentials).
	ErrAuthFailed = errors.New("zk: client authentication failed")
	// ErrSessionMoved reports a session that was re-attached elsewhere.
	ErrSessionMoved = errors.New("zk: session moved to another server")
	// ErrNotReadOnly is ZooKeeper's NOTREADONLY.
	ErrNotReadOnly = errors.New("zk: not a read-only call")
	// ErrEphemeralOnLocalSession is ZooKeeper's EPHEMERALONLOCALSESSION.
	ErrEphemeralOnLocalSession = errors.New("zk: ephemeral on local session")
	// ErrNoWatcher reports a RemoveWatches that found no matching watch.
	ErrNoWatcher = errors.New("zk: no such watcher")
	// ErrRequestTimeout is ZooKeeper's REQUESTTIMEOUT.
	ErrRequestTimeout = errors.New("zk: request timeout")
	// ErrReconfigDisabled is ZooKeeper's RECONFIGDISABLED.
	ErrReconfigDisabled = errors.New("zk: reconfig disabled")
	// ErrSessionClosedRequireSASLAuth is ZooKeeper's
	// SESSIONCLOSEDREQUIRESASLAUTH.
	ErrSessionClosedRequireSASLAuth = errors.New("zk: session closed, SASL auth required")
	// ErrQuotaExceeded is ZooKeeper's QUOTAEXCEEDED.
	ErrQuotaExceeded = errors.New("zk: quota exceeded")
	// ErrThrottled is ZooKeeper's THROTTLEDOP.
	ErrThrottled = errors.New("zk: operation throttled")

	// ErrClosed reports a call on a closed Session or a closed Ensemble. It
	// has no ZooKeeper code.
	ErrClosed = errors.New("zk: closed")
	// ErrNotServing reports a peer that is not part of a working quorum (it is
	// looking for a leader or syncing). errors.Is(err, ErrConnectionLoss)
	// also matches it, as ZooKeeper reports the same situation.
	ErrNotServing error = &subError{"zk: peer is not serving", ErrConnectionLoss}
	// ErrOutcomeUnknown reports a write whose wait ended (ctx done or the peer
	// lost its leader) after it may have reached the log: it may still
	// commit. errors.Is(err, ErrConnectionLoss) also matches it.
	ErrOutcomeUnknown error = &subError{"zk: outcome unknown: the request may still commit", ErrConnectionLoss}
	// ErrWatchOverflow reports a watch whose bounded buffer filled up; the
	// watch was removed and its channel closed so that no event is dropped
	// silently.
	ErrWatchOverflow = errors.New("zk: watch buffer overflow; watch removed")
	// ErrTooManyWatches reports a watch refused because its session already
	// has as many watches as the configured limit; nothing was registered.
	ErrTooManyWatches = errors.New("zk: too many watches for one session")
	// ErrCompacted reports a watch asked to resume after a zxid whose
	// changes the peer's transaction log no longer holds (they were purged
	// after a snapshot, or the peer installed a leader's snapshot since):
	// the caller reads the state again, then watches from the zxid of that
	// read, as etcd's compaction error asks.
	ErrCompacted = errors.New("zk: zxid too old: the log no longer holds the changes after it")
)

// subError is a sentinel that also matches a broader sentinel under
// errors.Is, without wrapping it (Unwrap would make CodeOf ambiguous).
type subError struct {
	msg    string
	parent error
}

func (e *subError) Error() string { return e.msg }

// Is reports whether target is the broader sentinel e belongs to.
func (e *subError) Is(target error) bool { return target == e.parent }

// Code is a ZooKeeper error code (KeeperException.Code).
type Code int32

// ZooKeeper's numeric codes.
const (
	CodeOK                           Code = 0
	CodeSystemError                  Code = -1
	CodeRuntimeInconsistency         Code = -2
	CodeDataInconsistency            Code = -3
	CodeConnectionLoss               Code = -4
	CodeMarshallingError             Code = -5
	CodeUnimplemented                Code = -6
	CodeOperationTimeout             Code = -7
	CodeBadArguments                 Code = -8
	CodeUnknownSession               Code = -12
	CodeNewConfigNoQuorum            Code = -13
	CodeReconfigInProgress           Code = -14
	CodeAPIError                     Code = -100
	CodeNoNode                       Code = -101
	CodeNoAuth                       Code = -102
	CodeBadVersion                   Code = -103
	CodeNoChildrenForEphemerals      Code = -108
	CodeNodeExists                   Code = -110
	CodeNotEmpty                     Code = -111
	CodeSessionExpired               Code = -112
	CodeInvalidCallback              Code = -113
	CodeInvalidACL                   Code = -114
	CodeAuthFailed                   Code = -115
	CodeSessionMoved                 Code = -118
	CodeNotReadOnly                  Code = -119
	CodeEphemeralOnLocalSession      Code = -120
	CodeNoWatcher                    Code = -121
	CodeRequestTimeout               Code = -122
	CodeReconfigDisabled             Code = -123
	CodeSessionClosedRequireSASLAuth Code = -124
	CodeQuotaExceeded                Code = -125
	CodeThrottledOp                  Code = -127

	// Codes zk adds for its own errors; ZooKeeper leaves -1000 and below
	// unused. They let these errors survive a round trip between peers.
	CodeInvalidPath     Code = -1001
	CodeRequestTooLarge Code = -1002
	CodeClosed          Code = -1003
	CodeNotServing      Code = -1004
	CodeOutcome         Code = -1005
	CodeWatchOverflow   Code = -1006

	// CodeTooManyWatches travels with ErrTooManyWatches.
	CodeTooManyWatches Code = -1007

	// CodeCompacted travels with ErrCompacted.
	CodeCompacted Code = -1020
)

// table pairs each code with its sentinel, in a fixed order so that CodeOf is
// deterministic even for an error that wraps two sentinels.
var table = []struct {
	code Code
	err  error
}{
	{CodeSystemError, ErrSystem},
	{CodeRuntimeInconsistency, ErrRuntimeInconsistency},
	{CodeDataInconsistency, ErrDataInconsistency},
	{CodeConnectionLoss, ErrConnectionLoss},
	{CodeMarshallingError, ErrMarshalling},
	{CodeUnimplemented, ErrUnimplemented},
	{CodeOperationTimeout, ErrOperationTimeout},
	{CodeBadArguments, ErrBadArguments},
	{CodeUnknownSession, ErrUnknownSession},
	{CodeNewConfigNoQuorum, ErrNewConfigNoQuorum},
	{CodeReconfigInProgress, ErrReconfigInProgress},
	{CodeAPIError, ErrAPI},
	{CodeNoNode, ErrNoNode},
	{CodeNoAuth, ErrNoAuth},
	{CodeBadVersion, ErrBadVersion},
	{CodeNoChildrenForEphemerals, ErrNoChildrenForEphemerals},
	{CodeNodeExists, ErrNodeExists},
	{CodeNotEmpty, ErrNotEmpty},
	{CodeSessionExpired, ErrSessionExpired},
	{CodeInvalidCallback, ErrInvalidCallback},
	{CodeInvalidACL, ErrInvalidACL},
	{CodeAuthFailed, ErrAuthFailed},
	{CodeSessionMoved, ErrSessionMoved},
	{CodeNotReadOnly, ErrNotReadOnly},
	{CodeEphemeralOnLocalSession, ErrEphemeralOnLocalSession},
	{CodeNoWatcher, ErrNoWatcher},
	{CodeRequestTimeout, ErrRequestTimeout},
	{CodeReconfigDisabled, ErrReconfigDisabled},
	{CodeSessionClosedRequireSASLAuth, ErrSessionClosedRequireSASLAuth},
	{CodeQuotaExceeded, ErrQuotaExceeded},
	{CodeThrottledOp, ErrThrottled},
	{CodeInvalidPath, ErrInvalidPath},
	{CodeRequestTooLarge, ErrRequestTooLarge},
	{CodeClosed, ErrClosed},
	{CodeNotServing, ErrNotServing},
	{CodeOutcome, ErrOutcomeUnknown},
	{CodeWatchOverflow, ErrWatchOverflow},
	{CodeTooManyWatches, ErrTooManyWatches},
	{CodeCompacted, ErrCompacted},
}

// CodeOf returns the code of err: CodeOK for nil, the code of the first
// sentinel err wraps, and CodeSystemError for anything else.
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	// The zk-specific sentinels (codes from -1000 down) come first: they
	// also match broader ones (ErrConnectionLoss) or travel wrapped in them
	// (ErrBadArguments).
	for _, e := range table {
		if e.code <= -1000 && errors.Is(err, e.err) {
			return e.code
		}
	}
	for _, e := range table {
		if errors.Is(err, e.err) {
			return e.code
		}
	}
	return CodeSystemError
}

// FromCode returns the sentinel error for code: nil for CodeOK and
// ErrSystem for a code it does not know.
func FromCode(code Code) error {
	if code == CodeOK {
		return nil
	}
	for _, e := range table {
		if e.code == code {
			return e.err
		}
	}
	return ErrSystem
}
