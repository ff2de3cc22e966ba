package zkclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
)

func toStat(s jute.Stat) zk.Stat {
	return zk.Stat{
		Czxid: s.Czxid, Mzxid: s.Mzxid, Pzxid: s.Pzxid, Ctime: s.Ctime, Mtime: s.Mtime,
		Version: s.Version, Cversion: s.Cversion, Aversion: s.Aversion,
		EphemeralOwner: s.EphemeralOwner, DataLength: s.DataLength, NumChildren: s.NumChildren,
	}
}

func toACL(acl []zk.ACL) []jute.ACL {
	if acl == nil {
		return nil
	}
	out := make([]jute.ACL, len(acl))
	for i, a := range acl {
		out[i] = jute.ACL{Perms: int32(a.Perms), ID: jute.Id{Scheme: a.Scheme, ID: a.ID}}
	}
	return out
}

func fromACL(acl []jute.ACL) []zk.ACL {
	out := make([]zk.ACL, len(acl))
	for i, a := range acl {
		out[i] = zk.ACL{Perms: zk.Perm(a.Perms), Scheme: a.ID.Scheme, ID: a.ID.ID}
	}
	return out
}

// copyBytes copies a decoded buffer (nil stays nil).
func copyBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// Create creates a node: create2 for the plain and sequential modes,
// createContainer for a container, createTTL (ttl > 0) for the TTL modes.
// It returns the created path (with its sequence number) and its Stat.
func (c *Client) Create(ctx context.Context, path string, data []byte, acl []zk.ACL, mode zk.CreateMode, ttl time.Duration) (string, zk.Stat, error) {
	req := &jute.CreateRequest{Path: c.server(path), Data: data, ACL: toACL(acl), Flags: int32(mode)}
	op := jute.OpCreate2
	switch mode {
	case zk.ModeContainer:
		op = jute.OpCreateContainer
	case zk.ModePersistentWithTTL, zk.ModePersistentSequentialWithTTL:
		op, req.TTL, req.HasTTL = jute.OpCreateTTL, ttl.Milliseconds(), true
	}
	var resp jute.Create2Response
	if _, err := c.do(ctx, op, req, &resp, nil); err != nil {
		return "", zk.Stat{}, err
	}
	return c.client(resp.Path), toStat(resp.Stat), nil
}

// Delete deletes a node at version (-1: any).
func (c *Client) Delete(ctx context.Context, path string, version int32) error {
	_, err := c.do(ctx, jute.OpDelete, &jute.PathVersionRequest{Path: c.server(path), Version: version}, nil, nil)
	return err
}

// Exists returns whether path exists and its Stat; with watch it leaves a
// watch (a data watch on a node, an exist watch on a missing one).
func (c *Client) Exists(ctx context.Context, path string, watch bool) (bool, zk.Stat, error) {
	var resp jute.StatResponse
	var reg func(int32)
	if watch {
		reg = c.registrar(c.server(path), "exists")
	}
	_, err := c.do(ctx, jute.OpExists, &jute.PathWatchRequest{Path: c.server(path), Watch: watch}, &resp, reg)
	if errors.Is(err, zk.ErrNoNode) {
		return false, zk.Stat{}, nil
	}
	if err != nil {
		return false, zk.Stat{}, err
	}
	return true, toStat(resp.Stat), nil
}

// Get returns a node's data and Stat; with watch it leaves a data watch.
func (c *Client) Get(ctx context.Context, path string, watch bool) ([]byte, zk.Stat, error) {
	var resp jute.GetDataResponse
	var reg func(int32)
	if watch {
		reg = c.registrar(c.server(path), "data")
	}
	if _, err := c.do(ctx, jute.OpGetData, &jute.PathWatchRequest{Path: c.server(path), Watch: watch}, &resp, reg); err != nil {
		return nil, zk.Stat{}, err
	}
	return copyBytes(resp.Data), toStat(resp.Stat), nil
}

// Set replaces a node's data at version (-1: any).
func (c *Client) Set(ctx context.Context, path string, data []byte, version int32) (zk.Stat, error) {
	var resp jute.StatResponse
	if _, err := c.do(ctx, jute.OpSetData, &jute.SetDataRequest{Path: c.server(path), Data: data, Version: version}, &resp, nil); err != nil {
		return zk.Stat{}, err
	}
	return toStat(resp.Stat), nil
}

// Children returns a node's children (getChildren2) and Stat; with watch
// it leaves a child watch.
func (c *Client) Children(ctx context.Context, path string, watch bool) ([]string, zk.Stat, error) {
	var resp jute.GetChildren2Response
	var reg func(int32)
	if watch {
		reg = c.registrar(c.server(path), "child")
	}
	if _, err := c.do(ctx, jute.OpGetChildren2, &jute.PathWatchRequest{Path: c.server(path), Watch: watch}, &resp, reg); err != nil {
		return nil, zk.Stat{}, err
	}
	return resp.Children, toStat(resp.Stat), nil
}

// GetACL returns a node's ACL and Stat.
func (c *Client) GetACL(ctx context.Context, path string) ([]zk.ACL, zk.Stat, error) {
	var resp jute.GetACLResponse
	if _, err := c.do(ctx, jute.OpGetACL, &jute.PathRequest{Path: c.server(path)}, &resp, nil); err != nil {
		return nil, zk.Stat{}, err
	}
	return fromACL(resp.ACL), toStat(resp.Stat), nil
}

// SetACL replaces a node's ACL at aversion (-1: any).
func (c *Client) SetACL(ctx context.Context, path string, acl []zk.ACL, version int32) (zk.Stat, error) {
	var resp jute.StatResponse
	req := &jute.SetACLRequest{Path: c.server(path), ACL: toACL(acl), Version: version}
	if _, err := c.do(ctx, jute.OpSetACL, req, &resp, nil); err != nil {
		return zk.Stat{}, err
	}
	return toStat(resp.Stat), nil
}

// AddAuth adds credentials to the session and waits for the server's
// answer. A refusal (zk.ErrAuthFailed) ends the session, as ZooKeeper's
// server closes the connection. Accepted credentials are sent again on
// every reconnect.
func (c *Client) AddAuth(ctx context.Context, scheme string, auth []byte) error {
	pkt := jute.AuthPacket{Scheme: scheme, Auth: auth}
	_, err := c.do(ctx, jute.OpAuth, &pkt, nil, nil)
	if err == nil && c.State() == StateAuthFailed {
		err = fmt.Errorf("zkclient: %w", zk.ErrAuthFailed)
	}
	if err == nil {
		c.mu.Lock()
		c.auths = append(c.auths, pkt)
		c.mu.Unlock()
	}
	return err
}

// Identity is one of the session's identities, as whoAmI reports it.
type Identity struct {
	Scheme, User string
}

// WhoAmI returns the session's identities.
func (c *Client) WhoAmI(ctx context.Context) ([]Identity, error) {
	var resp jute.WhoAmIResponse
	if _, err := c.do(ctx, jute.OpWhoAmI, nil, &resp, nil); err != nil {
		return nil, err
	}
	out := make([]Identity, len(resp.ClientInfo))
	for i, ci := range resp.ClientInfo {
		out[i] = Identity{Scheme: ci.AuthScheme, User: ci.User}
	}
	return out, nil
}

// Sync waits until the server has every write committed before it.
func (c *Client) Sync(ctx context.Context, path string) error {
	_, err := c.do(ctx, jute.OpSync, &jute.PathRequest{Path: c.server(path)}, &jute.PathRequest{}, nil)
	return err
}

// AddWatch sets a persistent watch (recursive: on the whole subtree).
func (c *Client) AddWatch(ctx context.Context, path string, recursive bool) error {
	mode := jute.AddWatchPersistent
	if recursive {
		mode = jute.AddWatchPersistentRecursive
	}
	sp := c.server(path)
	reg := func(code int32) {
		if code != 0 {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if recursive {
			c.watches.recursive[sp] = true
		} else {
			c.watches.persistent[sp] = true
		}
	}
	var resp jute.ErrorResponse
	_, err := c.do(ctx, jute.OpAddWatch, &jute.AddWatchRequest{Path: sp, Mode: mode}, &resp, reg)
	return err
}

// RemoveWatches removes the session's watches of type typ on path, then
// the client's registrations, queueing their removal events; zk.ErrNoWatcher
// if there were none.
func (c *Client) RemoveWatches(ctx context.Context, path string, typ zk.WatcherType) error {
	_, err := c.do(ctx, jute.OpRemoveWatches, &jute.WatchesRequest{Path: c.server(path), Type: int32(typ)}, nil, nil)
	if err != nil {
		return err
	}
	if !c.removed(c.server(path), typ) {
		return fmt.Errorf("zkclient: %w", zk.ErrNoWatcher)
	}
	return nil
}

// Ephemerals lists the session's ephemeral nodes whose paths start with
// prefix.
func (c *Client) Ephemerals(ctx context.Context, prefix string) ([]string, error) {
	var resp jute.StringsResponse
	if _, err := c.do(ctx, jute.OpGetEphemerals, &jute.PathRequest{Path: prefix}, &resp, nil); err != nil {
		return nil, err
	}
	return resp.Strings, nil
}

// AllChildrenNumber counts the nodes below path.
func (c *Client) AllChildrenNumber(ctx context.Context, path string) (int64, error) {
	var resp jute.IntResponse
	if _, err := c.do(ctx, jute.OpGetAllChildrenNumber, &jute.PathRequest{Path: c.server(path)}, &resp, nil); err != nil {
		return 0, err
	}
	return int64(resp.N), nil
}

// DeleteAll deletes paths, in order, in one multi (any version): all or
// none. A failed op's error is the multi's.
func (c *Client) DeleteAll(ctx context.Context, paths []string) error {
	req := &jute.MultiRequest{Ops: make([]jute.MultiOp, len(paths))}
	for i, p := range paths {
		req.Ops[i] = jute.MultiOp{Type: jute.OpDelete, Path: c.server(p), Version: -1}
	}
	var resp jute.MultiResponse
	_, err := c.do(ctx, jute.OpMulti, req, &resp, nil)
	if err != nil {
		return err
	}
	// The op that failed has its code; those after it say
	// RuntimeInconsistency.
	var first int32
	for _, r := range resp.Results {
		if r.Type != jute.OpError || r.Err == 0 {
			continue
		}
		if r.Err != int32(zkerr.CodeRuntimeInconsistency) {
			return codeErr(r.Err)
		}
		if first == 0 {
			first = r.Err
		}
	}
	if first != 0 {
		return codeErr(first)
	}
	return nil
}

// codeErr is the sentinel error of a ZooKeeper error code.
func codeErr(code int32) error {
	return fmt.Errorf("zkclient: %w", zkerr.FromCode(zkerr.Code(code)))
}

// Reconfig sends ZooKeeper's reconfig request (ZooKeeperAdmin.reconfigure):
// joining and leaving for an incremental change, members for a whole new
// list; nil sends null, as zkCli leaves the options not given. version is
// the configuration the change applies to, -1 for any. It returns the new
// configuration's text and /zookeeper/config's Stat.
func (c *Client) Reconfig(ctx context.Context, joining, leaving, members *string, version int64) ([]byte, zk.Stat, error) {
	var resp jute.GetDataResponse
	req := &jute.ReconfigRequest{JoiningServers: joining, LeavingServers: leaving, NewMembers: members, CurConfigID: version}
	if _, err := c.do(ctx, jute.OpReconfig, req, &resp, nil); err != nil {
		return nil, zk.Stat{}, err
	}
	return copyBytes(resp.Data), toStat(resp.Stat), nil
}
