package recipes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/embedzk/zk"
)

// CreateProtected is Curator's create().withProtection(): it creates a
// node named "_c_<uuid>-<name>" (and a sequence number if mode is
// sequential) in path's parent, name being path's last component. When
// the outcome of a try is unknown (the peer stopped serving, a write in
// flight), the node is looked for by its marker once a later write of the
// session settled the earlier ones, and created again only if the try did
// not happen: never twice. Missing parents are created as containers.
// If ctx ends, or an error ends the attempt, while a try's outcome is
// unknown, the node is deleted if it was made (at once, else in the
// background until the session ends), so an error means no node.
// opts may set an ACL or a TTL (WithParents and WithStat do not apply).
func (c *Client) CreateProtected(ctx context.Context, path string, data []byte, mode zk.CreateMode, opts ...zk.CreateOption) (string, error) {
	if err := checkPath("create protected", path); err != nil {
		return "", err
	}
	if mode == zk.ModeContainer {
		return "", fmt.Errorf("recipes: create protected %s: %w: a container cannot be protected", path, zk.ErrBadArguments)
	}
	if ctx == nil {
		return "", fmt.Errorf("recipes: create protected %s: %w: nil context", path, zk.ErrBadArguments)
	}
	if err := c.Err(); err != nil {
		return "", fmt.Errorf("recipes: create protected %s: %w", path, err)
	}
	dir, name := parentPath(path), path[strings.LastIndexByte(path, '/')+1:]
	got, err := c.createProtected(ctx, dir, zk.ModeContainer, name, data, mode, opts...)
	if err != nil {
		return "", fmt.Errorf("recipes: create protected %s: %w", path, err)
	}
	return got, nil
}

// DeleteGuaranteed is Curator's delete().guaranteed(): it deletes path
// (any version), retrying while ctx lasts, then in the Client's
// background until the delete happens or the session ends (an ephemeral
// node goes with its session anyway). It returns nil once the node is gone
// (or was missing) or the delete is handed to the background; an error
// that retrying cannot cure (zk.ErrNotEmpty, zk.ErrNoAuth) is returned at
// once.
func (c *Client) DeleteGuaranteed(ctx context.Context, path string) error {
	if err := checkPath("delete guaranteed", path); err != nil {
		return err
	}
	if ctx == nil {
		return fmt.Errorf("recipes: delete guaranteed %s: %w: nil context", path, zk.ErrBadArguments)
	}
	if err := c.Err(); err != nil {
		return fmt.Errorf("recipes: delete guaranteed %s: %w", path, err)
	}
	if err := c.guaranteedDelete(ctx, path); err != nil {
		return fmt.Errorf("recipes: delete guaranteed %s: %w", path, err)
	}
	return nil
}

// guaranteedDelete is deleteNode that reports an error no retry cures.
func (c *Client) guaranteedDelete(ctx context.Context, node string) error {
	var b backoff
	for {
		err := c.write(func() error { return c.conn.Delete(ctx, node, -1) })
		switch {
		case err == nil || errors.Is(err, zk.ErrNoNode):
			c.track(node, false)
			return nil
		case endedErr(c.conn.State()) != nil:
			return nil // the session ended: its ephemerals went with it
		case !transient(err) && ctx.Err() == nil:
			return err
		}
		if ctx.Err() != nil || c.pause(ctx, &b) != nil {
			c.deleteLater(node)
			return nil
		}
	}
}

// sequential reports whether mode appends a sequence number.
func sequential(mode zk.CreateMode) bool {
	switch mode {
	case zk.ModePersistentSequential, zk.ModeEphemeralSequential, zk.ModePersistentSequentialWithTTL:
		return true
	}
	return false
}

// createProtected creates dir/<marker>-name with mode: the general form of
// the contenders' create (Client.create), for any mode. A missing dir is
// created with dirMode, its ancestors as containers.
func (c *Client) createProtected(ctx context.Context, dir string, dirMode zk.CreateMode, name string, data []byte, mode zk.CreateMode, opts ...zk.CreateOption) (string, error) {
	marker := newMarker()
	path := dir + "/" + marker + "-" + name
	opts = append(opts[:len(opts):len(opts)], zk.WithMode(mode))
	var b backoff
	for {
		var got string
		err := c.write(func() (err error) {
			got, err = c.conn.Create(ctx, path, data, opts...)
			return err
		})
		switch {
		case err == nil:
			return got, nil
		case errors.Is(err, zk.ErrNoNode):
			if err := c.mkdirMode(ctx, dir, dirMode); err != nil {
				return "", err
			}
			continue
		case errors.Is(err, zk.ErrNodeExists) && !sequential(mode):
			return path, nil // the marker is ours: an earlier try happened
		case ctx.Err() != nil:
			c.abandon(dir, marker)
			return "", context.Cause(ctx)
		case !transient(err):
			return "", err
		}
		got, err = c.find(ctx, dir, marker, &b)
		if err != nil {
			c.abandon(dir, marker)
			return "", err
		}
		if got != "" {
			return got, nil
		}
	}
}

// createFixed creates the ephemeral node path (a name of the caller's,
// unique to it: a member's UUID or id) with data and returns its Stat. A
// try whose outcome is unknown is tried again: finding the node then,
// owned by this session and holding data, means it happened. Any other
// node is ErrNodeExists. A missing parent is created with dirMode, its
// ancestors as containers.
func (c *Client) createFixed(ctx context.Context, path string, dirMode zk.CreateMode, data []byte) (zk.Stat, error) {
	var b backoff
	for {
		var st zk.Stat
		err := c.write(func() error {
			_, err := c.conn.Create(ctx, path, data, zk.WithMode(zk.ModeEphemeral), zk.WithStat(&st))
			return err
		})
		switch {
		case err == nil:
			c.track(path, true)
			return st, nil
		case errors.Is(err, zk.ErrNoNode):
			if err := c.mkdirMode(ctx, parentPath(path), dirMode); err != nil {
				return zk.Stat{}, err
			}
			continue
		case errors.Is(err, zk.ErrNodeExists):
			res, rerr := c.conn.MultiRead(ctx, zk.GetDataOp(path))
			switch {
			case rerr != nil:
				err = rerr
			case res[0].Err == nil && res[0].Stat.EphemeralOwner == c.conn.ID() && bytes.Equal(res[0].Data, data):
				c.track(path, true)
				return res[0].Stat, nil
			case res[0].Err == nil:
				return zk.Stat{}, fmt.Errorf("%w: %s (session %#x)", zk.ErrNodeExists, path, res[0].Stat.EphemeralOwner)
			default:
				continue // gone meanwhile: try again
			}
		}
		if err := c.retryable(ctx, err, &b); err != nil {
			return zk.Stat{}, err
		}
	}
}

// settleDelete deletes node once the session's earlier writes are settled
// (a create of it whose outcome is unknown cannot happen afterwards), with
// a context of its own; failing that, in the background.
func (c *Client) settleDelete(node string) {
	ctx, cancel := context.WithTimeout(c.ctx, c.timeout)
	defer cancel()
	if c.barrier(ctx, parentPath(node)) == nil {
		c.deleteNode(ctx, node)
		return
	}
	i := strings.LastIndexByte(node, '/')
	c.sweepLater(node[:i], node[i+1:])
}
