// Package lincheck checks histories of znode operations for
// linearizability with github.com/anishathalye/porcupine. It is shared by
// the deterministic simulation (internal/sim) and the real-process tests
// (internal/proctest), so that both are judged by the same checker.
//
// The model is one register per path: whether the node exists, its data and
// its version. Create, Set, Delete (with an expected version, -1 for any),
// Read (a linearizable read: Sync then Get) and VersionCheck (a multi's
// check op) are modelled. A history is partitioned by path (operations on
// different paths commute, and linearizability is local: a history is
// linearizable if and only if each object's is), so each check stays small.
// A multi is checked as its per-path operations, each with the multi's call
// and return times and outcome.
//
// Operations whose outcome the client never learned (its context ended, its
// peer lost its quorum, its process died) must be resolved by the caller
// before checking, from the committed log: an op found committed gets the
// outcome the log says and, as its return time, any time by which its txn
// is known to have taken effect (the end of the history, or earlier: the
// simulation uses the time its txn was first applied anywhere); an op not
// found is dropped. Writes that failed with a ZooKeeper error (NoNode,
// NodeExists, BadVersion) are observations like reads and belong in the
// history.
//
// Check is safe for concurrent use; it never retains the caller's slices.
// A check that times out (Result.TimedOut) proves nothing: callers count it
// as a failure. Explain narrows a failed history down to the first
// operation it cannot explain, for reports.
package lincheck
