package recipes

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/embedzk/zk"
)

// transient reports an error after which a call may be tried again: the
// peer was not serving, or the outcome of a write is unknown.
func transient(err error) bool { return errors.Is(err, zk.ErrConnectionLoss) }

// backoff paces retries while the session says it is connected but calls
// fail (a peer that lost its leader and does not know yet): 10ms doubling
// to a second. Waits while disconnected are on the session's state, not on
// time.
type backoff struct{ d time.Duration }

func (b *backoff) next() time.Duration {
	switch {
	case b.d == 0:
		b.d = 10 * time.Millisecond
	case b.d < time.Second:
		b.d *= 2
	}
	return b.d
}

// pause waits after a transient failure until trying again makes sense:
// while the session is disconnected, until its state changes; while it is
// connected, a backoff step (or a change of state). It returns the reason
// to stop instead: the session ended, or ctx did.
func (c *Client) pause(ctx context.Context, b *backoff) error {
	changed := c.changedC()
	st := c.conn.State()
	if err := endedErr(st); err != nil {
		return err
	}
	var tc <-chan time.Time
	if st == zk.StateConnected {
		t := time.NewTimer(b.next())
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-tc:
	case <-changed:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return nil
}

// deleteNode deletes node, guaranteed: it retries while ctx lasts, then
// hands the delete to the Client's background work, which retries until it
// happens or the session ends (and the node with it).
func (c *Client) deleteNode(ctx context.Context, node string) {
	var b backoff
	for {
		err := c.write(func() error { return c.conn.Delete(ctx, node, -1) })
		switch {
		case err == nil || errors.Is(err, zk.ErrNoNode):
			c.track(node, false)
			return
		case endedErr(c.conn.State()) != nil:
			return
		case !transient(err) && ctx.Err() == nil:
			return // not ours to delete (ACL changed by someone): nothing to retry
		}
		if ctx.Err() != nil || c.pause(ctx, &b) != nil {
			c.deleteLater(node)
			return
		}
	}
}

func (c *Client) deleteLater(node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended == nil || c.closed {
		c.deletes[node] = true
		c.poke()
	}
}

// sweepLater remembers a create whose outcome is unknown: once a later
// write of the session is answered, the create either happened (its node
// carries marker and is deleted) or never will.
func (c *Client) sweepLater(dir, marker string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended == nil || c.closed {
		c.sweeps[marker] = dir
		c.poke()
	}
}

// barrier makes a write of the session and waits for the leader's answer:
// the session's earlier writes then happened or never will. The write is a
// check of dir, which need not exist (a failed check is answered too).
func (c *Client) barrier(ctx context.Context, dir string) error {
	err := c.write(func() error {
		_, err := c.conn.Multi(ctx, zk.CheckOp(dir, -1))
		return err
	})
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		return err
	}
	return nil
}

// sweep deletes the node whose create carried marker, if it happened.
func (c *Client) sweep(ctx context.Context, dir, marker string) error {
	if err := c.barrier(ctx, dir); err != nil {
		return err
	}
	kids, _, err := c.conn.Children(ctx, dir)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, k := range kids {
		if strings.HasPrefix(k, marker) {
			if err := c.conn.Delete(ctx, dir+"/"+k, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
				return err
			}
		}
	}
	return nil
}

// maintain is the Client's background work: guaranteed deletes, sweeps of
// creates of unknown outcome, and the keepalive write that renews the
// proof while the Client holds or waits for something.
func (c *Client) maintain() {
	defer c.wg.Done()
	var b backoff
	for {
		changed := c.changedC()
		job, wait := c.nextJob()
		if c.ctx.Err() != nil {
			return
		}
		if job != nil && c.conn.State() == zk.StateConnected {
			if err := job(c.ctx); err != nil {
				if c.pause(c.ctx, &b) != nil {
					return
				}
			} else {
				b = backoff{}
			}
			continue
		}
		var t *time.Timer
		var tc <-chan time.Time
		if job == nil && wait > 0 {
			t = time.NewTimer(wait)
			tc = t.C
		}
		select {
		case <-c.kick:
		case <-changed:
		case <-tc:
		case <-c.ctx.Done():
		}
		if t != nil {
			t.Stop()
		}
	}
}

// nextJob returns the next background job, or how long until a keepalive
// is due (0: nothing to wait for).
func (c *Client) nextJob() (func(context.Context) error, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range sortedKeys(mapKeys(c.deletes)) {
		return func(ctx context.Context) error { return c.backgroundDelete(ctx, n) }, 0
	}
	for _, m := range sortedMarkers(c.sweeps) {
		dir := c.sweeps[m]
		return func(ctx context.Context) error {
			err := c.sweep(ctx, dir, m)
			if err == nil || !transient(err) {
				c.mu.Lock()
				delete(c.sweeps, m)
				c.mu.Unlock()
			}
			return err
		}, 0
	}
	if len(c.holds) == 0 && c.busy == 0 {
		return nil, 0
	}
	if due := c.refresh() - c.proofAge(); due > 0 {
		return nil, due
	}
	target := "/"
	if ns := sortedKeys(mapKeys(c.nodes)); len(ns) > 0 {
		target = ns[0]
	}
	return func(ctx context.Context) error { return c.keepalive(ctx, target) }, 0
}

func (c *Client) backgroundDelete(ctx context.Context, node string) error {
	err := c.write(func() error { return c.conn.Delete(ctx, node, -1) })
	if err == nil || !transient(err) {
		c.mu.Lock()
		delete(c.deletes, node)
		delete(c.nodes, node)
		c.mu.Unlock()
	}
	return err
}

// keepalive renews the proof with a check of one of the Client's own nodes
// (one commit). A node that is gone is forgotten; its hold learns of it by
// its watch.
func (c *Client) keepalive(ctx context.Context, target string) error {
	err := c.write(func() error {
		_, err := c.conn.Multi(ctx, zk.CheckOp(target, -1))
		return err
	})
	if errors.Is(err, zk.ErrNoNode) {
		c.track(target, false)
		return nil
	}
	return err
}

func mapKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sortedKeys(s []string) []string {
	slices.Sort(s)
	return s
}

func sortedMarkers(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
