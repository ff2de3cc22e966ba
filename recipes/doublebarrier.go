package recipes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/embedzk/zk"
)

// Errors of the double barrier's life cycle.
var (
	ErrAlreadyEntered = errors.New("recipes: already entered")
	ErrNotEntered     = errors.New("recipes: not entered")
)

// readyNode is the double barrier's latch (Curator's name).
const readyNode = "ready"

// DistributedDoubleBarrier is Curator's DistributedDoubleBarrier (and
// ZooKeeper's double barrier recipe): members enter, and Enter returns once
// at least n members are in; they leave, and Leave returns once every
// member is out. Members are ephemeral nodes named by a UUID under the
// barrier's path; n is a threshold, not a limit.
//
// The latch that releases the members is the "ready" node, as in Curator,
// with one difference that makes it exact: its data is the zxid (the
// directory's pzxid) of a listing of at least n members, raised by each
// member that sees such a listing, and a member passes only on a latch
// whose listing came after its own node was created (which therefore had
// it in). Curator's members pass on any "ready" node, so a latch left by an
// earlier round (whose members never left, or died while leaving) lets the
// next member through alone. The last member out deletes the latch, unless
// a newer listing raised it meanwhile. A latch a Curator member of the
// same barrier created (its data is not a zxid) counts from its creation:
// a member passes on it if it was created after the member's node.
//
// One DistributedDoubleBarrier is one member: Enter and Leave alternate.
// While entered, Context is cancelled when the membership may be lost (as a
// lease's: the session may have expired and its node gone, so the others
// may leave without it).
type DistributedDoubleBarrier struct {
	c   *Client
	dir string
	n   int

	mu    sync.Mutex
	node  string // our member node while entered ("" otherwise)
	czxid int64
	h     *hold
}

// NewDistributedDoubleBarrier returns a member of the barrier at path,
// which releases at n members.
func NewDistributedDoubleBarrier(c *Client, path string, n int) (*DistributedDoubleBarrier, error) {
	if c == nil {
		return nil, fmt.Errorf("recipes: double barrier %s: %w: nil Client", path, zk.ErrBadArguments)
	}
	if err := checkPath("double barrier", path); err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, fmt.Errorf("recipes: double barrier %s: %w: %d members", path, zk.ErrBadArguments, n)
	}
	return &DistributedDoubleBarrier{c: c, dir: path, n: n}, nil
}

// Path returns the barrier's path.
func (d *DistributedDoubleBarrier) Path() string { return d.dir }

// Context returns the membership's context while entered (cancelled when
// it may be lost, or by Leave); before Enter, a cancelled context.
func (d *DistributedDoubleBarrier) Context() context.Context {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.h == nil {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(ErrNotEntered)
		return ctx
	}
	return d.h.ctx
}

// Enter joins the barrier and waits until at least n members are in. If
// ctx ends first, or the membership is lost, the member's node is deleted
// and the error returned.
func (d *DistributedDoubleBarrier) Enter(ctx context.Context) error {
	if err := usable(ctx, d.c); err != nil {
		return fmt.Errorf("recipes: double barrier %s: enter: %w", d.dir, err)
	}
	d.mu.Lock()
	if d.node != "" {
		d.mu.Unlock()
		return fmt.Errorf("recipes: double barrier %s: enter: %w", d.dir, ErrAlreadyEntered)
	}
	d.node = d.dir + "/" + newMarker()[3:]
	node := d.node
	d.mu.Unlock()
	h, err := d.enter(ctx, node)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.node = ""
		return fmt.Errorf("recipes: double barrier %s: enter: %w", d.dir, err)
	}
	d.h = h
	return nil
}

func (d *DistributedDoubleBarrier) enter(ctx context.Context, node string) (*hold, error) {
	actx, done, err := d.c.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	st, err := d.c.createFixed(actx, node, zk.ModeContainer, d.c.id)
	if err != nil {
		d.c.settleDelete(node)
		return nil, err
	}
	h, err := d.await(actx, node, st.Czxid)
	if err != nil {
		d.c.withdraw(node)
		if errors.Is(err, errNodeGone) {
			err = fmt.Errorf("%w: member node %s deleted: %w", ErrLockLost, node, zk.ErrNoNode)
		}
		return nil, err
	}
	return h, nil
}

// await waits until a listing with at least n members that has ours is
// seen (by us, or through the latch), then makes the membership a hold.
func (d *DistributedDoubleBarrier) await(ctx context.Context, node string, czxid int64) (*hold, error) {
	name := node[len(d.dir)+1:]
	var b backoff
	for {
		changed := d.c.changedC()
		pass, ch, err := d.look(ctx, name, czxid)
		if err == nil && pass {
			h, err := d.c.grant(ctx, &spec{}, node, &b)
			if errors.Is(err, errRetry) {
				continue
			}
			return h, err
		}
		if err == nil {
			b = backoff{}
			select {
			case <-ch:
			case <-changed:
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			}
			continue
		}
		if errors.Is(err, errNodeGone) {
			return nil, err
		}
		if err := d.c.retryable(ctx, err, &b); err != nil {
			return nil, err
		}
	}
}

// look lists the members: with n or more (ours among them) it raises the
// latch and passes; else it passes if the latch's listing had ours, or
// returns a watch on the latch.
func (d *DistributedDoubleBarrier) look(ctx context.Context, name string, czxid int64) (bool, <-chan zk.Event, error) {
	kids, st, err := d.c.conn.Children(ctx, d.dir)
	if errors.Is(err, zk.ErrNoNode) {
		return false, nil, errNodeGone
	}
	if err != nil {
		return false, nil, err
	}
	members := slices.DeleteFunc(kids, func(k string) bool { return k == readyNode })
	if !slices.Contains(members, name) {
		return false, nil, errNodeGone
	}
	if len(members) >= d.n {
		return true, nil, d.raise(ctx, st.Pzxid)
	}
	data, st, ch, err := d.c.conn.GetW(ctx, d.dir+"/"+readyNode)
	if errors.Is(err, zk.ErrNoNode) {
		var exists bool
		exists, _, ch, err = d.c.conn.ExistsW(ctx, d.dir+"/"+readyNode)
		if err == nil && exists {
			return d.look(ctx, name, czxid) // created meanwhile: read it
		}
		return false, ch, err
	}
	if err != nil {
		return false, nil, err
	}
	return latchZxid(data, st) >= czxid, ch, nil
}

// raise makes the latch say at least zxid.
func (d *DistributedDoubleBarrier) raise(ctx context.Context, zxid int64) error {
	ready := d.dir + "/" + readyNode
	data := []byte(strconv.FormatInt(zxid, 10))
	var b backoff
	for {
		cur, st, found, err := d.c.readNode(ctx, ready)
		switch {
		case err != nil:
			return err
		case found && latchZxid(cur, st) >= zxid:
			return nil
		case found:
			err = d.c.write(func() error {
				_, err := d.c.conn.Multi(ctx, zk.SetOp(ready, data, st.Version))
				return err
			})
		default:
			err = d.c.write(func() error {
				_, err := d.c.conn.Create(ctx, ready, data, zk.WithMode(zk.ModePersistent))
				return err
			})
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, zk.ErrBadVersion), errors.Is(err, zk.ErrNodeExists), errors.Is(err, zk.ErrNoNode):
			continue // raced with another member (or the directory went): look again
		}
		if err := d.c.retryable(ctx, err, &b); err != nil {
			return err
		}
	}
}

// latchZxid reads the zxid of the listing a latch stands for. A latch
// that holds none is a Curator member's (its data is the member's
// address), created once that member had listed n members: it counts
// from its own creation, which came after that listing.
func latchZxid(data []byte, st zk.Stat) int64 {
	z, err := strconv.ParseInt(string(data), 10, 64)
	if err != nil {
		return st.Czxid
	}
	return z
}

// Leave leaves the barrier and waits until every member is out (ZooKeeper's
// double barrier: the lowest member waits for the highest to go, the
// others delete their node and wait for the lowest). The membership's
// context ends at once. If ctx ends first, the member's node is deleted
// (guaranteed) and ctx's error returned: the member is out, without
// having seen the others out.
func (d *DistributedDoubleBarrier) Leave(ctx context.Context) error {
	if ctx == nil {
		return fmt.Errorf("recipes: double barrier %s: leave: %w: nil context", d.dir, zk.ErrBadArguments)
	}
	d.mu.Lock()
	node, h := d.node, d.h
	d.node, d.h = "", nil
	d.mu.Unlock()
	if node == "" {
		return fmt.Errorf("recipes: double barrier %s: leave: %w", d.dir, ErrNotEntered)
	}
	h.ctx.cancel(ErrReleased)
	h.c.unregister(h, nil)
	if err := d.c.Err(); err != nil {
		return fmt.Errorf("recipes: double barrier %s: leave: %w", d.dir, err)
	}
	actx, done, err := d.c.begin(ctx)
	if err == nil {
		defer done()
		err = d.leave(actx, node)
	}
	if err != nil {
		d.c.withdraw(node)
		return fmt.Errorf("recipes: double barrier %s: leave: %w", d.dir, err)
	}
	return nil
}

func (d *DistributedDoubleBarrier) leave(ctx context.Context, node string) error {
	name := node[len(d.dir)+1:]
	ours := true // our node may still exist
	var b backoff
	for {
		changed := d.c.changedC()
		kids, st, err := d.c.conn.Children(ctx, d.dir)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err != nil {
			if err := d.c.retryable(ctx, err, &b); err != nil {
				return err
			}
			continue
		}
		members := slices.DeleteFunc(kids, func(k string) bool { return k == readyNode })
		slices.Sort(members)
		i := slices.Index(members, name)
		ours = ours && i >= 0
		var watch string
		switch {
		case len(members) == 0:
			d.lower(ctx, st.Pzxid)
			return nil
		case i == 0 && len(members) == 1:
			err = d.c.guaranteedDelete(ctx, node)
			ours = false
		case i == 0:
			watch = members[len(members)-1]
		default:
			if ours {
				if err = d.c.guaranteedDelete(ctx, node); err == nil {
					ours = false
				}
			}
			watch = members[0]
		}
		if err == nil && watch != "" {
			err = d.wait(ctx, d.dir+"/"+watch, changed)
		}
		if err != nil {
			if err := d.c.retryable(ctx, err, &b); err != nil {
				return err
			}
		}
	}
}

// wait waits until node goes (or anything changes).
func (d *DistributedDoubleBarrier) wait(ctx context.Context, node string, changed <-chan struct{}) error {
	exists, _, ch, err := d.c.conn.ExistsW(ctx, node)
	if err != nil || !exists {
		return err
	}
	select {
	case <-ch:
	case <-changed:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return nil
}

// lower deletes the latch after the last member left, unless a listing
// newer than the empty one (at pzxid) raised it: that latch is a new
// round's. Its version guards against a raise between the read and the
// delete. A failure leaves the latch, which no later member passes on.
func (d *DistributedDoubleBarrier) lower(ctx context.Context, pzxid int64) {
	ready := d.dir + "/" + readyNode
	data, st, found, err := d.c.readNode(ctx, ready)
	if err != nil || !found || latchZxid(data, st) > pzxid {
		return
	}
	d.c.write(func() error { return d.c.conn.Delete(ctx, ready, st.Version) })
}
