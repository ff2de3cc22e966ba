package engine

import "github.com/embedzk/zk/internal/zkerr"

// Errors, with ZooKeeper's names. Every error zk returns wraps one of these;
// test them with errors.Is.
var (
	ErrNoNode                  = zkerr.ErrNoNode
	ErrNodeExists              = zkerr.ErrNodeExists
	ErrBadVersion              = zkerr.ErrBadVersion
	ErrNotEmpty                = zkerr.ErrNotEmpty
	ErrNoChildrenForEphemerals = zkerr.ErrNoChildrenForEphemerals
	ErrNoAuth                  = zkerr.ErrNoAuth
	ErrInvalidACL              = zkerr.ErrInvalidACL
	ErrAuthFailed              = zkerr.ErrAuthFailed
	ErrBadArguments            = zkerr.ErrBadArguments
	ErrInvalidPath             = zkerr.ErrInvalidPath
	ErrRequestTooLarge         = zkerr.ErrRequestTooLarge
	ErrSessionExpired          = zkerr.ErrSessionExpired
	ErrSessionMoved            = zkerr.ErrSessionMoved
	ErrConnectionLoss          = zkerr.ErrConnectionLoss
	ErrNotServing              = zkerr.ErrNotServing
	ErrOutcomeUnknown          = zkerr.ErrOutcomeUnknown
	ErrNoWatcher               = zkerr.ErrNoWatcher
	ErrWatchOverflow           = zkerr.ErrWatchOverflow
	ErrTooManyWatches          = zkerr.ErrTooManyWatches
	ErrRuntimeInconsistency    = zkerr.ErrRuntimeInconsistency
	ErrDataInconsistency       = zkerr.ErrDataInconsistency
	ErrUnimplemented           = zkerr.ErrUnimplemented
	ErrSystem                  = zkerr.ErrSystem
	ErrClosed                  = zkerr.ErrClosed
	ErrCompacted               = zkerr.ErrCompacted
	// Reconfig's refusals (ZooKeeper's RECONFIGDISABLED, RECONFIGINPROGRESS
	// and NEWCONFIGNOQUORUM).
	ErrReconfigDisabled   = zkerr.ErrReconfigDisabled
	ErrReconfigInProgress = zkerr.ErrReconfigInProgress
	ErrNewConfigNoQuorum  = zkerr.ErrNewConfigNoQuorum
)
