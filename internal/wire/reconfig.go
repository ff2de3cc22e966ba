package wire

import (
	"fmt"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// reconfig runs ZooKeeper's reconfig request on the peer's
// Ensemble.Reconfig (which forwards it to the leader) and answers as
// ZooKeeper does: the new configuration's text and /zookeeper/config's
// Stat. It is refused, in this order, with RECONFIGDISABLED when the peer's
// reconfigEnabled is off; BADARGUMENTS for a request that does not parse
// (engine.ParseReconfig; ZooKeeper answers MARSHALLINGERROR to a server id
// that is not a number); BADVERSION for a
// curConfigId of 0 once the configuration has a version, which it has from
// the first leader on, as in ZooKeeper (the engine reads 0 as "any"); NOAUTH unless the session may write
// /zookeeper/config, whose ACL is world:anyone READ, so in practice unless
// it is the super user (ZooKeeper's PrepRequestProcessor checks WRITE on
// that node; zk has no skipACL); then whatever the leader refuses:
// RECONFIGINPROGRESS, BADVERSION, BADARGUMENTS, NEWCONFIGNOQUORUM.
// ZooKeeper checks the ACL last, so a client that may not reconfig learns
// here less about why its change would have failed.
func (c *conn) reconfig(r *jute.ReconfigRequest) (jute.Record, error) {
	if !c.s.cfg.ReconfigEnabled {
		return nil, fmt.Errorf("%w: reconfigEnabled is false on this peer", zkerr.ErrReconfigDisabled)
	}
	req, err := engine.ParseReconfig(deref(r.JoiningServers), deref(r.LeavingServers), deref(r.NewMembers))
	if err != nil {
		return nil, err
	}
	if r.CurConfigID != -1 {
		if r.CurConfigID == 0 && c.s.ens.ClusterConfig().Version != 0 {
			return nil, fmt.Errorf("%w: reconfig from version 0: the configuration is at version %x", zkerr.ErrBadVersion, c.s.ens.ClusterConfig().Version)
		}
		req.FromConfig = r.CurConfigID
	}
	ok, err := c.sess.Allowed(c.ctx, znode.ConfigPath, znode.PermWrite)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: reconfig needs WRITE on %s (the super user)", zkerr.ErrNoAuth, znode.ConfigPath)
	}
	cfg, err := c.s.ens.Reconfig(c.ctx, req)
	if err != nil {
		return nil, err
	}
	_, st, err := c.sess.GetRemote(c.ctx, znode.ConfigPath, nil)
	if err != nil {
		return nil, err
	}
	return &jute.GetDataResponse{Data: []byte(cfg.Text()), Stat: toStat(st)}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
