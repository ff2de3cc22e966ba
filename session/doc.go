// Package session holds zk's session bookkeeping, as ZooKeeper's
// SessionTrackerImpl, ExpiryQueue and ZooKeeperServer do it: session ids,
// passwords, timeout negotiation, expiry in tick buckets, and the per-session
// FIFO release of replies.
//
// # Ids
//
// A session id carries the id of the peer that created it in its high byte
// (peer ids are 1..254), then the low 40 bits of the creating peer's clock in
// ms, then a 16-bit counter (ZooKeeper's initializeNextSessionId). A new
// IDGen on a restarted peer starts from a later clock, so it does not reissue
// ids of its previous run unless that run issued more than 65,536 ids per ms
// between the two starts (or the 40-bit ms clock wrapped, every 34 years). IDGen never returns 0, an id whose high byte is not its peer, the
// container marker math.MinInt64, or the same id twice.
//
// # Passwords and timeouts
//
// A password is 16 bytes from the io.Reader given (crypto/rand.Reader in
// production, a seeded source in tests); CheckPassword compares in constant
// time. NegotiateTimeout clamps a requested timeout into [min, max] ms as
// ZooKeeper does; DefaultTimeoutBounds gives ZooKeeper's defaults of 2 and 20
// ticks, and TimeoutTicks turns ms into whole ticks.
//
// # Tracker
//
// The Tracker counts time in ticks of its owner's clock: the owner calls
// Tick once per TickTime, and Tick returns the sessions whose deadline has
// come. A session with a timeout of T ticks touched during tick t (after t
// calls to Tick) expires at tick t+T+1: the first tick boundary strictly after
// the latest instant the touch may have happened (the end of tick t) plus T,
// which is what ZooKeeper's ExpiryQueue.roundToNextInterval computes. So a
// session never expires less than T ticks after its last touch, and at most
// T+1 ticks after it. Touch only ever moves a deadline later. An expired
// session is reported once and stays known as closing (Touch fails) until
// the owner Removes it, normally when its CloseSession txn applies.
//
// # Concurrency
//
// IDGen and Tracker have no goroutines, clocks or locks: each belongs to one
// goroutine (the root's session owner), which serializes calls. Sequencer is
// safe for concurrent use by the goroutines that issue one session's calls.
//
// # Errors and panics
//
// Errors wrap zkerr sentinels (zkerr.ErrBadArguments for a duplicate session
// or a non-positive timeout). Programming errors panic: a peer id outside
// 1..254, an exhausted id space, a Sequencer ticket done twice or never
// issued.
package session
