// Package sim is zk's deterministic simulation: whole ensembles of real zk
// peers (3 or 5 voters, maybe an observer; with Options.Hierarchical, 5 or 6
// voters under a hierarchical quorum of groups and weights drawn from the
// seed, some voter maybe of weight 0) in one world whose every step is
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
// everything is the seed's. A Sync+Get waits between its halves for its
// turn, which the world gives once everything else returned or parked
// (turn.go): its Get never races the rest of the step that answered the
// Sync, nor a crash the world carries out after that step. A Reattach
// waits for its turn between its sync round and its revalidation
// (hooks.BetweenRequests), and a call that queues a request for a peer
// outside its start and its turn fails the run: goroutine timing, not the
// seed, would have placed it. Among their good calls, clients send every
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
// Membership changes (Options.Reconfig, reconfig.go; TestSimReconfig, and
// -reconfig for TestSim) are one more class, drawn from their own random
// stream: spare servers join (started with the members and themselves),
// and an admin client adds them as participants or observers, removes
// members, promotes and demotes, replaces up to two participants at once,
// and sends changes that must be refused (with Options.OneVoter, peers as
// standaloneEnabled=false, it also shrinks the participants to one and
// replaces a lone participant by a joiner; a joiner left knowing no
// member is retired); a removed server keeps serving as
// a non-voting member, as ZooKeeper's does, and may be added back while it
// runs; otherwise it is retired after a while (never while the committed
// configuration lists it again, or a reconfig that may still commit adds
// it: an operator decommissions only a server that is out) and may come
// back later as a spare: every other one as a new server (its disk wiped), the others with
// their disk and zk.Config.Rejoin. A removed server that restarted (it then
// serves nothing) while a change that may still commit adds it back holds
// that change's vote, and nothing is elected (ZooKeeper stalls so too): the
// world plays the operator and restarts it with its disk and Rejoin after a
// while. Every check holds across the
// configurations (one committed history, one established leader per
// epoch), and each committed /zookeeper/config txn is matched to a reconfig
// call as writes are; at the end every running peer's ClusterConfig (what
// a leader computes the next change from) is the committed
// /zookeeper/config. TestBrokenBuildCommitNewConfigAlone shows the
// checks catch a build that commits under the new configuration alone
// (hooks.CommitNewConfigAlone): they see two histories.
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
// each session's writes committed in the order its client called them
// (across peers: a client that gives up on a write may move its session,
// and the write must not commit after the ones it sends next),
// writes and Sync-then-reads of the register keys are linearizable
// (internal/lincheck, one porcupine check per key; a timeout is a failure),
// every plain read equals the committed state at a zxid not older than what
// its session had seen, every watch fired exactly for the change it was
// owed and in zxid order, and no ephemeral outlives its session.
//
// Read-only mode (readonly.go) runs in one faulted seed in three (or as
// Options.ReadOnly says), with partitions enabled and a third of the
// clients allowing read-only service: a peer in read-only mode changes
// neither its tree nor its log; a read it serves returns a state the
// committed history had, no newer than the peer's applied zxid and no
// older than what the session had seen; its writes and Syncs fail with
// NOTREADONLY; after healing every peer serves normally and every local
// session still held has joined the ensemble (readonly_test.go makes
// these checks fail too).
//
// Local sessions (localsess.go) run in three seeds in eight of those
// without read-only mode (or as Options.LocalSessions and -local say, with
// read-only mode too where Options.ReadOnly and -readonly ask for it),
// half of them upgrading. Now and then a client detaches its local session
// and comes back later (localexpiry.go): the session expires by its own
// timeout on its peer, neither before nor long after, and nothing of it
// commits, nor does a Reattach of it succeed, once its handle expired.
// Further: a local session's open and close commit nothing; a
// Reattach of one not upgraded succeeds only on the peer incarnation that
// opened it while that peer kept serving, and its handle has expired
// once its peer served again after losing its leader; without upgrading
// its ephemeral creates fail (-120 alone or in a multi on the leader,
// SESSIONEXPIRED in a multi from a follower); with upgrading one that
// committed follows its session's CreateSession, and the handle of an
// upgraded session expires only once the ensemble closed it
// (localsess_test.go makes these checks fail too).
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
//	go test ./internal/sim -run 'TestSimReadOnly$' -v -args -ro.seeds=30 -seed=100
//	go test ./internal/sim -run 'TestSim$' -v -args -local=2 -seeds=60 -seed=60100
//	go test ./internal/sim -run 'TestSimReconfig$' -v -args -rc.seeds=40 -seed=1
//	go test ./internal/sim -run x -bench ReconfigTicks -benchtime 10x
//
// The second runs seeds 1000..1499 with 10 simulated minutes of faults
// each; the third replays seed 42 and prints its whole trace; the fourth
// measures failover (leader lost to a new established leader, in ticks)
// on seeds 1..1000 of each ensemble size and way of losing the leader and
// logs the distribution; the fifth runs 30 seeds with read-only mode on
// (about two minutes). A failing seed prints the command that replays it.
package sim
