package wire

import (
	"fmt"
	"strings"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// reconfig runs ZooKeeper's reconfig request on the peer's
// Ensemble.Reconfig (which forwards it to the leader) and answers as
// ZooKeeper does: the new configuration's text and /zookeeper/config's
// Stat. The refusals, their order and how they differ from ZooKeeper's are
// in doc.go (# Reconfig). Its outcome goes to the audit log
// (Config.AuditEnabled), as ZooKeeper logs every reconfig request.
func (c *conn) reconfig(r *jute.ReconfigRequest) (jute.Record, error) {
	rec, err := c.runReconfig(r)
	c.sess.AuditReconfig(err)
	return rec, err
}

// runReconfig is reconfig but for the audit log.
func (c *conn) runReconfig(r *jute.ReconfigRequest) (jute.Record, error) {
	if !c.s.cfg.ReconfigEnabled {
		return nil, fmt.Errorf("%w: reconfigEnabled is false on this peer", zkerr.ErrReconfigDisabled)
	}
	if len(c.s.cfg.Servers) == 0 {
		// Before the version, as ZooKeeper answers a server that does
		// not lead a quorum.
		return nil, fmt.Errorf("%w: reconfig: a standalone peer has no membership to change", zkerr.ErrUnimplemented)
	}
	if err := c.checkConfigVersion(r.CurConfigID); err != nil {
		return nil, err
	}
	if r.NewMembers != nil && strings.TrimSpace(strings.ReplaceAll(*r.NewMembers, ",", "")) == "" {
		// A new member list that lists nobody (ZooKeeper: fewer than 2
		// participants), not the empty incremental change a null one is.
		return nil, fmt.Errorf("%w: reconfig: the new member list is empty", zkerr.ErrBadArguments)
	}
	req, err := engine.ParseReconfig(deref(r.JoiningServers), deref(r.LeavingServers), deref(r.NewMembers))
	if err != nil {
		return nil, err
	}
	if r.CurConfigID != -1 {
		req.FromConfig = r.CurConfigID // the leader checks it again
	}
	ok, err := c.sess.Allowed(c.ctx, znode.ConfigPath, znode.PermWrite)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: reconfig needs WRITE on %s (the super user)", zkerr.ErrNoAuth, znode.ConfigPath)
	}
	cfg, err := c.s.e.Reconfig(c.ctx, req)
	if err != nil {
		return nil, err
	}
	_, st, err := c.sess.GetRemote(c.ctx, znode.ConfigPath, nil)
	if err != nil {
		return nil, err
	}
	return &jute.GetDataResponse{Data: []byte(cfg.Text()), Stat: toStat(st)}, nil
}

// checkConfigVersion refuses a curConfigId (-1: any) that is not the
// configuration's version with BADVERSION, before the request's strings
// and its ACL are looked at, as ZooKeeper's leader checks it. A version
// this peer does not hold is compared again after a sync round, so a peer
// that has not applied the latest reconfig yet does not refuse it. (Any
// client may cause that sync round, as any client may send sync.)
func (c *conn) checkConfigVersion(id int64) error {
	if id == -1 {
		return nil
	}
	have := c.s.ens.ClusterConfig().Version
	if id != have {
		if err := c.s.e.SyncApplied(c.ctx); err != nil {
			return err
		}
		have = c.s.ens.ClusterConfig().Version
	}
	if id != have {
		return fmt.Errorf("%w: reconfig from version %x: the configuration is at version %x", zkerr.ErrBadVersion, id, have)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
