// Package sim is zk's deterministic simulation: whole ensembles of real zk
// peers (3 or 5 voters, maybe an observer) in one world whose every step is
// chosen by a seeded random generator, under faults, with checks at every
// step and at the end. It is a test package in all but name: nothing
// outside zk's tests imports it.
//
// # The world
//
// Each peer is a real *zk.Ensemble in stepped mode (internal/hooks): it
// handles transport events and client requests only inside the Barrier and
// Tick calls the world makes, and takes snapshots inline. Its disk is a
// MemFS, an in-memory vfs.FS that knows which bytes are synced: a crash
// keeps only those (or a seeded part of the unsynced ones), and a hook sees
// every file operation to fail it, tear it, stall it or crash there. The
// network is zab/transport's manual in-memory network: a frame moves only
// when the world delivers it. The clock is simulated; one world tick is a
// tenth of TickTime. Clients are real *zk.Session calls on goroutines; the
// world waits for each to either return or be queued in its peer before it
// goes on, and keeps at most one call per session in flight, so the order of
// everything is the seed's. Among their good calls, clients send every
// kind of bad request a user can make (badinput.go: oversized data, paths,
// multis, ACL lists and credentials, issue 9's 5 MB path and multi of five
// 1 MiB creates among them; malformed paths; unknown create modes; bad
// TTLs, ACLs and versions; an empty multi; calls on closed or expired
// sessions; a nil or cancelled ctx): each must get its clear error, and
// nothing it sent may commit but as a failed no-op.
//
// A run (Run) has three phases: faults with the client workload; healing,
// after which a leader must serve and a new session's write commit within
// healBound ticks; and a quiet phase longer than any session timeout, so
// that sessions nobody holds expire. The same seed gives the same trace
// bit for bit (Result.Hash; TestDeterminism runs a seed twice).
//
// # Faults
//
// Each seed enables a random subset of the fault classes (about half each)
// with its own rate: crash and restart losing unsynced bytes; a crash at a
// named persistence point (before/after log append, after fsync before an
// ACK, before the NEWLEADER ack, around acceptedEpoch and currentEpoch,
// during snapshot commit and SNAP install, between apply and watch fire,
// before an expiry proposal); disk faults (EIO on fsync, write, rename or
// directory sync, a full disk, a torn write, a crash inside a file
// operation, a slow fsync); full, partial and one-way partitions and a
// leader cut from its followers but not its clients; broken connections;
// delayed links; paused processes (longer than a session timeout); slow
// clocks.
//
// # Checks
//
// While it runs: every txn a peer applies extends one committed history,
// kept by a reference tree that applies each committed entry once (no gaps,
// no second history, equal digest at equal zxid); at most one established
// leader per epoch; after a crash a peer still holds everything it
// acknowledged as durable (unless a leader truncated it since) and its
// current epoch is not above its accepted one; a peer that hit a disk
// error stops in the same step and sends nothing after it; sequence
// numbers are unique and increasing per parent. At the end: every live
// peer converged to the committed history, its log holds exactly the
// committed entries, every acknowledged write is in the history, calls whose
// outcome the client never learned are resolved from the committed log,
// writes and Sync-then-reads of the register keys are linearizable
// (internal/lincheck, one porcupine check per key; a timeout is a failure),
// every plain read equals the committed state at a zxid not older than what
// its session had seen, every watch fired exactly for the change it was
// owed and in zxid order, and no ephemeral outlives its session.
//
// Each check has a test that makes it fail (checks_test.go): a Sabotage
// breaks, on purpose, what the code relies on (a disk that lies about
// fsync, a proposal altered on its way, a dropped TRUNC or CloseSession)
// and the check must catch it. The regression tests (regress_test.go) do
// the same for each known ZooKeeper sync-phase bug class. Crash consistency
// of the log and the tree (crashfs_test.go) and fail-stop at every call
// site of a write, fsync, rename or directory sync (failstop_test.go) are
// tested here too.
//
// # Running seeds
//
//	go test ./internal/sim                                  # the fixed CI seeds
//	go test ./internal/sim -run 'TestSim$' -args -seeds=500 -seed=1000 -duration=10m
//	go test ./internal/sim -run 'TestSim$' -v -args -seed=42 -trace
//	go test ./internal/sim -run 'TestFailover$' -v -args -failover.seeds=1000
//
// The second runs seeds 1000..1499 with 10 simulated minutes of faults
// each; the third replays seed 42 and prints its whole trace; the fourth
// measures failover (leader lost to a new established leader, in ticks)
// on seeds 1..1000 of each ensemble size and way of losing the leader and
// logs the distribution. A failing seed prints the command that replays
// it.
package sim
