package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/znode"
)

// Membership changes as a fault class (Options.Reconfig): spare servers
// join (started with the members and themselves, as ZooKeeper's
// documentation says), and an admin client reconfigures at random —
// add a joiner as participant or observer, remove a member, promote an
// observer, demote a participant — among the other faults. A removed
// server keeps following and serving as a non-voting member
// (Status.RemovedBy), as ZooKeeper's does, and may be added back while it
// runs, as a joiner is; if it is not, the world retires it after a while
// (mayBeMember) and may bring it back later as a spare of the same id: every other
// retired server with its disk wiped, as a new server, the others with
// their disk kept and zk.Config.Rejoin, as an operator adds a removed
// server back. The choices come from their own random stream, so a seed's
// other draws are those it makes without reconfiguration.

// spares is how many servers beyond the initial ones may join.
const spares = 2

// rcState is the world's reconfiguration state.
type rcState struct {
	on      bool
	rng     *rand.Rand
	rate    int
	admin   *client
	servers map[int64]zk.Server // every server that may ever be a member
	changes int                 // reconfigs that committed
	retired int                 // removed servers (and orphaned joiners) retired
	policy  int                 // changes the membership policy committed
	refused int
	ticks   []int64 // ticks each successful change took, call to return
	// oneVoter counts the committed configurations with one participant.
	oneVoter int
	// mayAdd: servers that a reconfig of unknown outcome adds, with the
	// committed configuration's version and the newest epoch a leader
	// served in when it returned. Until another configuration commits, or
	// an entry of the epoch after the next one (see mayBeMember), its entry
	// may still commit, so the world does not retire them meanwhile.
	mayAdd map[int64]maybeAdded
}

// maybeAdded is a server a reconfig of unknown outcome adds.
type maybeAdded struct {
	version int64 // the committed configuration's when the call returned
	epoch   int64 // the newest epoch a leader served in then
}

// reconfigServer is the server line of peer id.
func reconfigServer(id int64, observer bool) zk.Server {
	return zk.Server{ID: id, Host: "sim", QuorumPort: 2000 + int(id), ElectionPort: 3000 + int(id), Observer: observer}
}

// initReconfig adds the spare peers (dormant) and the admin client.
func (w *World) initReconfig() {
	if !w.opts.Reconfig {
		return
	}
	w.rc = rcState{on: true, rng: rand.New(rand.NewPCG(w.opts.Seed, 0x4ec0f16)), servers: map[int64]zk.Server{}}
	w.rc.rate = 60 + w.rc.rng.IntN(120)
	for _, s := range w.servers {
		w.rc.servers[s.ID] = s
	}
	n := int64(len(w.peers))
	for id := n + 1; id <= n+spares; id++ {
		p := &simPeer{id: id, fs: NewMemFS(), w: w, dormant: true}
		w.peers = append(w.peers, p)
		w.byID[id] = p
	}
	w.rc.admin = &client{id: -1, w: w}
}

// allIDs is every peer id the network must know (spares included).
func (w *World) allIDs() []int64 {
	n := len(w.servers)
	if w.opts.Reconfig {
		n += spares
	}
	var ids []int64
	for i := 1; i <= n; i++ {
		ids = append(ids, int64(i))
	}
	return ids
}

// peerServers is the server list peer p starts with: a joiner's is the
// configuration it joined under plus itself.
func (w *World) peerServers(p *simPeer) []zk.Server {
	if p.servers != nil {
		return p.servers
	}
	return w.servers
}

// reconfigStep may start a membership change (one at a time).
func (w *World) reconfigStep() {
	if !w.rc.on || w.rc.admin.op != nil || w.rc.rng.IntN(w.rc.rate) != 0 {
		return
	}
	ps := w.servingPeers()
	if len(ps) == 0 {
		return
	}
	cur := ps[0].ens.ClusterConfig()
	via := ps[w.rc.rng.IntN(len(ps))]
	var voters, observers []int64
	for _, s := range cur.Servers {
		if s.Observer {
			observers = append(observers, s.ID)
		} else {
			voters = append(voters, s.ID)
		}
	}
	var joiners []*simPeer
	for _, p := range w.peers {
		if _, member := serverOf(cur, p.id); !member && p.ens != nil && (p.servers != nil || p.ens.Status().RemovedBy != 0) {
			joiners = append(joiners, p) // joined, or removed and still running
		}
	}
	var req zk.ReconfigRequest
	what := ""
	kinds := 7
	if w.opts.OneVoter {
		kinds++ // without it a seed draws what it drew before
	}
	switch k := w.rc.rng.IntN(kinds); {
	case k == 0:
		w.joinSpare(cur)
		return
	case k == 1 && len(joiners) > 0:
		j := joiners[w.rc.rng.IntN(len(joiners))]
		s := w.rc.servers[j.id]
		req.Add, what = []zk.Server{s}, fmt.Sprintf("add %d observer=%v", s.ID, s.Observer)
		if j.ens.Status().RemovedBy != 0 {
			what = addBack + what // a removed server, still running
		}
	case k == 2 && (len(voters) > 3 || len(observers) > 0):
		id := observers
		if len(voters) > 3 && (len(observers) == 0 || w.rc.rng.IntN(2) == 0) {
			id = voters
		}
		gone := id[w.rc.rng.IntN(len(id))]
		req.Remove, what = []int64{gone}, fmt.Sprintf("remove %d", gone)
	case k == 3 && len(observers) > 0:
		id := observers[w.rc.rng.IntN(len(observers))]
		req.Add, what = []zk.Server{reconfigServer(id, false)}, fmt.Sprintf("promote %d", id)
	case k == 4 && len(voters) > 3:
		id := voters[w.rc.rng.IntN(len(voters))]
		req.Add, what = []zk.Server{reconfigServer(id, true)}, fmt.Sprintf("demote %d", id)
	case k == 5:
		// A change that must be refused: remove every participant.
		req.Remove, what = voters, "remove every participant"
	case k == 6 && len(joiners) > 0 && (len(voters) > 1 || w.opts.OneVoter && len(voters) == 1):
		req.Members, what = w.replaceVoters(cur, voters, joiners)
		if len(voters) == 1 {
			what = replaceLone + what
		}
	case k == 7 && len(voters) > 1:
		keep := voters[w.rc.rng.IntN(len(voters))]
		req.Remove = slices.DeleteFunc(slices.Clone(voters), func(id int64) bool { return id == keep })
		what = fmt.Sprintf("shrink to participant %d", keep)
	default:
		return
	}
	if w.rc.rng.IntN(4) == 0 {
		req.FromConfig = cur.Version // sometimes a stale one, when a change committed meanwhile
	}
	w.stats.Faults["reconfig"]++
	w.trace.line(w.now, "fault reconfig %s via=%d version=%#x", what, via.id, cur.Version)
	op := &opRecord{c: w.rc.admin, peer: via, kind: opReconfig, reconfig: req, path: what}
	w.launch(op)
	if !op.finished() {
		op.cancelTick = w.now + 400 // the admin gives up: the outcome is then unknown
	}
}

// replaceVoters is a whole new member list: up to two participants
// replaced by joiners (as participants), at once, or a lone participant
// (Options.OneVoter) replaced by one. Old and new quorums may then be
// disjoint: only the joint rule keeps two histories apart.
func (w *World) replaceVoters(cur zk.ClusterConfig, voters []int64, joiners []*simPeer) ([]zk.Server, string) {
	n := max(min(len(joiners), len(voters)-1, 2), 1)
	gone := slices.Clone(voters)
	w.rc.rng.Shuffle(len(gone), func(i, j int) { gone[i], gone[j] = gone[j], gone[i] })
	gone = gone[:n]
	members := slices.DeleteFunc(slices.Clone(cur.Servers), func(s zk.Server) bool { return slices.Contains(gone, s.ID) })
	var added []int64
	for _, j := range joiners[:n] {
		members = append(members, reconfigServer(j.id, false))
		w.rc.servers[j.id] = reconfigServer(j.id, false)
		added = append(added, j.id)
	}
	return members, fmt.Sprintf("replace %v by %v", gone, added)
}

// server returns the configuration's server id.
func serverOf(c zk.ClusterConfig, id int64) (zk.Server, bool) {
	for _, s := range c.Servers {
		if s.ID == id {
			return s, true
		}
	}
	return zk.Server{}, false
}

// joinSpare starts a dormant spare with cur plus itself, as a participant
// or an observer.
func (w *World) joinSpare(cur zk.ClusterConfig) {
	var dormant []*simPeer
	for _, p := range w.peers {
		if p.dormant {
			dormant = append(dormant, p)
		}
	}
	if len(dormant) == 0 {
		return
	}
	p := dormant[w.rc.rng.IntN(len(dormant))]
	s := reconfigServer(p.id, w.rc.rng.IntN(3) == 0)
	w.rc.servers[p.id] = s
	p.servers = append(slices.DeleteFunc(slices.Clone(cur.Servers), func(o zk.Server) bool { return o.ID == p.id }), s)
	p.dormant = false
	w.stats.Faults["join"]++
	if p.rejoin {
		w.stats.Faults["rejoin"]++ // of the joins, those with a kept disk
	}
	w.trace.line(w.now, "fault join peer=%d observer=%v servers=%d", p.id, s.Observer, len(p.servers))
	if err := w.start(p); err != nil {
		w.failf("%v", err)
	}
}

// addBack starts the description of a change that adds back a removed
// server that still runs; those that commit are counted.
const addBack = "back: "

// replaceLone starts the description of a change that replaces a lone
// participant by a joiner; those that commit are counted.
const replaceLone = "lone: "

// reconfigReturned notes how a change ended. A refusal (ZooKeeper's
// errors for a change that cannot be, or the peer not serving) is a
// definite failure.
func (w *World) reconfigReturned(op *opRecord) {
	switch {
	case errors.Is(op.err, zk.ErrBadArguments), errors.Is(op.err, zk.ErrBadVersion),
		errors.Is(op.err, zk.ErrReconfigInProgress), errors.Is(op.err, zk.ErrNewConfigNoQuorum),
		errors.Is(op.err, zk.ErrReconfigDisabled):
		op.out, op.errName = outFailed, "refused"
	}
	if op.out == outUnknown {
		cur, _ := w.committedConfig()
		for _, s := range slices.Concat(op.reconfig.Add, op.reconfig.Members) {
			if w.rc.mayAdd == nil {
				w.rc.mayAdd = map[int64]maybeAdded{}
			}
			w.rc.mayAdd[s.ID] = maybeAdded{version: cur.Version, epoch: w.newestEpoch()}
		}
	}
	if op.err == nil && strings.HasPrefix(op.path, addBack) {
		w.stats.Faults["add back"]++
	}
	if op.err == nil && strings.HasPrefix(op.path, replaceLone) {
		w.stats.Faults["replace lone"]++
	}
	if op.err == nil {
		w.rc.changes++
		w.rc.ticks = append(w.rc.ticks, w.now-op.callTick)
	} else {
		w.rc.refused++
	}
	op.c.op = nil
}

// retireDelay is how long a removed server keeps running before the
// world retires it: an operator decommissions it after the change, and
// meanwhile it serves as a non-voting member, tells peers that missed the
// commit that it happened, and may be added back.
const retireDelay = 150

// retireRemoved stops the peers a committed configuration removed, and the
// orphaned joiners (after retireDelay ticks, or at once with force); each
// comes back later, maybe, as a spare with an empty disk.
func (w *World) retireRemoved(force bool) {
	if !w.rc.on {
		return
	}
	for _, p := range w.live() {
		st := p.ens.Status()
		if p.busy != nil || (!st.Removed && st.RemovedBy == 0 && !w.orphaned(p)) || w.mayBeMember(p.id) {
			p.removedAt = 0
			w.rejoinStalled(p, st.Removed && p.busy == nil && w.mayBeMember(p.id))
			continue
		}
		if p.removedAt == 0 {
			p.removedAt = w.now
		}
		if !force && w.now-p.removedAt < retireDelay {
			continue
		}
		p.removedAt = 0
		w.trace.line(w.now, "retire peer=%d", p.id)
		w.stopPeer(p)
		// Alternate kept and wiped disks by a count, not a draw: the
		// random streams of a seed stay those it had before Rejoin.
		w.rc.retired++
		p.rejoin = w.rc.retired%2 == 0
		if !p.rejoin {
			p.fs = NewMemFS()
		}
		w.trace.line(w.now, "retired peer=%d rejoin=%v", p.id, p.rejoin)
		p.dormant, p.servers = true, nil
		p.claim.Store(0)
		p.lastApplied, p.lastDigest = 0, 0
		w.settle()
	}
}

// rejoinStalled plays the operator's remedy for the add-back stall: a
// server restarted while removed serves nothing (Status.Removed), and a
// change that may still commit adds it back, so that change waits for its
// vote and nothing is elected (zab's TestReconfigAddBackLostThenRejoin;
// ZooKeeper's server refuses to start then). After retireDelay ticks so
// (stalled), the world stops it cleanly and restarts it with its disk and
// zk.Config.Rejoin, listing the committed servers and itself, as the README
// tells an operator to.
func (w *World) rejoinStalled(p *simPeer, stalled bool) {
	if !stalled {
		p.stalledAt = 0
		return
	}
	if p.stalledAt == 0 {
		p.stalledAt = w.now
	}
	if w.now-p.stalledAt < retireDelay {
		return
	}
	p.stalledAt = 0
	cur, _ := w.committedConfig()
	p.servers = append(slices.DeleteFunc(slices.Clone(cur.Servers), func(o zk.Server) bool { return o.ID == p.id }), w.rc.servers[p.id])
	p.rejoin = true
	w.stats.Faults["operator rejoin"]++
	w.trace.line(w.now, "operator rejoin peer=%d", p.id)
	w.stopPeer(p)
	p.restartAt = w.now + 1
	w.settle()
}

// stopPeer stops p cleanly (its disk keeps everything) and cuts it from
// the network.
func (w *World) stopPeer(p *simPeer) {
	p.release()
	p.ens.Close()
	w.hookMu.Lock()
	p.ens, p.ready = nil, false
	w.hookMu.Unlock()
	w.net.Crash(p.id)
	if p.paused {
		p.paused = false
		w.net.Resume(p.id)
		delete(w.faults.pauses, p.id)
	}
}

// orphaned reports whether p is a joiner of a OneVoter run whose
// configuration lists as a participant no server of the committed one but
// itself: a replacement of a lone participant removed every member it
// knew, so once the removed servers are retired nobody can point it to the
// leader (its election writes to the participants it knows, as
// ZooKeeper's writes to the voters of its view), and an operator would
// restart it with the current members. The world retires it as it retires
// a removed server. (Runs without OneVoter keep at least one old
// participant in every change.)
func (w *World) orphaned(p *simPeer) bool {
	if !w.opts.OneVoter || p.servers == nil {
		return false
	}
	cur, ok := w.committedConfig()
	if !ok || w.mayBeMember(p.id) {
		return false
	}
	for _, s := range p.ens.ClusterConfig().Servers {
		if _, member := serverOf(cur, s.ID); member && s.ID != p.id && !s.Observer {
			return false
		}
	}
	return true
}

// mayBeMember reports whether server id is, or may become, a member
// although it knows itself removed: the committed history's configuration
// lists it (a reconfig added it back while it could not hear so), or a
// reconfig in flight or of unknown outcome adds it. An operator does not
// decommission such a server.
func (w *World) mayBeMember(id int64) bool {
	cur, ok := w.committedConfig()
	if !ok {
		return true // checkMembers reports it
	}
	if a, pending := w.rc.mayAdd[id]; pending {
		// Decided once another configuration commits (a leader proposes a
		// change only when none is pending), or once an entry of an epoch
		// two past the newest one then commits: the entry was proposed in
		// that epoch at the latest (or, forwarded again, in the next one),
		// and a leader of a later epoch committed its whole history at
		// establishment, which holds the entry or never will.
		if a.version == cur.Version && zab.EpochOf(w.ref.last) < a.epoch+2 {
			return true
		}
		delete(w.rc.mayAdd, id)
	}
	if op := w.rc.admin.op; op != nil && slices.ContainsFunc(slices.Concat(op.reconfig.Add, op.reconfig.Members), func(s zk.Server) bool { return s.ID == id }) {
		return true
	}
	_, member := serverOf(cur, id)
	return member
}

// newestEpoch is the newest epoch a leader served in so far.
func (w *World) newestEpoch() int64 {
	var e int64
	for epoch := range w.leaders {
		e = max(e, epoch)
	}
	return e
}

// committedConfig is the committed history's configuration (the static
// one before any reconfig); false if /zookeeper/config does not parse.
func (w *World) committedConfig() (zk.ClusterConfig, bool) {
	n, err := w.ref.tree.Get(znode.ConfigPath)
	if err != nil || len(n.Data) == 0 {
		return zk.ClusterConfig{Servers: w.servers}, true
	}
	c, err := zk.ParseClusterConfig(n.Data)
	return c, err == nil
}

// ReconfigStats is what the membership changes of a run did.
type ReconfigStats struct {
	Changes int     // reconfigs that returned OK (committed)
	Policy  int     // changes the membership policy made (Options.Policy)
	Refused int     // that returned an error (refused, or outcome unknown)
	Ticks   []int64 // ticks each committed change took, from the call to its return
	// OneVoter is how many committed configurations had one participant
	// (Options.OneVoter); set by the run's final checks.
	OneVoter int
}

func (r ReconfigStats) String() string {
	return fmt.Sprintf("%d committed, %d refused or unknown, %d by the policy, %d of one participant, ticks %v", r.Changes, r.Refused, r.Policy, r.OneVoter, r.Ticks)
}

func (rc *rcState) stats() ReconfigStats {
	return ReconfigStats{Changes: rc.changes, Refused: rc.refused, Policy: rc.policy, OneVoter: rc.oneVoter, Ticks: slices.Clone(rc.ticks)}
}

// participants counts the servers that are not observers.
func participants(ss []zk.Server) int { return len(voterIDs(ss)) }

// voterIDs returns the ids of the servers that are not observers.
func voterIDs(ss []zk.Server) []int64 {
	var ids []int64
	for _, s := range ss {
		if !s.Observer {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// matchReconfigs: every acknowledged reconfig committed its configuration
// within the call; every other committed /zookeeper/config txn was asked
// for by a reconfig call of unknown outcome made before it, but the one
// that writes the static configuration (the first leader's housekeeping
// setData, ReqID 0, expecting version 0), committed at most once and before
// any reconfig, and, with Options.Policy, the leader's own replacements
// of a voter (ReqID 0, any version; policyChange checks each); none that
// definitely failed committed.
func (w *World) matchReconfigs() {
	var txns []*refTxn
	prev := w.servers
	for _, t := range w.ref.chain {
		if t.failed || t.en.Txn.Path != znode.ConfigPath {
			continue
		}
		cur := prev
		if c, err := zk.ParseClusterConfig(t.en.Txn.Data); err == nil {
			cur = c.Servers
			if participants(cur) == 1 {
				w.rc.oneVoter++
			}
		}
		before := prev
		prev = cur
		if t.en.ReqID == 0 && t.en.Txn.Type == znode.TxnSetData && t.en.Txn.Version == -1 {
			if err := policyChange(before, cur); w.opts.Policy == 0 || err != nil {
				w.failf("configuration %#x committed as the leader's own change: %v (policy %d)", t.zxid, err, w.opts.Policy)
			}
			w.rc.policy++
			t.matched = true
			txns = append(txns, t)
			continue
		}
		if t.en.ReqID == 0 && t.en.Txn.Type == znode.TxnSetData && t.en.Txn.Version == 0 {
			if len(txns) > 0 {
				w.failf("the static configuration written at %#x, after a reconfig or a first write at %#x", t.zxid, txns[0].zxid)
			}
			t.matched = true
			txns = append(txns, t)
			continue
		}
		txns = append(txns, t)
	}
	var unknown []*opRecord
	for _, op := range w.history {
		switch {
		case op.kind != opReconfig:
		case op.out == outOK:
			i := slices.IndexFunc(txns, func(t *refTxn) bool { return !t.matched && t.first > op.call && t.first < op.ret })
			if i < 0 {
				w.failf("%v was acknowledged, but no reconfig committed during the call", op)
				continue
			}
			txns[i].matched = true
		case op.out == outUnknown:
			unknown = append(unknown, op)
		}
	}
	for _, t := range txns {
		if t.matched {
			continue
		}
		i := slices.IndexFunc(unknown, func(op *opRecord) bool { return op.call < t.first })
		if i < 0 {
			w.failf("reconfig %#x committed, but no reconfig call that may have asked for it was made", t.zxid)
			continue
		}
		t.matched = true
		unknown = slices.Delete(unknown, i, i+1)
	}
}

// checkMembers: every running peer's configuration (ClusterConfig, what a
// leader computes the next change from) is the committed history's
// /zookeeper/config, however the peer got there (applied the entry, or a
// snapshot that holds it).
func (w *World) checkMembers() {
	n, err := w.ref.tree.Get(znode.ConfigPath)
	if !w.rc.on || err != nil || len(n.Data) == 0 {
		return
	}
	want, err := zk.ParseClusterConfig(n.Data)
	if err != nil {
		w.failf("the committed %s does not parse: %v", znode.ConfigPath, err)
		return
	}
	for _, p := range w.live() {
		if got := p.ens.ClusterConfig(); !p.ens.Status().Removed && got.Text() != want.Text() {
			w.failf("peer %d's configuration is %q, the committed one %q", p.id, got.Text(), want.Text())
		}
	}
}

// policyChange checks that next is prev with one voter demoted and one
// observer promoted, as the membership policy changes a configuration.
func policyChange(prev, next []zk.Server) error {
	if len(prev) != len(next) {
		return fmt.Errorf("%d servers became %d", len(prev), len(next))
	}
	demoted, promoted := 0, 0
	for _, s := range next {
		was, ok := serverOf(zk.ClusterConfig{Servers: prev}, s.ID)
		switch {
		case !ok:
			return fmt.Errorf("server %d was not a member", s.ID)
		case was.Observer && !s.Observer:
			promoted++
		case !was.Observer && s.Observer:
			demoted++
		}
	}
	if demoted != 1 || promoted != 1 {
		return fmt.Errorf("%d demoted and %d promoted, want one of each", demoted, promoted)
	}
	return nil
}
