package main

import (
	"context"
	"errors"

	"github.com/embedzk/zk"
)

// cliError is what zkCli's CliException is: a message printed on the error
// stream and the exit code a one-shot command returns.
type cliError struct {
	msg  string
	code int
}

func (e *cliError) Error() string { return e.msg }

// cliErr is a CliException with exit code 1.
func cliErr(msg string) error { return &cliError{msg: msg, code: 1} }

// exitCode is the exit code of a command that returned err.
func exitCode(err error) int {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.code
	}
	if err != nil {
		return 1
	}
	return 0
}

// codeName is KeeperException.getCodeMessage: ZooKeeper's name of the
// error code err carries, and whether it carries one.
func codeName(err error) (string, bool) {
	for _, c := range []struct {
		err  error
		name string
	}{
		{zk.ErrNoNode, "NoNode"},
		{zk.ErrNodeExists, "NodeExists"},
		{zk.ErrBadVersion, "BadVersion"},
		{zk.ErrNotEmpty, "Directory not empty"},
		{zk.ErrNoChildrenForEphemerals, "NoChildrenForEphemerals"},
		{zk.ErrNoAuth, "NoAuth"},
		{zk.ErrInvalidACL, "InvalidACL"},
		{zk.ErrAuthFailed, "AuthFailed"},
		{zk.ErrBadArguments, "BadArguments"},
		{zk.ErrSessionExpired, "Session expired"},
		{zk.ErrSessionMoved, "Session moved"},
		{zk.ErrNoWatcher, "No such watcher"},
		{zk.ErrRuntimeInconsistency, "RuntimeInconsistency"},
		{zk.ErrDataInconsistency, "DataInconsistency"},
		{zk.ErrUnimplemented, "Unimplemented"},
		{zk.ErrSystem, "SystemError"},
		{zk.ErrReconfigDisabled, "Reconfig is disabled"},
		{zk.ErrNewConfigNoQuorum, "NewConfigNoQuorum"},
		{zk.ErrReconfigInProgress, "ReconfigInProgress"},
		{zk.ErrNotReadOnly, "Not a read-only call"},
		// A call whose peer stopped serving, or that timed out, is what a
		// ZooKeeper client reports as a lost connection.
		{zk.ErrConnectionLoss, "ConnectionLoss"},
		{zk.ErrNotServing, "ConnectionLoss"},
		{context.DeadlineExceeded, "ConnectionLoss"},
	} {
		if errors.Is(err, c.err) {
			return c.name, true
		}
	}
	return "", false
}

// keeperMessage is KeeperException.getMessage: "KeeperErrorCode = NAME for
// PATH" ("null" path: no " for"). An error without a ZooKeeper code (zk's
// own, such as ErrTooManyWatches) is its own message.
func keeperMessage(err error, path string, hasPath bool) string {
	name, ok := codeName(err)
	if !ok {
		return err.Error()
	}
	if !hasPath {
		return "KeeperErrorCode = " + name
	}
	return "KeeperErrorCode = " + name + " for " + path
}

// wrapErr is CliWrapperException: the message zkCli prints for a failed
// call on path.
func wrapErr(err error, path string) error {
	return cliErr(wrapMessage(err, path, true))
}

// wrapMessage is CliWrapperException.getMessage.
func wrapMessage(err error, path string, hasPath bool) string {
	p := path
	if !hasPath {
		p = "null"
	}
	for _, c := range []struct {
		err    error
		prefix string
	}{
		{zk.ErrNoNode, "Node does not exist: "},
		{zk.ErrNoChildrenForEphemerals, "Ephemerals cannot have children: "},
		{zk.ErrNodeExists, "Node already exists: "},
		{zk.ErrNotEmpty, "Node not empty: "},
		{zk.ErrInvalidACL, "Acl is not valid : "},
		{zk.ErrNoAuth, "Insufficient permission : "},
		{zk.ErrBadArguments, "Arguments are not valid : "},
		{zk.ErrBadVersion, "version No is not valid : "},
	} {
		if errors.Is(err, c.err) {
			return c.prefix + p
		}
	}
	return keeperMessage(err, path, hasPath)
}

// errInvalidACLNoPath is the InvalidACLException ZooKeeper's client throws,
// without a path, for an empty ACL list.
var errInvalidACLNoPath = zk.ErrInvalidACL

// zkIs is errors.Is.
func zkIs(err, target error) bool { return errors.Is(err, target) }
