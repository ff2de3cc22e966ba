package engine

import (
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/embedzk/zk/election"
	"github.com/embedzk/zk/zab"
)

// The peer's structured log records (Config.Logger), at Info unless
// something failed: role changes, elections with their ballots, the sync
// chosen for each learner, session expiries (one record per tick's batch),
// snapshots and purges; every fail-stop logs its cause at Error
// (Ensemble.fail). Nothing is logged per request at Info. Zxids are in
// hex, as ZooKeeper prints them; durations are in the logical time of the
// ticks where they come from ticks.

// peerLog is the loop's memory of what it logged and measured.
type peerLog struct {
	servedUnder [2]int64  // (leader, epoch) the peer last served under
	syncSince   time.Time // when it started following its leader (zero: not syncing)
}

func hexZxid(z int64) string { return "0x" + strconv.FormatInt(z, 16) }

// voteString names a vote as the election compares them: epoch, then zxid,
// then the proposed leader's id.
func voteString(v election.Vote) string {
	if v == election.NoVote {
		return "(none: an observer)"
	}
	return fmt.Sprintf("(epoch %d, zxid %s, leader %d)", v.Epoch, hexZxid(v.Zxid), v.Leader)
}

// observeStatus logs and measures a change of the core's status, from was
// to z.
func (p *peer) observeStatus(was, z zab.Status) {
	electionTicks := int64(-1)
	if z.Election.Seq != was.Election.Seq {
		p.logElection(z.Election)
		electionTicks = z.Election.Ticks
	}
	if z.Role != was.Role || z.Leader != was.Leader || z.Epoch != was.Epoch || z.Serving != was.Serving {
		attrs := []any{"mode", p.status().Mode.String(), "leader", z.Leader, "epoch", z.Epoch,
			"serving", z.Serving, "last_zxid", hexZxid(z.LastZxid), "was", p.statusMode(was).String()}
		if z.Reason != "" {
			attrs = append(attrs, "why", z.Reason)
		}
		p.cfg.Logger.Info("zk: role", attrs...)
	}
	learner := z.Role == zab.RoleFollowing || z.Role == zab.RoleObserving
	if learner && (z.Role != was.Role || z.Leader != was.Leader || z.Epoch != was.Epoch) && !z.Serving {
		p.log.syncSince = p.now()
	}
	synced := time.Duration(-1)
	if learner && z.Serving && !was.Serving && !p.log.syncSince.IsZero() {
		synced = p.now().Sub(p.log.syncSince)
		p.log.syncSince = time.Time{}
	}
	newLeader := false
	if under := [2]int64{z.Leader, z.Epoch}; z.Serving && under != p.log.servedUnder {
		newLeader = p.log.servedUnder != [2]int64{}
		p.log.servedUnder = under
	}
	p.e.obs.roleEvents(z.Lookings-was.Lookings, electionTicks, newLeader, synced, z.Role == zab.RoleObserving)
}

// observeStart logs and measures the core's first status (a standalone
// peer has decided its election already), before the loop starts.
func (p *peer) observeStart() {
	p.observeStatus(zab.Status{}, p.zst)
	p.publishDetail()
}

// statusMode names the mode a core status stands for.
func (p *peer) statusMode(z zab.Status) Mode {
	switch z.Role {
	case zab.RoleLeading:
		if p.cfg.standalone() {
			return ModeStandalone
		}
		return ModeLeading
	case zab.RoleFollowing:
		return ModeFollowing
	case zab.RoleObserving:
		return ModeObserving
	}
	return ModeLooking
}

// logElection narrates how an election ended: the round, this peer's own
// first vote, the decided one, every ballot held (agreeing or not) and the
// quorum that decided.
func (p *peer) logElection(el zab.ElectionInfo) {
	ballots := make([]any, 0, len(el.Ballots))
	agree := 0
	for _, b := range el.Ballots {
		s := fmt.Sprintf("%s %v round %d", voteString(b.Vote), b.State, b.Round)
		if b.Agrees {
			s += " agrees"
			agree++
		}
		ballots = append(ballots, slog.String(strconv.FormatInt(b.From, 10), s))
	}
	outcome := map[election.State]string{election.Leading: "leading", election.Following: "following",
		election.Observing: "observing"}[el.State]
	p.cfg.Logger.Info("zk: election decided", "round", el.Round, "outcome", outcome, "leader", el.Vote.Leader,
		"vote", voteString(el.Vote), "proposed", voteString(el.Initial), slog.Group("ballots", ballots...),
		"agreeing", agree, "quorum", el.Quorum,
		"joined", el.Joined, "took", time.Duration(el.Ticks)*p.e.obs.tick, "why", el.Reason)
}

// reportSyncs logs (and counts) how this leader syncs learners.
func (p *peer) reportSyncs(syncs []zab.SyncStart) {
	for _, s := range syncs {
		attrs := []any{"peer", s.Peer, "mode", s.Mode.String(), "learner_zxid", hexZxid(s.From),
			"leader_zxid", hexZxid(s.Leader)}
		if s.Mode == zab.SyncTrunc {
			attrs = append(attrs, "trunc_to", hexZxid(s.Trunc))
		}
		if s.Mode != zab.SyncSnap {
			attrs = append(attrs, "txns", s.Txns)
		}
		p.cfg.Logger.Info("zk: syncing a learner", attrs...)
		p.e.obs.syncStarted(s)
	}
}

// logSnapshotSent: the whole snapshot went to a learner.
func (p *peer) logSnapshotSent(to int64, st *snapStream) {
	p.cfg.Logger.Info("zk: snapshot sent to a learner", "peer", to, "zxid", hexZxid(st.zxid), "bytes", st.sent)
}

// logExpiries logs the sessions this leader expires in one tick, in one
// record.
func (p *peer) logExpiries(ids []int64) {
	if len(ids) == 0 {
		return
	}
	const shown = 16
	list := make([]string, 0, min(len(ids), shown))
	for _, id := range ids[:min(len(ids), shown)] {
		list = append(list, "0x"+strconv.FormatUint(uint64(id), 16))
	}
	attrs := []any{"count", len(ids), "sessions", list}
	if len(ids) > shown {
		attrs = append(attrs, "more", len(ids)-shown)
	}
	p.cfg.Logger.Info("zk: expiring sessions", attrs...)
	p.e.obs.expired(len(ids))
}

// logRisks warns, as a peer starts, of the settings that give up a
// guarantee, and says when a leader will serve no client and when
// sessions are local.
func (c Config) logRisks() {
	if c.SkipACL {
		c.Logger.Warn("zk: SkipACL (skipACL=yes): no ACL check is made on this peer")
	}
	if c.NoForceSync {
		c.Logger.Warn("zk: NoForceSync (forceSync=no): the log is not synced before a transaction is acknowledged; " +
			"an operating-system crash or a power loss may lose acknowledged transactions")
	}
	if c.NoDigestAuth && c.SuperDigest != "" {
		c.Logger.Warn("zk: NoDigestAuth (DigestAuthenticationProvider.enabled=false): SuperDigest can never be matched")
	}
	if c.NoLeaderServes && !c.standalone() {
		c.Logger.Info("zk: NoLeaderServes (leaderServes=no): while it leads, this peer serves no client on its client ports")
	}
	if c.LocalSessions && !c.standalone() {
		c.Logger.Info("zk: LocalSessions (localSessionsEnabled=true): sessions opened here are local to this peer",
			"upgrading", c.LocalSessionsUpgrading)
	}
}
