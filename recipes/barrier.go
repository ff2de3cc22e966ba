package recipes

import (
	"context"
	"errors"
	"fmt"

	"github.com/embedzk/zk"
)

// DistributedBarrier is Curator's DistributedBarrier: a node at the
// barrier's path that holds waiters back while it exists. Set raises it,
// Remove lowers it, Wait returns once it is seen missing.
type DistributedBarrier struct {
	c    *Client
	path string
}

// NewDistributedBarrier returns the barrier at path.
func NewDistributedBarrier(c *Client, path string) (*DistributedBarrier, error) {
	if c == nil {
		return nil, fmt.Errorf("recipes: barrier %s: %w: nil Client", path, zk.ErrBadArguments)
	}
	if err := checkPath("barrier", path); err != nil {
		return nil, err
	}
	return &DistributedBarrier{c: c, path: path}, nil
}

// Path returns the barrier's node.
func (d *DistributedBarrier) Path() string { return d.path }

// Set raises the barrier (creates its node, parents as containers); a
// barrier already set stays so. While the peer is not serving it waits and
// tries again, until ctx ends.
func (d *DistributedBarrier) Set(ctx context.Context) error {
	if err := usable(ctx, d.c); err != nil {
		return fmt.Errorf("recipes: barrier %s: set: %w", d.path, err)
	}
	var b backoff
	for {
		err := d.c.write(func() error {
			_, err := d.c.conn.Create(ctx, d.path, nil, zk.WithMode(zk.ModePersistent))
			return err
		})
		switch {
		case err == nil || errors.Is(err, zk.ErrNodeExists):
			return nil
		case errors.Is(err, zk.ErrNoNode):
			if err = d.c.mkdir(ctx, parentPath(d.path)); err == nil {
				continue
			}
		}
		if err := d.c.retryable(ctx, err, &b); err != nil {
			return fmt.Errorf("recipes: barrier %s: set: %w", d.path, err)
		}
	}
}

// Remove lowers the barrier (deletes its node), releasing the waiters; a
// barrier not set stays so.
func (d *DistributedBarrier) Remove(ctx context.Context) error {
	if err := usable(ctx, d.c); err != nil {
		return fmt.Errorf("recipes: barrier %s: remove: %w", d.path, err)
	}
	var b backoff
	for {
		err := d.c.write(func() error { return d.c.conn.Delete(ctx, d.path, -1) })
		if err == nil || errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err := d.c.retryable(ctx, err, &b); err != nil {
			return fmt.Errorf("recipes: barrier %s: remove: %w", d.path, err)
		}
	}
}

// Wait returns once the barrier is seen lowered (its node missing), or
// with ctx's error, or the session's when it ends.
func (d *DistributedBarrier) Wait(ctx context.Context) error {
	if err := usable(ctx, d.c); err != nil {
		return fmt.Errorf("recipes: barrier %s: wait: %w", d.path, err)
	}
	actx, done := d.c.scope(ctx)
	defer done()
	var b backoff
	for {
		changed := d.c.changedC()
		exists, _, ch, err := d.c.conn.ExistsW(actx, d.path)
		switch {
		case err == nil && !exists:
			return nil
		case err == nil:
			b = backoff{}
			select {
			case <-ch:
			case <-changed:
			case <-actx.Done():
				return fmt.Errorf("recipes: barrier %s: wait: %w", d.path, context.Cause(actx))
			}
			continue
		}
		if err := d.c.retryable(actx, err, &b); err != nil {
			return fmt.Errorf("recipes: barrier %s: wait: %w", d.path, err)
		}
	}
}

// usable checks what every call of a recipe needs: a context, and a
// Client that did not end.
func usable(ctx context.Context, c *Client) error {
	if ctx == nil {
		return fmt.Errorf("%w: nil context", zk.ErrBadArguments)
	}
	return c.Err()
}

// scope returns a context that also ends, with the Client's reason as its
// cause, when the Client ends: for waits that hold nothing (no keepalive).
func (c *Client) scope(ctx context.Context) (context.Context, func()) {
	sctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(c.ctx, func() { cancel(context.Cause(c.ctx)) })
	return sctx, func() {
		stop()
		cancel(nil)
	}
}
