// Package election is ZooKeeper's Fast Leader Election (FLE) as a pure,
// deterministic state machine.
//
// A peer is LOOKING, FOLLOWING, LEADING or OBSERVING. While LOOKING it
// proposes a Vote — (proposed leader, that leader's last zxid, that leader's
// current epoch) — tagged with its logical clock (the election round), sends
// it to every voter, and moves its proposal to any better vote it hears of.
// Votes are totally ordered by epoch, then zxid, then server id. A
// notification from a newer round resets the round and the ballot box; one
// from an older round is ignored (and answered with this peer's proposal so
// that the laggard catches up). The ballot box keeps the latest vote of each
// voter. Once a quorum of voters agrees with the proposal, the peer waits
// Config.Finalize ticks for a better vote before it decides (at once if every
// voter already agrees: then no better vote can exist in this round).
//
// A peer that is not LOOKING answers a LOOKING peer with the vote it decided
// on and its state; a LOOKING peer that gathers a quorum of such answers for
// one leader, including the leader's own LEADING answer, follows that leader
// at once: a peer that restarts while the ensemble has a leader joins it
// without an election, so a restarted ex-leader becomes a follower.
//
// Observers never vote: their notifications are answered but never counted,
// their initial vote loses against every voter's, and votes for a
// non-voter never win.
//
// Two departures from ZooKeeper, both to stop endless exchanges that its
// rules allow: a voter answers a non-voter only while the non-voter is
// LOOKING (ZooKeeper answers whatever its state, so a looking voter and an
// observing observer can answer each other forever), and only a voter
// answers a laggard's notification from an older round.
//
// A decided peer answers a looking voter with the vote it follows (what
// ZooKeeper keeps as the peer's current vote), so every learner of one
// leader answers alike and the looker counts them as a quorum. A peer that
// follows a leader its election did not decide (package zab follows a
// leader announcing a newer configuration) calls Follow with that
// leader's own vote: a round left LOOKING could later decide on stale
// notifications and answer with a leader nobody follows.
//
// One addition, for fast failover: a LOOKING voter also answers a LOOKING
// voter's notification of its own round whose vote its proposal beats.
// When a leader dies its followers notice at slightly different times; the
// first one's notification reaches the other while it still follows (it
// answers with its decided vote and keeps nothing), and once the other
// looks too, in the same round, with a worse vote, ZooKeeper's rules send
// nothing back: no quorum forms until a re-send timer fires (ZooKeeper's
// notification timeout; Config.Resend here). The answer ends: it carries a
// vote strictly better than the one answered, and in a round each peer's
// proposal only ever gets better, so every answer either improves the
// receiver's proposal or is itself answered by a better vote.
//
// # Contract
//
// An Election is not safe for concurrent use; one goroutine owns it. It starts
// no goroutines, reads no clock and does no I/O: time is Tick calls, input is
// Step, output is Messages (drained by the caller, who sends them). Step
// validates everything it is given and returns an error (the notification is
// dropped) for anything from an unknown peer or with impossible fields; it
// never panics. Values passed in are copied; returned slices belong to the
// caller.
//
// # Quorums
//
// Which sets of voters decide is the Quorum interface (ZooKeeper's
// QuorumVerifier), shared with package zab for every quorum it counts:
// Majority (the default: more than half of the voters) and Hierarchical
// (ZooKeeper's group.N and weight.N: more than half of the weight of more
// than half of the groups). A voter of weight 0 takes part — it is sent
// notifications, its ballot is kept, it follows — but never counts towards
// a quorum and is never elected: it starts each round with NoVote (and
// adopts the first vote it hears), a vote for it never beats another, and
// a notification from a voter naming it as leader is refused. Any two
// quorums of either rule share a voter of positive weight, which is what
// makes two leaders of one round impossible. Joint is the quorum of two
// rules at once (a quorum of both), which package zab counts while a
// reconfiguration is pending; Election.Reconfigure changes the membership
// of an Election; a decided peer then answers in the role the new
// configuration gives it (FOLLOWING once it is a voter, OBSERVING once it
// is not), as ZooKeeper's notifications carry the server's state. A vote naming a peer that cannot lead in this peer's
// configuration is refused with ErrCannotLead: during a reconfiguration
// peers may hold different configurations.
package election
