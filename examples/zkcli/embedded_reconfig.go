package main

import (
	"context"
	"fmt"

	"github.com/embedzk/zk"
)

// configPath is ZooKeeper's configuration node.
const configPath = "/zookeeper/config"

// Reconfig changes the embedded peer's membership with Ensemble.Reconfig,
// refused as a ZooKeeper server refuses it (and as zk's client port does):
// ErrReconfigDisabled unless the peer has ReconfigEnabled, ErrBadArguments
// for strings that do not parse (zk.ParseReconfig), ErrBadVersion for
// version 0 once a reconfig made the version non-zero, ErrNoAuth unless
// the session may write /zookeeper/config (the super user), then what the
// ensemble refuses.
func (c *embeddedConn) Reconfig(ctx context.Context, joining, leaving, members *string, version int64) ([]byte, zk.Stat, error) {
	if !c.peer.reconfig {
		return nil, zk.Stat{}, fmt.Errorf("%w: the embedded peer runs without reconfigEnabled", zk.ErrReconfigDisabled)
	}
	req, err := zk.ParseReconfig(deref(joining), deref(leaving), deref(members))
	if err != nil {
		return nil, zk.Stat{}, err
	}
	if version != -1 {
		if cur := c.peer.ens.ClusterConfig().Version; version == 0 && cur != 0 {
			return nil, zk.Stat{}, fmt.Errorf("%w: the configuration is at version %x", zk.ErrBadVersion, cur)
		}
		req.FromConfig = version
	}
	if err := c.mayReconfig(ctx); err != nil {
		return nil, zk.Stat{}, err
	}
	cfg, err := c.peer.ens.Reconfig(ctx, req)
	if err != nil {
		return nil, zk.Stat{}, err
	}
	_, st, err := c.sess.Get(ctx, configPath)
	if err != nil {
		return nil, zk.Stat{}, err
	}
	return []byte(cfg.Text()), st, nil
}

// mayReconfig is ZooKeeper's rule: WRITE on /zookeeper/config, whose ACL
// lets only the super user write unless the super user changed it. A
// digest identity granted WRITE there without ADMIN is refused here (its
// ACL reads masked, "user:x", through the public API), where zk's client
// port lets it through.
func (c *embeddedConn) mayReconfig(ctx context.Context) error {
	acl, _, err := c.sess.GetACL(ctx, configPath)
	if err != nil {
		return err
	}
	ids := c.sess.Identities()
	for _, id := range ids {
		if id.Scheme == "super" {
			return nil
		}
	}
	for _, a := range acl {
		if a.Perms&zk.PermWrite == 0 {
			continue
		}
		if a.Scheme == "world" && a.ID == "anyone" {
			return nil
		}
		for _, id := range ids {
			if id.Scheme == a.Scheme && id.ID == a.ID {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: reconfig needs WRITE on %s", zk.ErrNoAuth, configPath)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
