package recipes

import (
	"context"
	"errors"
	"fmt"

	"github.com/embedzk/zk"
)

// The counters' writes are conditional (a version, or "create if
// missing"), and a conditional write whose outcome is unknown cannot be
// tried again blindly: if it happened, the second try fails its condition
// and an increment that happened would be reported as not done, or done
// twice by the caller's retry. Curator's DistributedAtomicLong retries
// and may count an increment twice. Here each write carries, in the same
// transaction, the create of an ephemeral marker child of the counter
// ("_c_<uuid>"): once a later write of the session settled the earlier
// ones, the marker's presence says whether the write happened. The
// marker is deleted afterwards in the background (one more commit, off
// the caller's path); the session's end deletes it too.

// errConflict: the write's condition failed (another writer came first);
// it wraps zk.ErrBadVersion, zk.ErrNodeExists or zk.ErrNoNode.
var errConflict = errors.New("recipes: condition failed")

// versionedWrite writes data to path if its version is version (-1: any),
// or creates path with data if create (parents as containers). It returns
// the version written, an error wrapping errConflict if the condition
// failed, or the error that ended it. Unknown outcomes are resolved.
func (c *Client) versionedWrite(ctx context.Context, path string, data []byte, version int32, create bool) (int32, error) {
	marker := path + "/" + newMarker()
	op := zk.SetOp(path, data, version)
	if create {
		op = zk.CreateOp(path, data)
	}
	var b backoff
	for {
		var res []zk.OpResult
		err := c.write(func() (err error) {
			res, err = c.conn.Multi(ctx, op, zk.CreateOp(marker, nil, zk.WithMode(zk.ModeEphemeral)))
			return err
		})
		switch {
		case err == nil:
			c.deleteLater(marker)
			return res[0].Stat.Version, nil
		case create && errors.Is(err, zk.ErrNoNode) && len(res) > 0 && res[0].Err != nil:
			if err := c.mkdir(ctx, parentPath(path)); err != nil {
				return 0, err
			}
			continue
		case errors.Is(err, zk.ErrBadVersion), errors.Is(err, zk.ErrNodeExists), errors.Is(err, zk.ErrNoNode):
			if len(res) > 1 && res[1].Err != nil && res[0].Err == nil {
				return 0, err // the marker failed, not the condition: e.g. an ephemeral counter
			}
			return 0, fmt.Errorf("%w: %w", errConflict, err)
		case !transient(err):
			return 0, err
		}
		happened, err := c.resolve(ctx, path, marker, &b)
		switch {
		case err != nil:
			c.sweepLater(path, marker[len(path)+1:])
			return 0, fmt.Errorf("%w: %w", zk.ErrOutcomeUnknown, err)
		case happened:
			c.deleteLater(marker)
			if create {
				return 0, nil
			}
			return version + 1, nil
		}
	}
}

// resolve says whether the write that carried marker happened: after a
// barrier write (the session's earlier writes have then happened or never
// will), the marker exists if and only if it did.
func (c *Client) resolve(ctx context.Context, path, marker string, b *backoff) (bool, error) {
	for {
		if err := c.pause(ctx, b); err != nil {
			return false, err
		}
		err := c.barrier(ctx, path)
		if err == nil {
			var res []zk.ReadResult
			if res, err = c.conn.MultiRead(ctx, zk.GetDataOp(marker)); err == nil {
				return res[0].Err == nil, nil
			}
		}
		if ctx.Err() != nil {
			return false, context.Cause(ctx)
		}
		if !transient(err) {
			return false, err
		}
	}
}

// readNode reads path's data and Stat (found false if it does not exist),
// retrying while the peer is not serving.
func (c *Client) readNode(ctx context.Context, path string) ([]byte, zk.Stat, bool, error) {
	var b backoff
	for {
		res, err := c.conn.MultiRead(ctx, zk.GetDataOp(path))
		if err == nil {
			r := res[0]
			switch {
			case r.Err == nil:
				return r.Data, r.Stat, true, nil
			case errors.Is(r.Err, zk.ErrNoNode):
				return nil, zk.Stat{}, false, nil
			}
			err = r.Err
		}
		if err := c.retryable(ctx, err, &b); err != nil {
			return nil, zk.Stat{}, false, err
		}
	}
}
