package election

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
)

// Config configures an Election. Times are in ticks of the caller's clock.
type Config struct {
	ID        int64
	Quorum    Quorum  // the voters; ID is one of them unless this peer observes
	Observers []int64 // non-voting members (their notifications are answered)
	// Finalize is how many ticks to wait for a better vote once a quorum
	// agrees with the proposal (ZooKeeper's finalizeWait). 0 decides at once.
	Finalize int
	// Resend is the initial interval at which a LOOKING peer re-sends its
	// notifications when it hears nothing; it doubles up to MaxResend.
	Resend    int
	MaxResend int        // default 8 * Resend
	Rand      *rand.Rand // optional: jitters the re-send interval
}

// Errors returned by New and Step.
var (
	ErrBadConfig   = errors.New("election: invalid config")
	ErrUnknownPeer = errors.New("election: notification from an unknown peer")
	ErrNotStarted  = errors.New("election: not started")
	// ErrCannotLead: a vote for a peer that cannot lead in this peer's
	// configuration. It matches ErrBadNotification; while a
	// reconfiguration is in progress peers may hold different
	// configurations, so the sender need not be at fault.
	ErrCannotLead = fmt.Errorf("%w: the vote names a peer that cannot lead here", ErrBadNotification)
)

// Message is a notification to send to peer To.
type Message struct {
	To           int64
	Notification Notification
}

// ballot is one peer's latest vote as the ballot box keeps it.
type ballot struct {
	vote  Vote
	round int64
	state State
}

// same is ZooKeeper's Vote.equals: two votes of LOOKING peers agree only if
// everything agrees; otherwise the leader and its epoch must.
func (b ballot) same(o ballot) bool {
	if b.state == Looking || o.state == Looking {
		return b.vote == o.vote && b.round == o.round
	}
	return b.vote.Leader == o.vote.Leader && b.vote.Epoch == o.vote.Epoch
}

// Election is the FLE state machine of one peer. See the package doc.
type Election struct {
	cfg      Config
	voter    bool
	known    map[int64]bool
	state    State
	round    int64 // logical clock
	self     Vote  // this round's initial vote
	vote     Vote  // current proposal, or the decided vote
	recv     map[int64]ballot
	outside  map[int64]ballot // votes of peers already out of the election
	finalize int              // ticks left to wait; 0: not finalizing
	idle     int              // ticks since we last sent or heard
	interval int              // current re-send interval
	out      []Message
	outcome  Outcome // how the last round was decided (outcome.go)
}

// New returns an Election that is LOOKING but not started: call Start.
func New(cfg Config) (*Election, error) {
	if cfg.Quorum == nil {
		return nil, fmt.Errorf("%w: Quorum is nil", ErrBadConfig)
	}
	if cfg.Finalize < 0 || cfg.Resend < 1 || cfg.MaxResend < 0 {
		return nil, fmt.Errorf("%w: Finalize %d, Resend %d, MaxResend %d", ErrBadConfig, cfg.Finalize, cfg.Resend, cfg.MaxResend)
	}
	if cfg.MaxResend == 0 {
		cfg.MaxResend = 8 * cfg.Resend
	}
	cfg.MaxResend = max(cfg.MaxResend, cfg.Resend)
	e := &Election{cfg: cfg, voter: cfg.Quorum.IsVoter(cfg.ID), known: map[int64]bool{}, state: Looking}
	for _, id := range cfg.Quorum.Voters() {
		e.known[id] = true
	}
	for _, id := range cfg.Observers {
		if id < 1 || id > MaxPeerID || e.known[id] {
			return nil, fmt.Errorf("%w: observer %d", ErrBadConfig, id)
		}
		e.known[id] = true
	}
	if !e.known[cfg.ID] {
		return nil, fmt.Errorf("%w: ID %d is neither a voter nor an observer", ErrBadConfig, cfg.ID)
	}
	e.cfg.Observers = slices.Clone(cfg.Observers)
	return e, nil
}

// State returns the peer's state as the election sees it.
func (e *Election) State() State { return e.state }

// Round returns the logical clock.
func (e *Election) Round() int64 { return e.round }

// Vote returns the current proposal while LOOKING, else the decided vote.
func (e *Election) Vote() Vote { return e.vote }

// Leader returns the decided leader, or 0 while LOOKING.
func (e *Election) Leader() int64 {
	if e.state == Looking {
		return 0
	}
	return e.vote.Leader
}

// Messages returns and clears the notifications to send.
func (e *Election) Messages() []Message {
	out := e.out
	e.out = nil
	return out
}

// Start begins a new election round with this peer's own vote: for a voter
// {ID, last logged zxid, current epoch}; an observer should pass NoVote (any
// vote naming a non-voter is replaced by NoVote). It sends the proposal to
// every voter and decides at once if this peer alone is a quorum. A voter
// that cannot lead (weight 0) also starts with NoVote, and adopts the first
// vote it hears.
func (e *Election) Start(self Vote) {
	if !e.voter || !CanLead(e.cfg.Quorum, self.Leader) {
		self = NoVote
	}
	e.state = Looking
	e.round++
	e.self = self
	e.vote = self
	e.recv = map[int64]ballot{}
	e.outside = map[int64]ballot{}
	e.finalize = 0
	e.idle = 0
	e.interval = e.cfg.Resend
	e.putSelf()
	e.broadcast()
	e.checkQuorum()
}

// Tick advances time: it ends a finalize wait and re-sends notifications
// when nothing was heard for a while.
func (e *Election) Tick() {
	if e.state != Looking || e.round == 0 {
		return
	}
	if e.finalize > 0 {
		e.finalize--
		if e.finalize == 0 && e.hasQuorum(e.recv, e.selfBallot()) {
			e.decide(e.vote)
		}
		return
	}
	e.idle++
	if e.idle < e.interval {
		return
	}
	e.broadcast()
	e.interval = min(2*e.interval, e.cfg.MaxResend)
	if r := e.cfg.Rand; r != nil && e.interval > 1 {
		e.idle = -r.IntN(e.interval / 2)
	}
}

// LinkUp tells the election a connection to peer came up: a LOOKING peer
// sends it its proposal (what was sent before may have been lost).
func (e *Election) LinkUp(peer int64) {
	if e.state == Looking && e.round > 0 && peer != e.cfg.ID && e.cfg.Quorum.IsVoter(peer) {
		e.send(peer)
	}
}

// Step handles notification n from peer from.
func (e *Election) Step(from int64, n Notification) error {
	if from == e.cfg.ID || !e.known[from] {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, from)
	}
	if err := n.Validate(); err != nil {
		return err
	}
	if e.round == 0 {
		return ErrNotStarted
	}
	if !e.cfg.Quorum.IsVoter(from) {
		// A non-voter never takes part: answer it right away if it looks.
		// (ZooKeeper answers whatever its state, which lets a looking voter
		// and an observing observer answer each other forever.)
		if n.State == Looking {
			e.send(from)
		}
		return nil
	}
	if e.state != Looking && n.State == Looking {
		// We decided: tell a looking voter whom we follow, whatever its
		// own vote (in a reconfiguration it may name a peer that cannot
		// lead here; our answer is how it finds the leader).
		e.send(from)
	}
	if n.State != Observing && !CanLead(e.cfg.Quorum, n.Leader) && (n.State != Looking || n.Vote != NoVote) {
		// A looking voter of weight 0 proposes NoVote until it hears a vote.
		return fmt.Errorf("%w: voter %d votes for %d", ErrCannotLead, from, n.Leader)
	}
	if e.state != Looking {
		return nil
	}
	e.idle = 0
	switch n.State {
	case Looking:
		if n.Round < e.round {
			if e.voter {
				e.send(from) // let the laggard catch up
			}
			return nil
		}
		e.stepLooking(from, n)
	case Following, Leading:
		e.stepDecided(from, n)
	}
	return nil
}

// Follow ends the round as if it had decided v: the caller follows
// v.Leader without this election's decision (a leader that announced a
// newer configuration). Until the next Start the peer answers looking
// voters with v and ignores other votes, so v should be the leader's own
// vote, which its other learners report too (ZooKeeper's current vote is
// the vote the peer follows); a round left LOOKING could later decide on
// stale notifications and answer with a leader nobody follows.
func (e *Election) Follow(v Vote) error {
	if e.round == 0 {
		return ErrNotStarted
	}
	if v.Leader == e.cfg.ID {
		return fmt.Errorf("%w: follow itself", ErrBadNotification)
	}
	if err := (Notification{Vote: v, Round: 1, State: Leading}).Validate(); err != nil {
		return err
	}
	e.decide(v)
	return nil
}

// stepLooking handles a vote of a LOOKING voter in our round or a newer one.
func (e *Election) stepLooking(from int64, n Notification) {
	if n.Round > e.round {
		e.round = n.Round
		clear(e.recv)
		e.vote = e.self
		if e.better(n.Vote, e.self) {
			e.vote = n.Vote
		}
		e.finalize = 0
		e.putSelf()
		e.broadcast()
	} else if e.better(n.Vote, e.vote) {
		e.vote = n.Vote
		e.finalize = 0
		e.putSelf()
		e.broadcast()
	} else if e.voter && n.Vote != e.vote {
		// Our proposal beats the sender's: it has not heard it in this
		// round (it reached the sender before it was looking, or was
		// lost). Tell it now rather than at the next re-send.
		e.send(from)
	}
	e.recv[from] = ballot{vote: n.Vote, round: n.Round, state: Looking}
	e.checkQuorum()
}

// stepDecided handles the vote of a voter that is FOLLOWING or LEADING.
func (e *Election) stepDecided(from int64, n Notification) {
	b := ballot{vote: n.Vote, round: n.Round, state: n.State}
	if n.Round == e.round {
		e.recv[from] = b
		if e.hasQuorum(e.recv, b) && e.checkLeader(e.recv, n.Leader, n.Round) {
			e.decide(n.Vote)
			return
		}
	}
	e.outside[from] = b
	if e.hasQuorum(e.outside, b) && e.checkLeader(e.outside, n.Leader, n.Round) {
		e.round = n.Round
		e.decide(n.Vote)
	}
}

// checkLeader is ZooKeeper's: a leader other than us must have told us itself
// that it leads; if it is us, the votes must be of our own round.
func (e *Election) checkLeader(votes map[int64]ballot, leader, round int64) bool {
	if leader != e.cfg.ID {
		b, ok := votes[leader]
		return ok && b.state == Leading
	}
	return round == e.round
}

// checkQuorum starts (or ends) the finalize wait once a quorum agrees.
func (e *Election) checkQuorum() {
	mine := e.selfBallot()
	if e.state != Looking || !e.hasQuorum(e.recv, mine) {
		e.finalize = 0
		return
	}
	if e.cfg.Finalize == 0 || e.allAgree(mine) {
		e.decide(e.vote)
		return
	}
	if e.finalize == 0 {
		e.finalize = e.cfg.Finalize
	}
}

func (e *Election) allAgree(b ballot) bool {
	for _, id := range e.cfg.Quorum.Voters() {
		v, ok := e.recv[id]
		if !ok || !v.same(b) {
			return false
		}
	}
	return true
}

func (e *Election) hasQuorum(votes map[int64]ballot, b ballot) bool {
	if b.vote == NoVote {
		return false // a weight-0 voter's initial vote: nobody to elect
	}
	ids := make([]int64, 0, len(votes))
	for id, v := range votes {
		if v.same(b) {
			ids = append(ids, id)
		}
	}
	return e.cfg.Quorum.HasQuorum(ids)
}

// better is totalOrderPredicate: only a voter whose vote counts can win.
func (e *Election) better(v, o Vote) bool {
	return CanLead(e.cfg.Quorum, v.Leader) && v.Beats(o)
}

func (e *Election) decide(v Vote) {
	e.record(v)
	e.vote = v
	switch {
	case v.Leader == e.cfg.ID:
		e.state = Leading
	case e.voter:
		e.state = Following
	default:
		e.state = Observing
	}
	e.finalize = 0
	e.recv = nil
	e.outside = nil
}

func (e *Election) selfBallot() ballot { return ballot{vote: e.vote, round: e.round, state: Looking} }

func (e *Election) putSelf() {
	if e.voter {
		e.recv[e.cfg.ID] = e.selfBallot()
	}
}

func (e *Election) broadcast() {
	e.idle = 0
	for _, id := range e.cfg.Quorum.Voters() {
		if id != e.cfg.ID {
			e.send(id)
		}
	}
}

func (e *Election) send(to int64) {
	e.out = append(e.out, Message{To: to, Notification: Notification{Vote: e.vote, Round: e.round, State: e.state}})
}
