// Package zk is Apache ZooKeeper as an embeddable Go library.
//
// A host application calls NewEnsemble and its process becomes one peer of a
// replicated ensemble — or, with no Servers configured, a standalone
// ensemble of one, the embedded default. Sessions opened on the Ensemble
// read and write a tree of znodes with ZooKeeper's semantics: persistent,
// ephemeral, sequential, container and TTL nodes, the full Stat, versions
// for optimistic concurrency, ACLs, multi-op transactions, one-shot and
// persistent watches.
//
//	ens, err := zk.NewEnsemble(zk.Config{DataDir: "/var/lib/myapp/zk"})
//	...
//	defer ens.Close()
//	sess, err := ens.NewSession(ctx)
//	...
//	path, err := sess.Create(ctx, "/jobs/job-", data, zk.WithMode(zk.ModePersistentSequential))
//
// # Guarantees
//
// Writes go through the leader and commit at a quorum after being fsynced
// to the transaction log; a write that returned without error is never lost.
// Every peer applies committed writes in the same (zxid) order. A session's
// calls complete in the order it issued them, and it reads its own writes;
// reads are served by the local peer, and Sync makes the next read
// linearizable. A watch event reaches a session before that session can read
// the change that caused it, and events reach a session in zxid order.
//
// # Errors
//
// Errors wrap sentinels with ZooKeeper's names (ErrNoNode, ErrNodeExists,
// ErrBadVersion, ...): test them with errors.Is. A call whose context ends
// while its write is in flight returns ErrOutcomeUnknown (which also matches
// ErrConnectionLoss): the write may still commit.
//
// # Concurrency and ownership
//
// Ensemble and Session are safe for concurrent use. Slices passed in are not
// retained after a call returns, except data given to Create and Set, which
// the library may keep: do not modify it afterwards. Slices returned belong
// to the caller.
//
// # Durability
//
// The transaction log is the source of truth: a write is acknowledged only
// after its record is fsynced. The tree (in Pebble) is written without its
// own log and replayed from the transaction log after a crash. A failed
// fsync stops the peer (fail-stop): it serves nothing more and reports the
// error in Status and through Config.Listener.Failed.
package zk
