// Package recipesim is the fault test of the recipes: a replicated
// ensemble of real zk peers (3 voters) under crashes, partitions, silent
// links, paused processes and the session expiries and leader changes they
// cause, with actors using every recipe, and checks at every step. It is
// a test harness: nothing outside zk's tests imports it.
//
// # The world
//
// Run must be called inside a testing/synctest bubble: the bubble's fake
// clock is the recipes' clock (lease lapses, keepalives, timeouts) and the
// actors' (how long they hold, how long they wait), and synctest.Wait says
// when every goroutine is blocked. The peers run in stepped mode
// (internal/hooks) with manual clocks: they act only in the Barrier and
// Tick calls of the driver, which also delivers the frames of the manual
// in-memory network. One step is one tick (a tenth of TickTime) of both
// clocks: faults, then everything the step lets happen until the world is
// still, the peers' tick, the checks, and the fake clock moves on by a
// tick. Writes of the actors (through the recipes' Conn) wait at a gate
// until the driver lets them go, one at a time in a fixed order, so a seed
// gives the same run.
//
// # Faults
//
// Crashes (the peer's disk keeps only what it synced) and restarts; the
// leader crashed on purpose; a peer isolated; a silent link (frames from a
// peer to the leader held back without the connection breaking: the peer
// keeps serving and its sessions say connected, the case where a session
// expires under a holder that has not noticed); a paused process (no ticks,
// no frames). Each actor's session timeout is drawn in [2, 20] TickTimes.
//
// # Checks, at every step
//
//   - never two live holders (lease context not done) of a Mutex, a
//     SemaphoreMutex, the write side of an RWMutex, or a leadership;
//   - a live writer and a live reader never overlap;
//   - a Semaphore never has more than its n live leases;
//   - fencing tokens increase strictly in acquisition order (for
//     leadership: a term that keeps its node keeps its token);
//   - no recipe node on any serving peer belongs to a session that peer
//     has seen end;
//
// and after the faults are healed: every actor acquires within a bound;
// at the end, once every actor released and closed its Client (its
// session still open) and the dead sessions expired, no recipe node is
// left (the deletes were guaranteed).
package recipesim
