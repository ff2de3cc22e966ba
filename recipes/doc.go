// Package recipes builds Apache Curator's coordination recipes on the
// public zk API: Mutex (InterProcessMutex), SemaphoreMutex
// (InterProcessSemaphoreMutex), RWMutex (InterProcessReadWriteLock),
// Semaphore (InterProcessSemaphoreV2), MultiLock (InterProcessMultiLock),
// LeaderLatch and LeaderSelector, with Curator's node names and semantics
// and three additions: a fencing token on every acquisition, a context that
// ends as soon as a hold may be lost, and introspection.
//
//	c, err := recipes.NewClient(sess)          // one per session
//	m, err := recipes.NewMutex(c, "/locks/report")
//	lease, err := m.Acquire(ctx)
//	...work under lease.Context(), fence writes with lease.Token()...
//	lease.Release(ctx)
//
// # Client, leases, errors
//
// A Client holds what the recipes on one session share, and follows the
// session's state on a channel of its own (Session.WatchStates, or the
// session's States if it has no WatchStates; use Client.Done and the
// leases' contexts). An acquisition returns a *Lease: Context is cancelled
// when the hold may be lost, with a cause (context.Cause, Lease.Err) that
// wraps ErrLockLost and the reason (zk.ErrConnectionLoss when the session
// was disconnected or not confirmed in time, zk.ErrSessionExpired,
// zk.ErrNoNode when the node was deleted, zk.ErrClosed), or ErrReleased;
// Token is the holder node's czxid. Release a lease also after a loss: it
// deletes the node if it is still there. Bad input (an invalid path, a
// semaphore of fewer than one lease, an Unlock without Lock) gets an error
// wrapping zk.ErrInvalidPath, zk.ErrBadArguments or ErrNotLocked and
// changes nothing. Every type is safe for concurrent use.
//
// A Mutex (and a SemaphoreMutex, and the write side of an RWMutex) shared
// by goroutines excludes them as sync.Mutex does: the natural port of a
// Curator program whose threads share one InterProcessMutex is correct.
// Curator ties re-entrancy to a thread; here it is explicit:
// Lease.Reenter takes a held Mutex or RWMutex side again.
//
// # How every recipe works
//
// Contenders queue as ephemeral sequential nodes under the recipe's path,
// created "protected" as Curator does: the name starts with a marker
// ("_c_<uuid>-"), so when the outcome of a create is unknown the node is
// looked for by its marker, after a barrier write that settles the
// session's earlier writes, instead of being created twice; a create
// abandoned with its outcome unknown is swept (its node deleted if it
// happened). A waiter watches only the one node in its way (no herd);
// after a first listing, a Mutex or latch waiter follows the chain of its
// predecessors with point reads, so a hand-off costs the holder's delete
// (one commit) and one watch event. Releases and withdrawals delete
// guaranteed: retried while the caller's context lasts, then in the
// background until done or until the session ends. Parents are created as
// containers, which the ensemble removes once empty. While the session's
// peer is not serving, waits are on the session's state, and while calls
// fail although it says connected, on a backoff (10ms doubling to 1s):
// nothing spins.
//
// # When a hold may be lost: the timing argument
//
// A lease's context must end before another holder can exist. What zk's
// session states give: a session goes "disconnected" when its peer stops
// serving: a follower whose leader was silent for SyncLimit TickTimes or
// whose link to it broke, a leader that lost its quorum. It goes "expired"
// only when its peer applies the expiry, which the leader has already
// committed: by then another holder may exist. The leader expires a session
// when it heard nothing from it for its timeout (ZooKeeper's tick buckets,
// rounded up); a follower touches its sessions every TickTime while it
// serves, and a new leader gives every session a full timeout from when it
// starts leading. So the states would suffice only if a peer always noticed
// the loss of its leader before the leader could expire its sessions:
// timeout > (SyncLimit + 1) TickTimes plus delays. That fails for short
// timeouts (the minimum is 2 TickTimes, SyncLimit is 5), for a link that
// loses what the peer sends while the peer still hears the leader (it keeps
// serving: the session says connected while the leader hears no touch),
// and for a paused process. The states end holds early; they cannot be the
// bound.
//
// The bound comes from the session's writes. The leader prepares every
// write of the session after the write was sent at local time t0, and
// preparing it touches the session: whichever leader expires it, not
// before t0 + timeout by its clock, and a node of another holder is created
// only after that expiry is committed. So a Client holds its leases valid
// until t0 + 2/3 timeout, t0 the sending time of the newest write the
// leader answered. While it holds or waits it renews t0 every third of the
// timeout with a write of its own (a check of one of its nodes: one
// commit), and a grant makes one first if the newest is older than a third:
// every hold starts with at least a third of the timeout to run. The
// remaining third is the margin, for the difference between this process's
// clock and the leader's and for the delay between the deadline and the
// context's cancellation: Err checks the session's state and the deadline
// synchronously (so code that polls it learns of a loss at once), Done is
// closed by a timer and by the Client's goroutine. The test
// TestLeaseLostBeforeNextHolder shows a silent link that the states miss
// and the deadline catches; internal/recipesim checks, at every grant, that
// no other holder's lease is still live, under crashes, partitions, silent
// links and pauses.
//
// No lease covers a process that stops (a GC pause, SIGSTOP) past its
// deadline: it resumes with a context that should be done, and its next
// Err reports the loss. Fence what the lock protects with Token: successive
// holders of an exclusive lock, admissions to a Semaphore and terms of
// leadership have strictly increasing tokens (a latch that keeps its node
// through a disconnection keeps its token: no one led meanwhile).
//
// # Caches, barriers, queues, counters, discovery
//
// The same Client carries Curator's other recipes:
//
//   - NewNodeCache, NewPathChildrenCache, NewTreeCache: a Cache of a node,
//     its children or its subtree, on a resumable recursive watch (see the
//     Cache type); a TreeCache holds what WithMaxDepth and WithSelector
//     (Curator's TreeCacheSelector) choose; WithCompressedData gunzips
//     the data as Curator's compressed caches (Compress and Decompress are
//     Curator's GzipCompressionProvider format); WithConnectionEvents
//     adds Curator's connection events (CacheSuspended, CacheReconnected,
//     CacheLost, and from a TreeCache CacheInitialized again once caught
//     up after CacheLost) to a TreeCache's or PathChildrenCache's node
//     events, in their order; a NodeCache tells node events only, as
//     Curator's. Namespace: a Session rooted at a path.
//   - DistributedBarrier (Set, Wait, Remove) and DistributedDoubleBarrier
//     (Enter and Leave with n members). The double barrier's latch records
//     the listing that released it, so a latch left by an earlier round
//     never lets a lone member through (Curator's does).
//   - DistributedQueue (FIFO), DistributedPriorityQueue and
//     DistributedDelayQueue: items are persistent sequential nodes put
//     with a protected create (never twice); Take claims an item with an
//     ephemeral node and no lock, and Ack deletes item and claim in one
//     transaction: an item whose Put returned nil is never lost, and none
//     is acknowledged twice; a claim lost with its session gives the item
//     back (at-least-once).
//   - SharedCount (a versioned int32 with listeners) and
//     DistributedAtomicLong (compare-and-set, add, optionally promoted to
//     a Mutex): each conditional write carries an ephemeral marker in the
//     same transaction, so a write whose reply was lost is known to have
//     happened or not: never reported failed when it happened, never made
//     twice.
//   - GroupMember and ServiceDiscovery (with ServiceCache): members and
//     instances as ephemeral nodes, Curator x-discovery's layout and JSON,
//     live views that converge to the tree.
//   - Client.CreateProtected and Client.DeleteGuaranteed: Curator's
//     withProtection() and guaranteed(), which every recipe uses.
//
// Every recipe comes out right when the leader changes in the middle of
// its operations (TestLeaderChangeMidOperation); TestQueueCounterFaults
// runs queue and counter workers on three peers cut off and healed at
// random, sessions expiring (flags -recipes.seeds, -recipes.steps for a
// campaign), and checks that no acknowledged item is lost or comes out
// twice and no increment is lost or counted twice. Each recipe but the
// caches (see WithReconnect) ends with its session: a new session needs
// new recipes.
//
// # Metrics
//
// NewClient(sess, WithRegisterer(reg)) makes the Client export Prometheus
// metrics on reg (nil, the default: nothing is measured, nothing is
// registered; there is no global registry), labelled by the recipe's kind
// (mutex, semaphore_mutex, semaphore, rwmutex_read, rwmutex_write,
// leader_latch, leader_selector; queue claims, barriers and a Semaphore's
// internal admission lock are not measured):
//
//	zk_recipes_acquisitions_total{kind}       locks and leases granted
//	zk_recipes_acquire_wait_seconds{kind}     histogram: asking (or joining an election) until granted
//	zk_recipes_holds{kind}                    holds live now (gauge)
//	zk_recipes_leases_lost_total{kind,reason} holds lost before their release
//	zk_recipes_leadership_gained_total{kind}  terms of leadership begun
//	zk_recipes_leadership_lost_total{kind}    terms ended (lost or given up)
//	zk_recipes_leader{kind}                   latches and selectors leading now (gauge)
//	zk_recipes_guaranteed_deletes_pending     deletes retried in the background (gauge)
//
// The reason of a loss is the lease's (Lease.Err): connection_loss,
// session_expired, node_deleted, closed (the Client or its session handle
// closed) or other. A session's expiry deletes its nodes, and a hold may
// see its node go before the session's state says expired: such a loss
// counts as node_deleted. A release is no loss, and releasing a lost lease
// counts nothing more. The gauges are read when scraped; an acquisition
// and its release add about 100ns and no allocation (BenchmarkMetricsHooks,
// against a lock cycle's milliseconds in BenchmarkMutex). The metrics carry no label that
// tells Clients apart: several Clients on one registry each need their own,
// prometheus.WrapRegistererWith(prometheus.Labels{"client": "a"}, reg),
// with the same label names for all (Prometheus keeps a name's labels for
// the registry's lifetime). NewClient fails with zk.ErrBadArguments if the
// names are registered already; Close unregisters them (a Client ended by
// its session keeps them until Close).
//
// # Limits
//
// A Client lives and dies with its session handle. If the handle's peer
// closes, the session may live on in the ensemble with the Client's nodes
// until it expires; re-attaching it elsewhere (Ensemble.Reattach) would
// keep nodes no Client knows: open a new session instead. Semaphore sizes
// are a convention all users of a path must share, as in Curator.
package recipes
