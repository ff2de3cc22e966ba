// Package recipesim is the fault test of the recipes: a replicated
// ensemble of real zk peers (3 voters) under crashes, partitions, silent
// links, paused processes and the session expiries and leader changes they
// cause, with actors using every recipe (two Mutex users, one Mutex shared
// by two goroutines, two SemaphoreMutex users, two readers and a writer of
// an RWMutex, three users of a Semaphore of two leases, two LeaderLatch
// participants), and checks at every step. It is a test harness: nothing
// outside zk's tests imports it.
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
// tick. Whatever zk does for the actors' recipes passes a gate (their
// writes, before they are sent and when they are answered, and the watch
// events and session states they get): the driver lets the gated calls go
// one at a time, in key order, each running until it blocks. Peers act one
// at a time too, in an order drawn from the seed, and a client may react
// to a change before the next peer applies it.
//
// # Faults
//
// Crashes (the peer's disk keeps only what it synced) and restarts; the
// leader crashed on purpose; a peer isolated; a silent link (frames from a
// follower to the leader held back without the connection breaking: the
// follower keeps serving and its sessions say connected while the leader
// hears none of their touches, the case where a session expires under a
// holder whose session states say nothing); a paused process (no ticks,
// no frames). Silent links and pauses aim, half of the time, at the peer
// of the holder that means to hold longest: the worst case. Holds last a
// few ticks, or (a quarter of them, before healing) up to 1000 ticks, longer
// than any session timeout; each session's timeout is drawn in [2, 20]
// TickTimes.
//
// # Checks
//
// At every grant (the moment an actor's acquisition returns) and at every
// step:
//
//   - never two live holders (lease context not done) of a Mutex, a
//     SemaphoreMutex, the write side of an RWMutex, or a leadership;
//   - a live writer and a live reader never overlap;
//   - a Semaphore never has more than its n live leases;
//
// at every step:
//
//   - fencing tokens increase strictly in acquisition order (for
//     leadership: a term that keeps its node keeps its token);
//   - no recipe node on a serving peer belongs to a session that peer has
//     seen end (read when the peer saw sessions end, and every tenth step:
//     such a node would stay);
//
// after the faults are healed, every actor acquires within a bound; at the
// end, once every actor released and closed its Client (its session still
// open) and the dead sessions expired, no recipe node is left anywhere
// (deletes were guaranteed, abandoned creates swept).
//
// Each check has a sabotage that it must catch (TestSabotage): the recipes
// believing a 100 times longer session timeout, a waiter blind to its
// predecessor, a reader blind to writers, deletes that delete nothing, a
// wrong czxid, sessions believed ended at birth.
//
// # Replaying a seed
//
// With one P (GOMAXPROCS=1, as the tests set it), a seed replays bit for
// bit (TestDeterminism): the gates order the writes and what zk wakes, one
// P the goroutines woken at one instant, and the timers of the actors and
// of the world's steps never end at one instant. The race detector
// shuffles the scheduler on purpose: under it a seed need not replay, so
// under -race TestDeterminism runs itself again in a test binary built
// without it (go test in a subprocess) and fails if that run fails.
//
//	go test ./internal/recipesim                                   # CI seeds
//	go test ./internal/recipesim -run TestRecipesUnderFaults -v -args -seeds=150 -seed=1000
//	go test ./internal/recipesim -run TestRecipesUnderFaults -v -args -seeds=1 -seed=42 -trace
package recipesim
