// Package wire serves ZooKeeper's client protocol on a peer's client port,
// so that ZooKeeper's own clients (zkCli.sh, kazoo, Curator, go-zookeeper)
// work against a zk peer.
//
// # Sessions
//
// A remote session is an engine Session: the connect request makes one with
// Ensemble.NewSession or re-attaches one with Ensemble.Reattach, and every
// request calls the same Session methods the in-process API calls. The wire
// layer never touches the tree or the protocol itself. When a connection
// drops without a closeSession, its session is detached from this peer and
// expires after its timeout unless the client re-attaches it (here or on
// another peer). A connect whose lastZxidSeen is ahead of this peer's tree
// first waits for a sync round; if the peer is still behind, the connection
// is refused (closed), as ZooKeeper refuses a client that saw newer state.
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
// its read-only server starts or stops, and the client reconnects. isro
// answers "ro" in read-only mode, "rw" while serving and "null" otherwise.
//
// # Order
//
// Each connection has one reader goroutine, which handles its requests one
// at a time in arrival order, and one outgoing queue. The reader sends its
// replies itself; watch events, which the apply loop queues under the apply
// lock, are sent by a writer goroutine that runs only while the queue is not
// empty (an idle connection holds one goroutine, about 7.7 KB in all).
// Replies therefore leave in xid order, and a watch event (queued before the
// reply of any request that could observe its change) leaves before the
// reply that follows it. One monitor goroutine per server closes the
// connections whose session expired or was closed, or whose peer stopped
// serving, as a ZooKeeper server closes them.
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
// # Limits
//
// A frame longer than Config.JuteMaxBuffer (ZooKeeper's jute.maxbuffer,
// 0xfffff by default) closes the connection before its body is read or
// allocated; so does a malformed frame, an unknown op code, a request before
// the connect, and a client that sends nothing for its session timeout.
// MaxClientCnxns bounds the connections of one client address. A request
// is read only after the previous one was answered, so a connection has at
// most one request outstanding inside the peer and a client that floods
// requests is slowed by TCP itself. A client that does not read stalls only
// its own reader, and a write stalled for its session timeout closes the
// connection. The apply loop never waits for a client: it only appends
// events to queues, and a queue that passes MaxQueuedBytes closes its
// connection.
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
// stat, mntr, conf, cons, envi, isro, wchs) gets its text answer and is
// closed; words outside Config.FourLetterWords (ZooKeeper's
// 4lw.commands.whitelist; srvr is always allowed) get ZooKeeper's refusal.
package wire
