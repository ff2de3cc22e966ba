// Package wire serves ZooKeeper's client protocol on a peer's client port,
// so that ZooKeeper's own clients (zkCli.sh, kazoo, Curator, go-zookeeper)
// work against a zk peer.
//
// # Sessions
//
// A remote session is an engine Session: the connect request makes one with
// Ensemble.NewSession or re-attaches one with Ensemble.Reattach, and every
// request calls the same Session methods the in-process API calls. The wire
// layer never touches the tree or the protocol itself. Every packet of the
// client (a request, a ping) keeps its session alive (RemoteSession.Heard), as
// ZooKeeper's server touches a session on each: a client silent for its
// session timeout loses its session then, whether or not its connection is
// still open. When a connection drops without a closeSession, its session is
// detached from this peer and expires unless the client re-attaches it (here
// or on another peer). A peer that does not serve (it elects, syncs with a
// leader, lost its quorum, or restarted after a reconfig removed it) closes a
// connect, as ZooKeeper's server does while it is not running
// ("ZooKeeperServer not running"): the client tries another peer or this one
// again, and the session, if it had one, is not touched; read-only mode's
// exception is below (the in-process NewSession waits instead). Unlike
// ZooKeeper's, a peer that stopped serving less than a TickTime ago (and a
// third of the client's requested timeout) first holds the connect, and
// answers it if it serves again meanwhile: an election ends well within that
// on a quick network, so a client that reconnects during one is answered
// rather than refused by every server. A peer restarted after its removal
// refuses at once, and so does a leader with Config.NoLeaderServes
// (leaderServes=no), which also closes the connections it held when it
// became leader, as ZooKeeper's leader serves no client then; its
// four-letter words but ruok, envi, gtmk and stmk answer as a peer that
// does not serve. A connect whose lastZxidSeen is ahead of this peer's tree
// first waits for a sync round; if the peer is still behind, the connection is
// refused (closed), as ZooKeeper refuses a client that saw newer state.
//
// # Read-only mode
//
// A connect's readOnly flag is ZooKeeper's canBeReadOnly: the session is
// opened with engine.WithReadOnly. A peer in read-only mode (the engine's
// Config.ReadOnlyMode) accepts only new read-only sessions, as ZooKeeper's
// read-only server (a connect without the flag, or renewing a session, is
// closed), and says readOnly in its connect response; writes and sync get
// NOTREADONLY. Each connection lives in the session state its response
// announced (connected, or connected read-only): the monitor closes it when
// the session leaves that state, as ZooKeeper closes every connection when
// its read-only server starts or stops, and the client reconnects. A
// session made read-only expires when the peer serves again (the engine's
// roUpgrade), as ZooKeeper's read-only server's sessions go with it. isro
// answers "ro" in read-only mode, "rw" while serving and "null" otherwise.
//
// # Order and pipelining
//
// A client may send many requests before it reads a reply, and ZooKeeper
// runs a connection's requests in order without waiting for each one; so
// does a connection here (pipe.go). Its reader goroutine reads requests in
// arrival order and starts each write (create, delete, setData, setACL,
// multi) at once through the engine's pipelined entry point
// (RemoteSession.Start*, which issues it in the session's FIFO order and
// proposes it without waiting for the writes before it). Every other
// request (reads, sync, check, auth, watches, ping, close) runs in order,
// once every request before it was answered, and the writes read after it
// start only once it ran: a read sees exactly the writes sent before it.
// The requests not answered yet wait in the connection's queue; a
// completer goroutine, which runs only while the queue is not empty,
// answers its head in xid order. A read that arrives with the queue empty
// runs on the reader itself.
//
// The reader takes whatever the socket holds in one read (up to 16 KiB, from
// a pool, held only while it has bytes not used yet: it waits for a
// readable socket without one), so a request of a few KiB takes one read
// and a burst of pipelined requests few.
//
// Replies and watch events are encoded back to back into one outgoing
// buffer, sent with one write per batch: the reader sends before it waits
// for the socket (unless the next request is already buffered), the
// completer before it waits for a write's outcome, and a writer goroutine,
// started only when none runs, sends the events the apply loop queues. An
// idle connection holds one goroutine (its reader, with a small stack: the
// handshake runs on a goroutine of its own) and no buffer, about 5 KB in
// all (go test -run ManyIdle -v).
//
// Events and replies leave in ZooKeeper's order. Every reply has a
// position, the zxid of the state it reflects (a write's own zxid, the
// state a read saw); an event leaves before every reply whose position is
// at or past its zxid and after the others. An event that fires while
// writes of the connection are in flight, or after a read registered a
// watch and before its reply, is held until the reply it must follow: a
// client learns of its watch from the read's reply, so an event before it
// would reach no watcher.
//
// One monitor goroutine per server closes the connections whose session
// expired or was closed, or whose peer stopped serving, as a ZooKeeper
// server closes them. A closeSession is answered, then the connection
// waits (at most a second) for the client to close its end first.
//
// # Connection I/O
//
// Config.ClientIO chooses how connections do their socket I/O, as
// ZooKeeper's serverCnxnFactory chooses NIO or Netty. What this page says
// of "the reader" is one of two things:
//
//   - io_uring (the default where the kernel allows it: Linux 5.12 or
//     later, not refused by a seccomp filter or io_uring_disabled): after
//     its handshake, which still runs on a goroutine of its own, a
//     connection's socket belongs to the server's ring (ring_linux.go). One
//     goroutine, on one locked thread, owns the ring. It receives every
//     connection's requests into a 2 KiB buffer of its own (a frame longer
//     than that gets a buffer its size), plays the reader's part for each
//     (handle: reads run on the spot, writes start), and sends each
//     connection's outbox. Each io_uring_enter submits every send and
//     receive queued since the last one and collects what completed, so a
//     burst of replies to many clients costs one system call instead of a
//     read and a write each.
//     The ring is also each connection's completer while nothing has to
//     wait (drive): it answers a write once the engine wakes it with the
//     write's reply (engine.Pending.Notify: the apply loop posts the
//     connection to the ring), then the calls queued behind it, so a
//     write costs no goroutine. It runs no call that may wait (sync,
//     closeSession, auth, setWatches, check, reconfig, a write this peer
//     has not applied yet): that one gets a completer goroutine, which
//     answers the queue until it is empty. Nor does it wait to start a
//     write: when the peer loop's queue is full (a stalled disk), the write
//     is deferred to a completer and holds back the writes behind it, so
//     the other connections are still served. (A read on the ring takes the
//     apply lock's read side, which the apply loop holds for the apply of
//     one group of commits.) The completers, the apply loop (events,
//     replies) and the monitor reach the ring through a flag on the
//     connection and, when the ring sleeps, one write to its eventfd.
//     Throttling stops a connection's receives until pop posts that it has
//     room; the read, write and linger deadlines are checked by the ring
//     every 100 ms. An idle connection holds its buffer and no goroutine,
//     about 5 KB in all.
//   - goroutines (where io_uring is refused, or Config.ClientIO asks for
//     them): each connection has its reader goroutine, which reads with
//     Go's net package (the description above), and a completer goroutine
//     while calls are queued.
//
// Both give the same replies in the same order; the package's tests run
// in either (-wire.io), and the four-letter word conf says which one runs
// (zk.clientIO=).
//
// # TLS and client identities
//
// Config.SecureClientPort serves the same protocol over TLS (ZooKeeper's
// secureClientPort), with Config.ClientTLS; its connections are always
// read by a goroutine each (the ring reads plain sockets only), and their
// close sends no close_notify (tls.go). With Config.ClientPortUnification
// (ZooKeeper's client.portUnification) the plain port serves TLS too: a
// goroutine waits for each new connection's first byte and takes a TLS
// handshake record for TLS, anything else for plain text (unify.go). A
// client certificate that verified
// against ClientTLS.ClientCAs names the client {"x509", subject DN} on that
// connection, the DN as Java's X500Principal.getName() writes it (dn.go),
// as ZooKeeper's X509AuthenticationProvider does; a SASL
// DIGEST-MD5 exchange (op sasl, against Config.SASLUsers; sasl.go) names it
// {"sasl", user}. Both are added to the session for its connection only,
// as addauth's digest identities are. With Config.EnforceAuthSchemes
// (ZooKeeper's enforce.auth.enabled) a connection without an identity of
// those schemes gets SESSIONCLOSEDREQUIRESASLAUTH for any request but auth
// and sasl, checked when the request runs (after the auth packets before
// it), and is closed.
//
// # Watches
//
// Each connection keeps ZooKeeper's per-session watch table: one
// registration per path and kind (data, exist, child, persistent,
// persistent recursive), however many times a client sets it, and one event
// per change, path and type even when several of its registrations fire
// (a data and a child watch on a deleted node give one NodeDeleted, as
// ZooKeeper's server sends it once per connection).
//
// # Reconfig
//
// ZooKeeper's reconfig request (joiningServers, leavingServers, newMembers,
// curConfigId) runs Ensemble.Reconfig on the serving peer, which forwards
// it to the leader; the reply is ZooKeeper's, a GetDataResponse with the
// new configuration's text and /zookeeper/config's Stat, and watches on
// /zookeeper/config fire as on any setData. The server strings are
// ZooKeeper's (engine.ParseReconfig). Refusals, in the order checked:
// RECONFIGDISABLED (the peer's reconfigEnabled is off), UNIMPLEMENTED (a
// standalone peer, as ZooKeeper's standalone server), BADVERSION (a
// curConfigId other than -1 that is not the configuration's version, after
// a sync round if this peer's differs; curConfigId 0 too: the first leader
// versions the static configuration, as ZooKeeper), BADARGUMENTS (a
// malformed string, a newMembers that lists nobody), NOAUTH (the session
// may not WRITE /zookeeper/config, whose ACL is world:anyone READ: only the
// super user, as in ZooKeeper, unless the super user changed that ACL),
// then the leader's RECONFIGINPROGRESS, BADVERSION (again: a reconfig that
// committed meanwhile), BADARGUMENTS (fewer than 2 participants in the new
// configuration: ZooKeeper's "at least 2 followers", its rule with its
// default standaloneEnabled; with standaloneEnabled=false, no participant;
// an incremental change of a hierarchical quorum) and NEWCONFIGNOQUORUM.
// As in ZooKeeper, leaving ids that are not members are ignored, and a
// change with nothing to add or remove commits the same servers under a
// new version. What stays different, deliberately:
//   - ZooKeeper checks the ACL last, at the leader, with the session's
//     identities; zk checks it on the serving peer before forwarding, so a
//     client that may not reconfig learns nothing more of the ensemble's
//     state (a change in progress, a quorum) than /zookeeper/config, which
//     anyone may read, tells it, and no identities travel with the
//     forwarded request. Only a client without WRITE on /zookeeper/config
//     sees the difference (NOAUTH where ZooKeeper says
//     RECONFIGINPROGRESS or NEWCONFIGNOQUORUM).
//   - ZooKeeper's leader refuses a change in progress first; zk's serving
//     peer checks the version, the strings and the ACL before the leader
//     sees the request, so while a change is in progress a stale
//     curConfigId is BADVERSION and a malformed string BADARGUMENTS
//     (ZooKeeper: RECONFIGINPROGRESS); a server id
//     that is not a number is BADARGUMENTS (ZooKeeper: MARSHALLINGERROR,
//     from an uncaught NumberFormatException).
//   - /zookeeper/config's Stat: ZooKeeper writes it with dataVersion -1
//     and, for the static configuration, mzxid = the first NEWLEADER zxid
//     (epoch<<32) outside any txn; zk writes it with ordinary setData txns
//     (dataVersion 1 for the static configuration, +1 each reconfig;
//     mzxid = version = the txn's zxid), so that every peer holds the same
//     bytes and Stat through restarts and snapshots.
//   - A Servers list of one voter runs a quorum of one (ZooKeeper's
//     standaloneEnabled=false), which reconfig may grow; a reconfig may
//     shrink a configuration to one voter only with standaloneEnabled=false
//     (Config.StandaloneDisabled), as in ZooKeeper. zoo.cfg with one server
//     line and neither standaloneEnabled=false nor reconfigEnabled=true runs
//     standalone, as ZooKeeper's, if that line is its own: a server whose
//     (dynamic) configuration lists another one alone, because a reconfig
//     removed it, is refused rather than run standalone on its old data
//     (ZooKeeper runs it standalone).
//
// # Limits
//
// A frame longer than Config.JuteMaxBuffer (ZooKeeper's jute.maxbuffer,
// 0xfffff by default) closes the connection before its body is read or
// allocated; so does a frame whose request header, auth or SASL packet does
// not decode, an unknown op code (answered UNIMPLEMENTED), a failed SASL
// exchange or a SASL request to a peer
// without Config.SASLUsers (AUTHFAILED, as ZooKeeper answers a failed
// SASL authentication; sasl.go), a request of a connection without an
// identity Config.EnforceAuthSchemes requires (SESSIONCLOSEDREQUIRESASLAUTH),
// a request before the connect,
// and a client that sends nothing for its session timeout. Any other
// request whose body does not decode (a length past the frame or negative;
// a vector count below -1 reads as empty, as in ZooKeeper; bytes after the
// body are ignored) is answered MARSHALLINGERROR in its turn, and the
// connection stays, as ZooKeeper answers it; no length read from a frame
// allocates more than the frame holds.
// MaxClientCnxns bounds the connections of one client address to each
// port (plain and secure), and MaxCnxns all the connections of each port,
// as ZooKeeper's factories each count theirs.
//
// Outstanding requests are throttled as ZooKeeper throttles them: a
// connection stops reading its socket while it has MaxOutstanding requests
// or MaxOutstandingBytes of request frames not answered yet, or while the
// server has Config.GlobalOutstandingLimit (ZooKeeper's
// globalOutstandingLimit; default GlobalOutstandingLimit, divided as
// ZooKeeper divides it on a voter) and the connection has some of them;
// TCP then slows the client. So the memory
// a connection holds is bounded: its unanswered requests, and its outgoing
// buffer, which a client that does not read lets grow only to MaxQueuedBytes
// (besides the batch being written, one reply larger than that and the frame
// queued last) before its connection is closed; a reply larger than
// MaxQueuedBytes goes to a client that reads it, as ZooKeeper's does, but
// not two queued at once. A client that does not read stalls
// only its own connection, and a write stalled for its session timeout
// closes it. The apply loop never waits for a client: it only appends events
// to buffers.
//
// # Errors
//
// Engine errors reach the client as ZooKeeper's codes. zk's own errors,
// which ZooKeeper's clients do not know, become the code ZooKeeper uses
// for the same situation (the table closest in convert.go):
//
//	ErrInvalidPath     BADARGUMENTS (ZooKeeper's server answers a bad path so)
//	ErrDataTooLarge    BADARGUMENTS (a clear refusal rather than jute.maxbuffer's
//	                   connection loss, which a client would retry forever)
//	ErrTooManyWatches  QUOTAEXCEEDED (a resource limit, refused before anything changed)
//	ErrWatchOverflow   SYSTEMERROR (never on the wire: a connection's events
//	                   queue on its socket)
//
// ErrNotServing, ErrOutcomeUnknown and ErrClosed (the peer cannot answer, or
// a write's outcome is unknown) close the connection without an answer, as
// a ZooKeeper server that stops serving does: the client sees a connection
// loss and reconnects, elsewhere if it must. So does ErrSessionMoved (the
// session was re-attached on another peer), as ZooKeeper closes such a
// connection. ErrSessionExpired is answered, then the connection closes.
//
// # Lifetime
//
// Start binds the listener; Serve runs until its stop channel closes, then
// closes the listener and every connection and returns once every goroutine
// it started is gone. NewEnsemble starts an Ensemble with the client port
// served by a goroutine the Ensemble owns, so Ensemble.Close stops it.
//
// # Four-letter words
//
// A connection whose first four bytes are a four-letter word (ruok, srvr,
// stat, mntr, conf, cons, envi, isro, wchs, wchc, wchp, crst, srst, dirs,
// dump, hash, gtmk, stmk) gets its text answer and is closed; words outside Config.FourLetterWords
// (ZooKeeper's 4lw.commands.whitelist; srvr is always allowed) get
// ZooKeeper's refusal. With Config.Registerer, mntr adds every metric of the
// peer as ZooKeeper's Prometheus provider dumps them
// (zk_fsynctime{quantile="0.5"}, ...).
//
// The words' statistics are kept here whatever the metrics configuration,
// as ZooKeeper 3.8 keeps them (stats.go): every request answered (pings,
// the connect and closeSession too; not auth packets) counts its latency
// in whole milliseconds, from the millisecond its frame was read to the one
// its reply was queued, in the server's min/avg/max (srvr, mntr; srst
// resets them with the packet counts) and in its connection's record
// (cons: the last op as ZooKeeper names it, NA for a write that failed, the
// last cxid and zxid; crst resets it). Watches are counted as ZooKeeper's
// two tables hold them, (session, path) pairs: wchs, wchc and wchp show the
// data table, mntr's zk_watch_count both. dump (dump.go) reads the session
// tracker's expiry buckets on the peer loop (a follower or observer lists
// the ensemble's sessions instead, as ZooKeeper's learners do), the
// ephemeral nodes by session from the tree, and buckets the connections by
// when ZooKeeper's NIO factory would expire them. hash lists the tree
// digests the engine kept as it applied (every 128th zxid, the last 1024).
// gtmk and stmk read and set ZooKeeper's trace mask, which decides which
// requests the connections log at levelTrace (trace.go).
package wire
