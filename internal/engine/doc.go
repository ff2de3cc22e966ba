// Package engine is the implementation of package zk (the module root),
// which re-exports its public API as aliases: Config, Ensemble, Session and
// the rest are documented there. Keeping the code here lets the module's top
// level hold only the folders the project names, and lets zk's own tests
// reach a peer's internals without widening the public API.
//
// What lives here: the peer loop that drives the ZAB core (one goroutine
// owns all protocol state), the leader's request pipeline (speculative Apply
// on a znode.Pending overlay), the apply loop with watch delivery, sessions,
// ACL checks, snapshots and their paced transfer to learners, zoo.cfg
// parsing, and the clock. Nothing outside the module's root package and its
// test harnesses (internal/sim, internal/proctest) imports it.
//
// # Request limits
//
// Every request is measured as ZooKeeper's client serializes it (jute: the
// request header and record; a multi as a whole) and refused over
// Config.JuteMaxBuffer (ZooKeeper's jute.maxbuffer, 1 MiB - 1 by default,
// at most MaxJuteMaxBuffer) with ErrRequestTooLarge, which also matches
// ErrBadArguments; paths are limited to MaxPathLength. The session checks
// before anything is queued, and the leader checks every client txn again,
// against its own limit, before it prepares it (a follower configured with
// a larger limit cannot bypass it), and bounds the expansion of "auth" ACL
// entries before building it. A refused request is answered at once and
// proposes nothing. reqsize.go shows why an accepted request always fits one
// ZAB proposal, one log record and one transport frame.
//
// The pipeline stages each txn on the znode.Pending overlay and keeps it
// only once the ZAB core took its proposal: a proposal the core refuses
// drops its own effects and never the pending view of the txns before it
// (issue 9: it used to reset the whole view, the next txns were prepared
// against a stale tree, and every peer stopped on a digest mismatch).
//
// # Digest mismatches
//
// Each entry carries the tree digest its leader predicted; a peer whose
// apply computes another stops, but first records the mismatch (entry,
// txn, both digests) in DataDir/digest-mismatches, and a restart tolerates
// the mispredicted entries of that epoch: the log is the truth and Apply
// is deterministic, so the digest is only a prediction. digest.go states
// the rule and why it still stops a peer that really diverged.
package engine
