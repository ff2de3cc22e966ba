package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/embedzk/zk/internal/entry"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/znode"
)

// ReconfigRequest is a membership change, as ZooKeeper's reconfig takes
// it: incremental (Add and Remove) or a whole new member list (Members).
type ReconfigRequest struct {
	// Add lists servers to add; a server already in the configuration
	// with another role or address is changed (an observer promoted to
	// participant, a participant demoted).
	Add []Server
	// Remove lists the ids of servers to remove.
	Remove []int64
	// Members, if set, is the whole new configuration (Add and Remove
	// must then be empty), with Groups and Weights for a hierarchical
	// quorum.
	Members []Server
	Groups  [][]int64
	Weights map[int64]int64
	// FromConfig, if not 0, is the version the change applies to
	// (ZooKeeper's -v): another version fails with ErrBadVersion.
	FromConfig int64
}

// Reconfig changes the ensemble's membership (ZooKeeper's reconfig) and
// returns the new configuration. It needs Config.ReconfigEnabled
// (ErrReconfigDisabled otherwise, as ZooKeeper). The change is a
// transaction ordered like any write: while it is pending every commit
// needs a quorum of the old and of the new configuration, then the new
// one alone governs; /zookeeper/config shows it. Refused: a change while
// another is in progress, or before the leader applied the last committed
// one (ErrReconfigInProgress), a new configuration of
// which no quorum is connected and synced with the leader
// (ErrNewConfigNoQuorum: start a new server, listing the current members
// and itself, before adding it), a bad request or a new configuration
// with fewer than 2 participants, 1 with StandaloneDisabled
// (ErrBadArguments, as ZooKeeper), a
// FromConfig that is not the current version (ErrBadVersion), a
// standalone peer (ErrUnimplemented, as ZooKeeper). Ids to remove that are
// not members are ignored, and a change with nothing to add or remove
// commits the same servers under a new version, as in ZooKeeper. A removed
// server keeps following and serving as a non-voting member, counted in no
// quorum (Status.RemovedBy), as ZooKeeper's does, until a reconfig adds it
// back or it stops; a leader that removes itself hands over to a leader the
// new voters elect, and follows it. Restarted while removed, a server
// serves nothing (Status.Removed); to add it back, restart it with
// Config.Rejoin (it keeps its DataDir and joins as a new server does; the
// leader syncs it) or with an empty DataDir, then add it with a reconfig.
// With Config.AuditEnabled its outcome is logged, operation=reconfig, as
// the host's: without session or ip, as the server's user (auditor.host).
func (e *Ensemble) Reconfig(ctx context.Context, req ReconfigRequest) (ClusterConfig, error) {
	cfg, err := e.reconfig(ctx, req)
	if e.audit != nil {
		e.audit.host("reconfig", err)
	}
	return cfg, err
}

// Reconfig is Ensemble.Reconfig without its audit event: the client
// protocol logs the reconfig request as its session's
// (RemoteSession.AuditReconfig), refusals of its own included.
func (r Remote) Reconfig(ctx context.Context, req ReconfigRequest) (ClusterConfig, error) {
	return r.e.reconfig(ctx, req)
}

// reconfig is Ensemble.Reconfig but for the audit log.
func (e *Ensemble) reconfig(ctx context.Context, req ReconfigRequest) (ClusterConfig, error) {
	if err := checkCtx(ctx); err != nil {
		return ClusterConfig{}, err
	}
	if !e.cfg.ReconfigEnabled {
		return ClusterConfig{}, fmt.Errorf("%w: reconfigEnabled is false", zkerr.ErrReconfigDisabled)
	}
	if e.cfg.standalone() {
		return ClusterConfig{}, fmt.Errorf("%w: reconfig: a standalone peer (no Servers) has no membership to change", zkerr.ErrUnimplemented)
	}
	if req.Members != nil && (req.Add != nil || req.Remove != nil) {
		return ClusterConfig{}, fmt.Errorf("%w: reconfig: Members with Add or Remove", zkerr.ErrBadArguments)
	}
	if err := e.errIfDown(); err != nil {
		return ClusterConfig{}, err
	}
	r := newRequest(reqReconfig, nil)
	r.reconfig = &req
	if err := e.submit(ctx, r); err != nil {
		return ClusterConfig{}, err
	}
	rep, err := r.wait(ctx)
	if err == nil {
		err = rep.err
	}
	if err == nil {
		err = rep.res.Err
	}
	if err != nil {
		return ClusterConfig{}, fmt.Errorf("zk: reconfig: %w", err)
	}
	if err := e.applied.wait(ctx, rep.zxid); err != nil {
		return ClusterConfig{}, err
	}
	return e.ClusterConfig(), nil
}

// ReconfigEnabled reports Config.ReconfigEnabled (the client protocol
// answers RECONFIGDISABLED before it looks at the request).
func (r Remote) ReconfigEnabled() bool { return r.e.cfg.ReconfigEnabled }

// ClusterConfig returns the configuration this peer has applied.
func (e *Ensemble) ClusterConfig() ClusterConfig {
	c := *e.members.Load()
	c.Servers = slices.Clone(c.Servers)
	c.Groups = cloneGroups(c.Groups)
	return c
}

// reconfigure runs on the peer loop: lead the change, or forward it.
func (p *peer) reconfigure(r *request) {
	if !p.zst.Serving {
		r.fail(zkerr.ErrNotServing)
		return
	}
	id := p.track(r)
	if p.leading() {
		res, proposed := p.proposeReconfig(p.cfg.ID, id, r.reconfig)
		if !proposed {
			delete(p.inflight, id)
			r.answer(reply{res: res, zxid: p.lastProposed})
		}
		r.sent = proposed // from now on a failure leaves the outcome unknown
		return
	}
	p.askLeader(r, &appMsg{Kind: appReconfig, ReqID: id, Reconfig: r.reconfig})
}

// askLeader sends msg, for the tracked request r, to the leader, stamped
// with the leader's epoch (a leader takes only its own); r fails at once
// if it cannot be sent, and is answered by the leader's appReply or by
// the apply of what it proposed.
func (p *peer) askLeader(r *request, msg *appMsg) {
	msg.Epoch = p.zst.Epoch
	b, err := encodeApp(msg)
	if err == nil {
		err = p.node.SendApp(0, b)
	}
	if err != nil {
		delete(p.inflight, msg.ReqID)
		r.fail(fmt.Errorf("%w: asking the leader: %v", zkerr.ErrNotServing, err))
		return
	}
	r.sent = true
}

// forwardedReconfig leads a change a follower forwarded; a failure is
// answered at once, a success by the follower's own apply.
func (p *peer) forwardedReconfig(from int64, msg *appMsg) {
	res := znode.Result{Err: zkerr.ErrNotServing}
	if p.leading() && msg.Reconfig != nil && msg.Epoch == p.zst.Epoch {
		var proposed bool
		if res, proposed = p.proposeReconfig(from, msg.ReqID, msg.Reconfig); proposed {
			return
		}
	}
	p.replyForwarded(from, msg.ReqID, res, "a forwarded reconfig")
}

// proposeReconfig builds the new configuration from the committed one and
// proposes it: a setData of /zookeeper/config, carried in the core's
// configuration entry. It reports false, with the failure, if nothing was
// proposed.
func (p *peer) proposeReconfig(origin int64, reqID uint64, req *ReconfigRequest) (znode.Result, bool) {
	fail := func(err error) (znode.Result, bool) { return znode.Result{Err: err}, false }
	if ci := p.node.Config(); ci.Pending != nil {
		return fail(fmt.Errorf("%w: configuration %#x is not committed yet", zkerr.ErrReconfigInProgress, ci.PendingVersion))
	}
	cur := p.e.ClusterConfig()
	if v := p.node.Config().Version; cur.Version != v {
		// The change is computed from what this peer applied: it must be
		// the committed configuration (its entry may be committed but not
		// applied yet).
		return fail(fmt.Errorf("%w: configuration %#x is committed, this peer applied %#x", zkerr.ErrReconfigInProgress, v, cur.Version))
	}
	if req.FromConfig != 0 && req.FromConfig != cur.Version {
		return fail(fmt.Errorf("%w: the configuration is at version %x, not %x", zkerr.ErrBadVersion, cur.Version, req.FromConfig))
	}
	next, err := nextConfig(cur, req, p.cfg.StandaloneDisabled)
	if err != nil {
		return fail(err)
	}
	return p.proposeConfigTxn(origin, reqID, next, -1)
}

// proposeConfigTxn proposes next, versioned by the zxid of its entry, as a
// setData of /zookeeper/config expecting version (-1: any) carried in the
// core's configuration entry. It reports false, with the failure, if
// nothing was proposed.
func (p *peer) proposeConfigTxn(origin int64, reqID uint64, next ClusterConfig, version int32) (znode.Result, bool) {
	fail := func(err error) (znode.Result, bool) { return znode.Result{Err: err}, false }
	next.Version = p.node.NextZxid()
	txn := &znode.Txn{Type: znode.TxnSetData, Path: znode.ConfigPath, Data: []byte(next.Text()), Version: version}
	res, digest := p.check(origin, txn, nil, true, false)
	if res.Err != nil {
		p.pending.Discard()
		return res, false
	}
	en := entry.Entry{Digest: digest, Origin: origin, ReqID: reqID, Txn: txn}
	payload, err := entry.Encode(en)
	var z int64
	if err == nil {
		z, err = p.node.ProposeConfig(next.membership(), payload)
	}
	if err == nil && z != next.Version {
		p.e.fail(fmt.Errorf("zk: pipeline out of step with the log: reconfig proposed as %#x, prepared as %#x", z, next.Version))
	}
	if err != nil {
		p.pending.Discard()
		return fail(reconfigErr(err))
	}
	kept := p.pending.Keep()
	p.e.obs.proposed(z)
	p.e.obs.props.Note(len(payload))
	p.lastProposed = z
	p.proposed[z] = proposal{en: en, kept: kept}
	p.cfg.Logger.Info("zk: configuration proposed", "version", fmt.Sprintf("%x", z), "config", next.Text())
	return znode.Result{}, true
}

// reconfigErr maps the core's refusal to ZooKeeper's error.
func reconfigErr(err error) error {
	switch {
	case errors.Is(err, zab.ErrReconfigInProgress):
		return fmt.Errorf("%w: %v", zkerr.ErrReconfigInProgress, err)
	case errors.Is(err, zab.ErrNewConfigNoQuorum):
		return fmt.Errorf("%w: %v", zkerr.ErrNewConfigNoQuorum, err)
	case errors.Is(err, zab.ErrBadMembership), errors.Is(err, zab.ErrTooLarge):
		return fmt.Errorf("%w: %v", zkerr.ErrBadArguments, err)
	}
	return fmt.Errorf("%w: %v", zkerr.ErrNotServing, err)
}

// nextConfig applies req to cur (no version yet) and checks the result;
// oneVoter allows a single participant (standaloneEnabled=false).
func nextConfig(cur ClusterConfig, req *ReconfigRequest, oneVoter bool) (ClusterConfig, error) {
	bad := func(format string, a ...any) (ClusterConfig, error) {
		return ClusterConfig{}, fmt.Errorf("%w: reconfig: %s", zkerr.ErrBadArguments, fmt.Sprintf(format, a...))
	}
	var next ClusterConfig
	if req.Members != nil {
		next = ClusterConfig{Servers: slices.Clone(req.Members), Groups: cloneGroups(req.Groups), Weights: req.Weights}
	} else {
		// As ZooKeeper: an id to remove that is not a member is ignored, and
		// a change with nothing to add or remove commits the same servers
		// under a new version.
		if cur.Groups != nil || cur.Weights != nil || req.Groups != nil || req.Weights != nil {
			return bad("a hierarchical quorum changes only as a whole new member list (Members, Groups, Weights)")
		}
		next.Servers = slices.DeleteFunc(slices.Clone(cur.Servers), func(s Server) bool {
			return slices.Contains(req.Remove, s.ID) || slices.ContainsFunc(req.Add, func(a Server) bool { return a.ID == s.ID })
		})
		next.Servers = append(next.Servers, req.Add...)
	}
	voters, err := checkServerList(next.Servers)
	if err != nil {
		return bad("%v", err)
	}
	switch {
	case voters < 2 && !oneVoter:
		// ZooKeeper's rule with standaloneEnabled, its default: a quorum
		// of one is a standalone server's business.
		return bad("the new configuration must include at least 2 participants (ZooKeeper: \"at least 2 followers\"), it has %d", voters)
	case voters < 1:
		return bad("the new configuration must include at least 1 participant (ZooKeeper: \"at least 1 follower\")")
	}
	if _, err := next.membership().Quorum(); err != nil {
		return bad("%v", err)
	}
	return next, nil
}

// configApplied publishes the configuration a committed reconfig made.
func (p *peer) configApplied(zxid int64, text []byte) {
	c, err := ParseClusterConfig(text)
	if err != nil {
		p.cfg.Logger.Error("zk: the applied configuration does not parse", "zxid", fmt.Sprintf("%#x", zxid), "err", err)
		return
	}
	p.e.members.Store(&c)
	p.cfg.Logger.Info("zk: configuration applied", "version", fmt.Sprintf("%x", c.Version))
	p.writeDynamicConfig(c)
	p.e.learnPeers(c)
}

// initConfig is ZooKeeper's initConfigInZKDatabase made a txn, whether
// or not reconfiguration is enabled: a leader that finds /zookeeper/config never written (no reconfig yet, and no
// leader did this before) proposes the static configuration, unchanged, as
// a configuration whose version is its entry's zxid, as ZooKeeper versions
// the first established configuration by the NEWLEADER zxid. Being a txn
// (the same configuration entry a reconfig makes, expecting data version
// 0 so that it can only ever write the node once), every peer applies the
// same bytes at the same zxid and keeps them in its snapshots and log: a
// restarted peer reads them back, a peer synced by snapshot gets them, a
// new server started with its own list of servers adopts the ensemble's,
// and the core's configuration version (Status.ConfigVersion) is the one
// /zookeeper/config shows.
func (p *peer) initConfig() {
	if p.cfg.standalone() {
		return // a standalone peer's /zookeeper/config stays empty
	}
	n, err := p.e.tree.Get(znode.ConfigPath)
	if err != nil || len(n.Data) > 0 || n.Stat.Version != 0 || p.node.Config().Pending != nil {
		return
	}
	if res, ok := p.proposeConfigTxn(p.cfg.ID, 0, p.e.ClusterConfig(), 0); !ok {
		p.cfg.Logger.Warn("zk: writing the static configuration in /zookeeper/config", "err", res.Err)
	}
}

// snapshotMembers publishes the configuration of a snapshot installed from
// the leader: the sync skipped the entries that made it, so no apply did.
func (p *peer) snapshotMembers() {
	before := p.e.ClusterConfig()
	if err := p.e.loadMembers(); err != nil {
		p.cfg.Logger.Error("zk: the snapshot's configuration", "err", err)
		return
	}
	c := p.e.ClusterConfig()
	if c.Version == before.Version && c.Text() == before.Text() {
		return
	}
	p.cfg.Logger.Info("zk: configuration from the leader's snapshot", "version", fmt.Sprintf("%x", c.Version))
	p.writeDynamicConfig(c)
	p.e.learnPeers(c)
}

// loadMembers sets the configuration in effect at the tree's applied zxid:
// /zookeeper/config's, once a reconfig wrote it, or the static one.
func (e *Ensemble) loadMembers() error {
	c := staticConfig(e.cfg)
	n, err := e.tree.Get(znode.ConfigPath)
	if err != nil {
		return fmt.Errorf("zk: reading %s: %w", znode.ConfigPath, err)
	}
	if len(n.Data) > 0 {
		if c, err = ParseClusterConfig(n.Data); err != nil {
			return fmt.Errorf("zk: %s: %w", znode.ConfigPath, err)
		}
	}
	e.members.Store(&c)
	return nil
}

// decodeLogEntry decodes a log entry's payload: a client's or
// housekeeping txn, or the setData of /zookeeper/config a configuration
// entry carries (every reader of the log but the apply loop uses it).
func decodeLogEntry(data []byte) (entry.Entry, error) {
	if _, payload, ok, err := zab.DecodeConfigEntry(data); ok {
		if err != nil {
			return entry.Entry{}, err
		}
		data = payload
	}
	return entry.Decode(data)
}
