// Package zab is ZooKeeper's atomic broadcast (ZAB) as a pure, deterministic
// state machine, with Fast Leader Election (package election) in front of it.
//
// # Shape
//
// A Node takes inputs — Step (a peer's message), Tick (one tick of the
// driver's clock), LinkUp / LinkDown (the transport's view of a peer),
// Propose, Sync, SendApp, SnapshotSent — and gathers its outputs in a Ready:
// messages to send, durable operations, committed entries to apply,
// finished read barriers, inbound app messages and status changes. The
// driver executes a Ready completely, in the order of its fields (send
// Send; perform Persist, each op durable, in order; send SendAfterPersist;
// apply Apply; stream SendSnapshot then call SnapshotSent; hand out Synced
// and App; react to Status), then calls Advance. The Node starts no
// goroutines, reads no clock and does no I/O except reading the durable Log
// synchronously; its only randomness is Config.Rand. It is not safe for
// concurrent use: one goroutine owns it.
//
// A standalone zk is an ensemble of one voter running this same code: the
// election decides at once, discovery and sync are trivial, and NewNode's
// first Ready makes the new epoch durable, applies the whole log and serves.
// A proposal then commits in the Ready that persists it.
//
// Every quorum below is Config.Quorum's (package election's Quorum: a
// majority of the voters by default, or ZooKeeper's hierarchical and
// weighted quorums); a voter of weight 0 follows and acknowledges, but its
// acknowledgements never make a quorum and it is never elected.
//
// # Protocol
//
// zxid = epoch<<32 | counter. Discovery: each learner sends FOLLOWERINFO
// (OBSERVERINFO) with its accepted epoch; once a quorum of voters is in,
// the leader proposes e = max + 1 (LEADERINFO), after making e its own
// accepted epoch; a learner makes e durable before answering ACKEPOCH with
// its current epoch and last zxid. A learner never acks an epoch older than
// the one it accepted; a voter that arrives with such a promise after the
// epoch was chosen makes the leader step down, so that the next discovery
// proposes a newer epoch (ZooKeeper leaves that voter out until its leader
// changes). Synchronization: per learner the leader
// chooses DIFF (our log has its last zxid), TRUNC then DIFF (it has entries
// we do not) or SNAP (our log does not reach back to it); DIFF batches are
// at most MaxMsgBytes of entry data and paced by DIFFACKs (a window of 4);
// a snapshot goes in chunks the driver streams, paced by the learner's
// SNAPACKs (Ready.SnapAcks); then NEWLEADER. A learner queues every synced op for its log as it
// arrives, then its new current epoch, and acknowledges NEWLEADER only in
// SendAfterPersist of that Ready — one asserted code path. Once a quorum of
// voters acknowledged NEWLEADER (the leader counts itself once its current
// epoch is handed to the driver) the leader's whole history is committed:
// it serves and sends UPTODATE. Only entries the leader says are committed
// (NEWLEADER carries its commit point) are applied during sync.
//
// Broadcast: PROPOSAL (one entry each) -> ACK after the follower's fsync ->
// COMMIT once a quorum of voters has the entry durable. Acknowledgements are
// cumulative (an ACK of z covers everything up to z; a follower sends one per
// Ready), COMMIT carries the highest committed zxid, commits are in zxid
// order, many proposals are in flight. Observers get committed entries only
// (INFORM). Heartbeats: the leader pings every HeartbeatInterval ticks and
// learners answer; a learner silent for SyncLimit ticks (InitLimit before it
// is synced) is dropped, and a leader whose remaining voters are not a
// quorum steps down at its next tick; a follower whose leader is silent for
// SyncLimit ticks (InitLimit while syncing), whose link to it breaks, or
// whose leader says it no longer leads, goes LOOKING. Each wait of the
// leader's discovery and sync is bounded by InitLimit. When the counter of
// the epoch would reach 0xffffffff the leader steps down so that a new
// epoch starts.
//
// Leaving a role. An established leader that loses its quorum (a learner
// dropped, or silent for SyncLimit) steps down at once and does not serve
// again in that epoch. A follower whose leader announces a new election
// round goes LOOKING; a leader that steps down tells its observers too. A
// peer elected leader by others before it decided so itself keeps their
// FOLLOWERINFO and handles it once it leads. A learner that accepted a newer
// epoch than a leader proposes cannot join it (ZooKeeper's rule); it waits
// out InitLimit before looking again, so that retries are paced by ticks.
//
// Sync (a read barrier) goes through the leader: it answers once a quorum
// answered a heartbeat round started after the request, with its commit
// point; the peer hands out the SyncResult once it applied that far.
//
// App messages (SendApp) travel on the same FIFO stream as the protocol
// messages; zab does not look into them.
//
// # Membership changes
//
// A configuration (Membership: voters, observers, optional groups and
// weights) changes through the log, like ZooKeeper's reconfig: the leader's
// ProposeConfig appends an entry whose Data starts with a marker no other
// entry may start with (EncodeConfigEntry; Propose refuses such data), the
// membership, then the driver's opaque payload (its addresses, say). The
// configuration's version is its entry's zxid. Each peer tracks the
// committed configuration and at most one pending (proposed, not known to
// be committed): a leader proposes only when none is pending, so in any log
// every configuration entry but the last is committed. Every count — the
// election, discovery, NEWLEADER acks, commits, the leader's liveness,
// read barriers — uses the committed configuration's quorum AND, while
// there is one, the pending one's (ZooKeeper's rule; election.Joint); an
// entry before the pending configuration's commits with the old quorum
// alone. Once the configuration entry commits it alone governs.
//
// ProposeConfig refuses a change while one is pending
// (ErrReconfigInProgress), a membership that cannot be (ErrBadMembership),
// and one whose voters synced with the leader (itself included) are no
// quorum of it (ErrNewConfigNoQuorum): a new voter first joins as a learner.
// A leader accepts FOLLOWERINFO / OBSERVERINFO from a peer no configuration
// lists (a joiner, started with the current members and itself); it syncs
// and learns but counts nowhere until a configuration lists it, and voters
// answer its election notifications so that it finds the leader.
//
// Once committed: a peer the new configuration drops (and that was in the
// old one) becomes a non-voting follower (Status.RemovedBy), as ZooKeeper's
// removed server does — so does a learner synced by snapshot (which skips
// the entry) when NEWLEADER's newer configuration does not list it: a
// follower keeps its leader, an observer looks again and follows, and a
// leader keeps it as a learner that counts nowhere, as it keeps a joiner,
// until a configuration lists it again (the leader counts it synced for
// ProposeConfig) or the driver stops it. A peer that starts
// outside its configuration (restarted after its removal) stops
// (Status.Removed, ErrRemoved); it takes part again only when restarted
// with a configuration that lists it. A joiner's
// starting configuration is a guess: it is a member only once a
// configuration confirmed it (a committed entry, its first NEWLEADER, an
// election won; or it started with a history or ConfigVersion > 0, and
// Config.Joining does not say it restarts as a joiner), so the
// configuration entries of its first sync do not remove it. A leader that
// may no longer lead steps down (the new voters
// elect a leader, which a removed leader then follows); a learner whose role
// changed (promoted, demoted) or whose leader no longer votes looks for a
// leader again; a leader drops the learners whose role changed.
//
// A peer starts with the configuration in effect at Durable.Applied
// (Config.ConfigVersion; the driver keeps it with its state) and reads the
// configuration entries of its log past Applied. NEWLEADER carries the
// leader's committed configuration, which a learner adopts when it is newer
// than its own (after a snapshot its log may not show it) or of the same
// version with other members (a joiner's guess); adopting never removes a
// peer. A crash of the leader with a change pending leaves it committed
// (the new leader has the entry: establishing commits its whole history,
// with the joint quorum) or gone (it does not: followers truncate it), on
// every peer.
//
// Peers that missed a change must still find the ensemble. Notifications
// carry the sender's committed configuration version (Message.Committed):
// a looking peer follows a leader that announces a newer one (even one its
// configuration does not list; it also writes to the peers that announced
// a newer one, and an established leader whose configuration changed once
// tells the members that are not its learners that it leads), or the same
// one while it holds a change pending that the others never saw (its
// election would need that change's quorum); the sync brings it the
// leader's configuration and truncates what the leader lacks (while a
// leader gathers its epoch, the ack of a learner ahead of it does not count,
// and a learner refuses an epoch older than it accepted, so no committed
// entry is lost).
// A peer told that its pending configuration is another's committed one
// knows it is committed and takes it (looking, it starts a new round under
// it, as ZooKeeper restarts its election), but applies none of its entries
// until a leader syncs it (a peer without a leader applies nothing: in
// read-only mode it serves the tree it had). Notifications carry that
// version from every peer, a removed one included (a removed peer that
// stopped answers looking peers with an observer's notification, which no
// election counts), so that peers which did not hear the commit before a
// leader that removed itself stepped down need not its vote under the old
// configuration. A notification from a peer no configuration lists (a
// removed leader that looks again, a joiner) reaches no election: a voter,
// or a peer that follows a leader, answers it with its vote. A leader takes a
// learner in whichever role it asks for (its acknowledgements count only if
// the leader's configuration makes it a voter); the sync tells it its role.
//
// # Durability and crashes
//
// Everything the core needs after a crash is in the Persist ops: the log,
// and State (accepted and current epoch). After a crash the driver passes
// what survived to NewNode: the Log as it is, and Durable with the state
// machine's applied zxid. A restarted peer does not know which of its
// logged entries past Applied are committed until a leader tells it
// (a single voter is its own quorum: everything it logged commits).
// Apply never holds an entry that is not both committed and durable here
// once the Ready's Persist is done.
//
// # Ownership and errors
//
// Slices passed in (Propose's and SendApp's data, a Message's Entries and
// Data) belong to the core afterwards and must not be modified; slices in a
// Ready belong to the driver, but entry Data may be shared with the core's
// cache and with other peers' messages, so treat it as read-only. Step
// validates everything (Message.Validate, the sender, the epoch, the phase)
// and drops what is wrong with an error wrapping ErrBadMessage,
// ErrStaleEpoch, ErrUnknownPeer, ErrUnexpected or ErrProtocol; it never
// panics. The only panic is the internal assertion that a NEWLEADER ack never
// precedes the durable epoch — a bug, not an input.
package zab
