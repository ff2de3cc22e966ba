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
//
// # Read-only mode
//
// With Config.ReadOnlyMode (zoo.cfg readonlymode.enabled, off by default as
// in ZooKeeper), a peer whose ZAB core has been LOOKING for ZooKeeper's
// grace period, max(2s, TickTime), serves read-only (readonly.go): its
// Status().Mode is ModeReadOnly; the sessions attached to it that allow it
// (WithReadOnly, the connect's readOnly flag on the client port) move to
// StateConnectedReadOnly and read its tree; their writes, Syncs and the
// Close of a session of the ensemble fail with ErrNotReadOnly (ZooKeeper's
// NOTREADONLY); other sessions stay StateDisconnected. The mode ends as soon
// as the core leaves LOOKING, before anything of the Ready that starts the
// sync with a new leader is persisted or applied (peer.roGuard, first thing
// of every Ready), because that sync may install a snapshot over the tree;
// ZooKeeper too stops its read-only server when its election ends. Those
// sessions are then StateDisconnected until the peer serves again.
//
// What a read-only read returns. The tree holds only committed entries, and
// a read holds the apply lock's read side, so it returns the state the
// ensemble committed at exactly the peer's applied zxid, never newer; no
// entry is applied while LOOKING. It is never older than what its session
// has seen: a session records the newest zxid it saw (the tree its reads
// read, its writes, a wire client's lastZxidSeen) and a read of an older
// tree fails with ErrNotServing; a wire connect whose lastZxidSeen is ahead
// of the tree is refused. A peer without a leader proposes, logs and
// applies nothing, so nothing is written, and no session is created or
// expired in the ensemble by it.
//
// Sessions made read-only. ZooKeeper's read-only server gives a new session
// a local id (only with localSessionsEnabled; without, it refuses it), and
// the Java client, not having seen a read-write server yet, later connects
// to one with session id 0: a new session with a new id. A zk session is a
// handle its host holds, so zk keeps the handle and the id: NewSession with
// WithReadOnly on a peer in read-only mode returns at once a local session,
// whose id and password come from this peer's generator (the id's high
// byte is this peer's id: no other peer hands it out) and of which nothing
// is proposed, in StateConnectedReadOnly. When the peer serves again it
// proposes the session's CreateSession with that id and password
// (roUpgrade, tried again at later ticks until it commits; a CreateSession
// of an existing session changes nothing) and the handle moves to
// StateConnected once it is committed, as ZooKeeper upgrades a local
// session to a global one under the same id; until then its calls fail
// with ErrNotServing. Closing a local session ends it here. On the client
// port ZooKeeper's rules hold: a peer in read-only mode refuses a connect
// that is not readOnly or that renews a session (ZooKeeper 3.8 refuses to
// renew a global session there), and a connection whose session leaves the
// state its connect announced is closed, as ZooKeeper closes every
// connection when its read-only server starts or stops; clients reconnect
// (kazoo and the Java client look for a read-write peer with isro), and a
// client port session made read-only never joins: it expires when the peer
// serves again (roUpgrade), as ZooKeeper's read-only server takes its
// sessions with it, so a client that renews its id finds it expired (the
// Java and C clients ask for a new session instead: they send id 0 until
// they have seen a read-write server, ClientCnxn's seenRwServerBefore).
//
// Differences from ZooKeeper: a session attached here when the quorum is
// lost keeps its handle, and if it allows it is served read-only
// (ZooKeeper's client reconnects and the read-only server refuses to renew
// its session); the cut-off peer cannot keep it alive, so the ensemble may
// expire it meanwhile, and it learns so when the quorum is back
// (StateExpired). Local sessions need no localSessionsEnabled.
//
// # Local sessions
//
// With Config.LocalSessions (zoo.cfg localSessionsEnabled; a standalone
// peer ignores it, as ZooKeeper's does) a session opened here is this
// peer's alone (localsess.go), as ZooKeeper's local sessions: nothing is
// proposed to open or to close it; its id is from this peer's generator
// (the high byte names the peer). The peer keeps it in a table of its own
// with its own session tracker, made when the peer starts serving: each
// session tick touches the local sessions attached here (a client port
// session only while its client is heard) and expires those whose time is
// up, here, proposing nothing. Reattach on this peer revalidates it (a
// client reconnecting to its server); on any other peer the tree does not
// hold it, so it has expired. When the peer stops serving its table goes,
// as ZooKeeper's server drops its tracker with its leader: the local
// sessions attached here are disconnected, then expired when the peer
// serves again; the others expire at once.
//
// Its reads and watches are any session's. Its writes go to the leader as
// any write; the leader, whose tracker does not know the session, takes
// it as ZooKeeper's LeaderSessionTracker.checkSession does: a session of
// another peer, or a local session of its own, passes without an owner
// check. An ephemeral create (a create with an ephemeral mode, or a multi
// with one; not a container or TTL create), as ZooKeeper's
// checkUpgradeSession: with Config.LocalSessionsUpgrading, the session
// submits its CreateSession (same id and password) right before the
// write, in its order, and once that committed the session is one of the
// ensemble (touched through the leader, and free to move); without, a
// lone create fails at once with ErrEphemeralOnLocalSession (-120), a
// multi on the leader fails at that op with it, and a multi on a follower
// goes to the leader, which fails that op with ErrSessionExpired (it
// needs a session of the ensemble: checkGlobalSession), both as ZooKeeper
// answers them. An upgrade whose outcome the session did not learn (ctx
// ended, the leader was lost) leaves it no longer local, as ZooKeeper's
// upgradeSession: its Close proposes a CloseSession. Its peer, serving
// again, may not find it in its tree while that CreateSession is still in
// the leader's pipeline (the peer synced again with the same leader, in
// the same epoch), so it does not expire the handle there: it closes the
// session through the leader (localsess_unsure.go, tried again at later
// ticks until it commits), the handle expires when that close applies,
// and its calls fail with ErrNotServing until then. ExpireSession of a
// local session commits a CloseSession (ending it on its peer, attached
// or not); a leader that committed one refuses a later CreateSession of
// that id (an upgrade on its way meanwhile) with ErrSessionExpired, and
// the ephemeral create behind it fails as well. ZooKeeper has no such
// race: only its own server ends a local session, and it takes the
// session out of its local tracker before the upgrade leaves. The
// leader's memory of those closes is its own and goes with its
// leadership, which is enough: an upgrade is proposed only in the period
// of serving its local session was opened in (the table goes when the
// peer stops serving), under one leader's epoch, and a leader runs only
// the forwards of its own epoch (owner.go), so the close of a session
// that leader may upgrade was committed after the session was opened,
// hence by that leader. A session opened in read-only mode joins later,
// under a leader that may not have committed its close: its peer applies
// what it missed before it proposes the join, so the close (in the log)
// ends the session first, and a leader also remembers the closes of
// unknown sessions with Config.ReadOnlyMode.
//
// # Dynamic reconfiguration
//
// Ensemble.Reconfig (reconfig.go) is ZooKeeper's reconfig, with
// Config.ReconfigEnabled (zoo.cfg reconfigEnabled; off: ErrReconfigDisabled).
// The leader builds the new configuration from the committed one (or takes
// a whole member list), prepares a setData of /zookeeper/config with its
// text (ZooKeeper's server.N=host:port:port:role;client lines and
// version=<hex>, the version being the entry's zxid) and proposes it
// inside the core's configuration entry (zab.ProposeConfig), so that the
// change is ordered, replicated and applied like any write and every peer's
// /zookeeper/config and its Stat show it. A follower forwards the request.
// zab refuses a change while one is pending and a new configuration of
// which no quorum is synced (ErrReconfigInProgress, ErrNewConfigNoQuorum);
// the leader refuses one until it applied the committed configuration
// (ErrReconfigInProgress): the change is computed from what it applied.
// Once applied, a peer publishes the configuration (ClusterConfig), rewrites
// Config.DynamicConfigFile and teaches its TCP transport the new servers'
// addresses; so does a peer that installs a leader's snapshot (the
// snapshot's /zookeeper/config: the sync skipped the entries that made
// it); a restarted peer takes its membership from its own tree
// (/zookeeper/config) when a reconfig was applied there. A removed peer
// keeps following and serving as a non-voting member, counted in no quorum
// (Status.RemovedBy), as ZooKeeper's removed server does, until a reconfig
// adds it back (the leader counts it synced) or it stops. Restarted while
// removed, it serves nothing: its Status says Removed and calls fail with
// ErrNotServing naming the removal (a mark in DataDir, rejoin.go).
// A new server is started with the current members and
// itself; it joins as a learner that counts nowhere until a reconfig adds
// it, and restarted before that it joins again the same way. Over TCP the
// members admit it before any configuration lists it (the transport's
// AcceptStrangers, on with ReconfigEnabled), so a change whose new quorum
// needs the new servers' acks commits once they are synced. A removed
// server comes back either restarted with Config.Rejoin (it keeps its
// DataDir and joins as a new server does) or with an empty DataDir.
// With or without ReconfigEnabled, a leader that finds /zookeeper/config
// never written proposes the static configuration, unchanged, the way a reconfig proposes one, versioned by
// its zxid (ZooKeeper's initConfigInZKDatabase, versioned by the first
// NEWLEADER zxid): a txn, so that every peer holds the same bytes at the
// same zxid through restarts and snapshots, and Status.ConfigVersion is
// ClusterConfig's version from the first leader on. A standalone peer
// leaves it empty, as ZooKeeper's standalone server.
package engine
