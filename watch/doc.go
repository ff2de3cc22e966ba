// Package watch keeps zk's watch tables and turns applied changes into
// watch events, with ZooKeeper's semantics.
//
// # Registrations
//
// A registration (an ID) is one watch of one session on one path, of one
// Kind:
//
//   - KindData, KindExist, KindChild are ZooKeeper's one-shot (standard)
//     watches, set by getData, exists and getChildren. They fire once: the
//     event is delivered, the registration is removed, then its Sink is
//     closed. An exist watch may be set on a missing path; it fires
//     NodeCreated when the node appears.
//   - KindPersistent and KindPersistentRecursive are ZooKeeper 3.6's
//     addWatch modes. They stay until removed or until their session ends.
//
// Each Add is its own registration with its own Sink, even when the same
// session already watches the same path with the same kind; each of them
// gets every event (ZooKeeper's server keeps one watch per connection and
// path, and its client then hands the event to every watcher object
// registered locally for that path: the effect is the same).
//
// # Which change fires what
//
// For a change at path P (znode.Change), as ZooKeeper's DataTree and
// WatchManager do it:
//
//   - Created: NodeCreated to data and exist watches on P, persistent
//     watches on P, recursive watches on P and on every ancestor of P; then
//     NodeChildrenChanged on parent(P) to child watches and persistent
//     watches there (never to recursive ones).
//   - Deleted: NodeDeleted to data, exist and child watches on P (ZooKeeper
//     fires the child watches of a deleted node with NodeDeleted),
//     persistent watches on P and recursive watches on P and its ancestors;
//     then NodeChildrenChanged on parent(P) as for Created.
//   - DataChanged: NodeDataChanged to data and exist watches on P, persistent
//     watches on P, recursive watches on P and its ancestors.
//
// A registration receives at most one event per change. Every event carries
// the zxid of its change; a Sink may attach the node's state to it
// (Event.Node: the engine's watches with data read it from the tree inside
// Trigger, right after the transaction). A ChangeSink also learns the
// number Trigger gives each change, so that a receiver holding several
// registrations can merge the events of one change as ZooKeeper sends them
// to a connection (one per change, path and type), even within a multi,
// whose changes share one zxid.
//
// Tables and DataPairs count and list the registrations as ZooKeeper's two
// watch tables hold them, (session, path) pairs, for the four-letter words.
//
// # ACLs
//
// Trigger takes mayRead(session, acl). An event on P is checked against
// Change.ACL, the parent's NodeChildrenChanged against Change.ParentACL; a
// nil mayRead allows everything. ZooKeeper 3.9 removes a one-shot watch when
// its change fires it and only then checks READ, as it sends the event
// (WatchManager.triggerWatch, then NIOServerCnxn.process): a one-shot watch
// whose session may not read the change is consumed without its event. zk
// does the same, except that it does not stay silent: the registration ends
// with Event{Type: EventNotWatching, Path: its path, Err: zkerr.ErrNoAuth},
// then Close, so that a waiting consumer never hangs. A persistent or
// recursive watch simply skips an event its session may not read and stays
// registered, as in ZooKeeper.
//
// # Removal
//
// Remove follows ZooKeeper's removeWatches: WatcherChildren removes child
// watches, WatcherData data and exist watches, WatcherPersistent and
// WatcherPersistentRecursive those kinds, WatcherAny all of them. Each
// removed registration gets the event ZooKeeper's client raises
// (EventDataWatchRemoved for data and exist watches, EventChildWatchRemoved
// for child watches, EventPersistentWatchRemoved for both persistent kinds),
// then Close. DropSession ends every registration of a session with
// EventNotWatching carrying the reason (zkerr.ErrSessionExpired,
// zkerr.ErrClosed), then Close.
//
// # Delivery and sinks
//
// Sinks are called with the Manager's lock held. All calls into one Sink are
// therefore serialized, and the events of one registration arrive in the
// order of the Trigger calls that produced them, that is in zxid order when
// the caller triggers in zxid order. Across registrations too, every delivery
// of one change happens before any of the next, so sinks that forward into
// one queue per session keep that session's events in zxid order. Give each
// registration its own Sink: a Sink ends once, with its registration. A Sink must not block and must not call
// back into the Manager (it would deadlock). Deliver returns false when the
// sink cannot take the event; the Manager then removes the registration and
// calls Overflow instead of Close, so that no event is lost silently: the
// sink tells its consumer. ChanSink (a buffered channel) and Queue (a
// growing buffer the consumer pulls from) are the ready-made Sinks.
//
// Every registration ends with exactly one call to Close or Overflow, after
// its last Deliver; nothing is called on a Sink after that. EndID ends one
// registration with an event of the caller's choosing (the engine ends its
// gapless watches with EventNotWatching when its tree jumps to a snapshot).
//
// # Transactions
//
// The engine calls Trigger once per transaction, and Trigger holds the
// Manager's lock throughout, so Barrier — which returns once every Trigger
// in progress has finished — tells a consumer that every event of a zxid it
// has seen is queued: it takes them with Queue.TakeIfZxid, which never takes
// an event of the next transaction.
//
// # Memory: Queue, and the per-session limit
//
// A watch may stay idle for its whole life, and a process may hold millions
// of them, so what an idle watch holds must be small and what a busy one
// holds must follow what is queued. A channel cannot do this: its buffer is
// allocated whole when it is made (a 1,025-event ChanSink is ~57 KB), and
// only a goroutine per watch could move events from a growing buffer into
// it. So there are two sinks:
//
//   - ChanSink, for one-shot watches: a one-shot registration gets exactly
//     one event (the change that fires it, or the event that ends it), so a
//     ChanSink(1) is all it needs, a few hundred bytes.
//   - Queue, for persistent and recursive watches: the consumer pulls
//     (Next, or Ready and TryNext). Events wait in a ring allocated on the
//     first event, doubling as events pile up and halving as they are taken
//     (a drained Queue keeps at most a ring of four); Ready is a channel of
//     capacity 1 that says there is something to take. An idle Queue costs
//     about 200 bytes; with the Manager's own bookkeeping an idle watch of
//     any kind costs about 600 bytes (BenchmarkMemoryIdleWatches in
//     internal/engine).
//
// Both keep the delivery rules above. An event is takeable as soon as
// Deliver returns, so a caller that triggers before it replies to a write
// still has every event queued before the reply (a session sees the event
// before the data), and events leave a sink in the order they entered it.
// Deliver never blocks and never waits
// for the consumer, so a slow consumer never holds up Trigger or other
// sessions; each is bounded (a Queue holds at most its limit of events, the
// engine's DefaultWatchBuffer), and past the bound the registration ends
// with EventNotWatching and zkerr.ErrWatchOverflow after the events already
// queued: an overflow is never silent. The event that ends a registration
// never counts against the bound, so the consumer always learns why.
//
// SetSessionLimit bounds the registrations one session holds (every kind
// together): Add past the limit registers nothing and returns an error
// wrapping zkerr.ErrTooManyWatches. A session's memory is thus bounded by
// its limit times the cost of a watch, plus the events its consumers have
// not taken.
//
// # Concurrency and cost
//
// Manager is safe for concurrent use: readers Add while the apply loop
// Triggers. The caller keeps the ordering guarantees that need more than one
// call (no change slips between a read and its watch) by holding its own
// apply lock around read+Add and apply+Trigger.
//
// Watches are indexed by path and by session. Trigger costs the number of
// watches that fire plus, when any recursive watch exists, one map lookup per
// ancestor of P; it never scans unrelated watches. Add, RemoveID and the
// removal of one fired watch cost O(1). Remove scans the smaller of the
// session's watches and the path's watches of the requested kinds.
//
// # Ownership
//
// The Manager keeps the path strings it is given (they are immutable) and
// the Sinks until their registration ends. Trigger does not retain the
// changes slice or its ACLs. SessionWatches returns a fresh slice.
package watch
