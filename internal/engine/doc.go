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
package engine
