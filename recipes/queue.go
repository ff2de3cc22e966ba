package recipes

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/embedzk/zk"
)

// What every recipe does, once: contenders queue as ephemeral sequential
// nodes under the recipe's directory, created protected (a marker in the
// name finds the node again after a lost reply); each waits on the one
// sibling that stands in its way (no herd); a granted hold is checked
// against the session's liveness and watched; deletes are guaranteed.

// spec describes the contenders of one kind in one directory.
type spec struct {
	dir       string
	name      string   // lock name in the node's name: "lock-", "__WRIT__", "lease-", "latch-"
	names     []string // every lock name used in dir, for sorting
	data      []byte
	reentrant bool
	// chain: only sequential nodes of this kind live in dir, so no node
	// can come to sort before ours once it exists (see await).
	chain  bool
	onDone func() // after the final release of a hold (a local slot)
	kind   string // for the metrics ("": not measured)
	// pred says whether the contender at index ours (of the sorted
	// siblings) is granted, or else which sibling to watch.
	pred func(kids []string, ours int) (ok bool, watch string)
}

// exclusive grants the first contender; the others watch their predecessor.
func exclusive(kids []string, ours int) (bool, string) {
	if ours == 0 {
		return true, ""
	}
	return false, kids[ours-1]
}

// errNodeGone: the contender's node disappeared (deleted by someone, or the
// session ended); errRetry: look again.
var (
	errNodeGone = errors.New("recipes: our node is gone")
	errRetry    = errors.New("recipes: retry")
)

// newMarker returns a protection marker as Curator makes them: "_c_" and a
// random UUID.
func newMarker() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("recipes: crypto/rand: %v", err)) // never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return "_c_" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// sortKey is what contenders are ordered by: the part of the name after its
// lock name (the sequence number), as Curator's fixForSorting.
func sortKey(name string, names []string) string {
	for _, n := range names {
		if i := strings.LastIndex(name, n); i >= 0 {
			return name[i+len(n):]
		}
	}
	return name
}

func sortContenders(kids []string, names []string) {
	slices.SortStableFunc(kids, func(a, b string) int { return strings.Compare(sortKey(a, names), sortKey(b, names)) })
}

// acquire queues a new contender and waits until it is granted.
func (c *Client) acquire(ctx context.Context, sp *spec) (*hold, error) {
	actx, done, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	for {
		node, err := c.create(actx, sp, "")
		if err != nil {
			return nil, err
		}
		h, err := c.await(actx, sp, node)
		if err == nil {
			return h, nil
		}
		c.withdraw(node)
		if !errors.Is(err, errNodeGone) {
			return nil, err
		}
	}
}

// create makes the contender's node, protected: its name starts with a
// fresh marker, and when the outcome of the create is unknown the node is
// looked for by its marker (after a barrier, so a create still in flight
// cannot appear later) before it is tried again, never duplicated. fixed,
// if not empty, is the exact end of an ephemeral non-sequential name.
func (c *Client) create(ctx context.Context, sp *spec, fixed string) (string, error) {
	marker := newMarker()
	path := sp.dir + "/" + marker + "-" + sp.name + fixed
	mode := zk.ModeEphemeralSequential
	if fixed != "" {
		mode = zk.ModeEphemeral
	}
	var b backoff
	for {
		var got string
		err := c.write(func() (err error) {
			got, err = c.conn.Create(ctx, path, sp.data, zk.WithMode(mode))
			return err
		})
		switch {
		case err == nil:
			c.track(got, true)
			return got, nil
		case errors.Is(err, zk.ErrNoNode):
			if err := c.mkdir(ctx, sp.dir); err != nil {
				return "", err
			}
			continue
		case errors.Is(err, zk.ErrNodeExists) && fixed != "":
			c.track(path, true) // the marker is ours: an earlier try happened
			return path, nil
		case ctx.Err() != nil:
			c.abandon(sp.dir, marker)
			return "", context.Cause(ctx)
		case !transient(err):
			return "", err
		}
		got, err = c.find(ctx, sp.dir, marker, &b)
		if err != nil {
			c.abandon(sp.dir, marker)
			return "", err
		}
		if got != "" {
			c.track(got, true)
			return got, nil
		}
	}
}

// find looks for the node whose create carried marker, once the session's
// writes so far are settled; "" if the create did not happen.
func (c *Client) find(ctx context.Context, dir, marker string, b *backoff) (string, error) {
	for {
		if err := c.pause(ctx, b); err != nil {
			return "", err
		}
		err := c.barrier(ctx, dir)
		if err == nil {
			var kids []string
			kids, _, err = c.conn.Children(ctx, dir)
			if errors.Is(err, zk.ErrNoNode) {
				return "", nil
			}
			if err == nil {
				for _, k := range kids {
					if strings.HasPrefix(k, marker+"-") {
						return dir + "/" + k, nil
					}
				}
				return "", nil
			}
		}
		if ctx.Err() != nil {
			return "", context.Cause(ctx)
		}
		if !transient(err) {
			return "", err
		}
	}
}

// mkdir creates dir, and its missing ancestors, as containers (Curator's
// creatingParentContainersIfNeeded): the ensemble removes them once empty.
func (c *Client) mkdir(ctx context.Context, dir string) error {
	return c.mkdirMode(ctx, dir, zk.ModeContainer)
}

// mkdirMode creates dir with mode, and its missing ancestors as
// containers: a dir of ModePersistent stays when empty, as the queue
// directory Curator's DistributedQueue.start creates.
func (c *Client) mkdirMode(ctx context.Context, dir string, mode zk.CreateMode) error {
	var b backoff
	for {
		err := c.write(func() error {
			_, err := c.conn.Create(ctx, dir, nil, zk.WithMode(mode))
			return err
		})
		switch {
		case err == nil || errors.Is(err, zk.ErrNodeExists):
			return nil
		case errors.Is(err, zk.ErrNoNode):
			if err := c.mkdir(ctx, parentPath(dir)); err != nil {
				return err
			}
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case !transient(err):
			return err
		default:
			if err := c.pause(ctx, &b); err != nil {
				return err
			}
		}
	}
}

// await waits until the contender's node is granted by sp.pred, watching
// only the sibling the predicate names, then grants it. With sp.chain, the
// siblings are listed once: contenders that come later sort after ours,
// so those before it can only go away, and the nearest one still there is
// the one to watch (found with a point read, not a listing): a hand-off
// costs the holder's delete and one event, after which the next holder
// reads only its own node (grant).
func (c *Client) await(ctx context.Context, sp *spec, node string) (*hold, error) {
	name := node[len(sp.dir)+1:]
	var before []string // sp.chain: the contenders before ours, nearest last
	listed := false
	var b backoff
	for {
		changed := c.changedC()
		var ok bool
		var watch string
		var err error
		if sp.chain && listed {
			ok = len(before) == 0
			if !ok {
				watch = before[len(before)-1]
			}
		} else {
			var kids []string
			var i int
			if kids, i, err = c.list(ctx, sp, name); err == nil {
				ok, watch = sp.pred(kids, i)
				before, listed = slices.Clone(kids[:i]), true
			}
		}
		if err == nil && ok {
			h, err := c.grant(ctx, sp, node, &b)
			if !errors.Is(err, errRetry) {
				return h, err
			}
			continue
		}
		if err == nil {
			var ch <-chan zk.Event
			if _, _, ch, err = c.conn.GetW(ctx, sp.dir+"/"+watch); err == nil {
				select {
				case ev := <-ch:
					if sp.chain && ev.Type == zk.EventNodeDeleted {
						// It went, for good (sequential names are
						// never reused): no need to read it again.
						before = slices.DeleteFunc(before, func(k string) bool { return k == watch })
					}
				case <-changed:
				case <-ctx.Done():
					return nil, context.Cause(ctx)
				}
				continue
			}
			if errors.Is(err, zk.ErrNoNode) { // it went: look again
				before = slices.DeleteFunc(before, func(k string) bool { return k == watch })
				continue
			}
		}
		if err := c.retryable(ctx, err, &b); err != nil {
			return nil, err
		}
	}
}

// list lists sp's contenders in order, with the index of ours.
func (c *Client) list(ctx context.Context, sp *spec, name string) ([]string, int, error) {
	kids, _, err := c.conn.Children(ctx, sp.dir)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, 0, errNodeGone // the directory went, and our node with it
	}
	if err != nil {
		return nil, 0, err
	}
	sortContenders(kids, sp.names)
	i := slices.Index(kids, name)
	if i < 0 {
		return nil, 0, errNodeGone
	}
	return kids, i, nil
}

// retryable returns nil after a pause if err is transient, else the error
// to give up with.
func (c *Client) retryable(ctx context.Context, err error, b *backoff) error {
	switch {
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case !transient(err):
		return err
	}
	return c.pause(ctx, b)
}

// grant makes a hold of node, granted by its predicate: with a fresh proof
// that the session lives (made now, on the node itself, if the newest is
// older than a third of the timeout) and a watch on the node.
func (c *Client) grant(ctx context.Context, sp *spec, node string, b *backoff) (*hold, error) {
	var err error
	if c.proofAge() >= c.refresh() {
		err = c.write(func() error {
			_, err := c.conn.Multi(ctx, zk.CheckOp(node, -1))
			return err
		})
	}
	var exists bool
	var st zk.Stat
	var ch <-chan zk.Event
	if err == nil {
		exists, st, ch, err = c.conn.ExistsW(ctx, node)
	}
	switch {
	case errors.Is(err, zk.ErrNoNode):
		return nil, errNodeGone
	case err != nil && ctx.Err() != nil:
		return nil, context.Cause(ctx)
	case err != nil && !transient(err):
		return nil, err
	case err == nil && (!exists || st.EphemeralOwner != c.conn.ID()):
		return nil, errNodeGone
	case err == nil:
		h := newHold(c, node, st.Czxid, sp.reentrant, sp.onDone)
		h.kind = sp.kind
		if err = c.register(h, ch); err == nil {
			return h, nil
		}
	}
	if err := c.pause(ctx, b); err != nil {
		return nil, err
	}
	return nil, errRetry
}

// withdraw deletes the node of an abandoned wait (guaranteed), with a
// context of its own: the wait's may have ended.
func (c *Client) withdraw(node string) {
	ctx, cancel := context.WithTimeout(c.ctx, c.timeout)
	defer cancel()
	c.deleteNode(ctx, node)
}

// abandon makes sure a create of unknown outcome leaves no node: at once if
// the session allows (the caller's context may have ended: a context of
// its own), else in the background.
func (c *Client) abandon(dir, marker string) {
	ctx, cancel := context.WithTimeout(c.ctx, c.timeout)
	defer cancel()
	if c.sweep(ctx, dir, marker) != nil {
		c.sweepLater(dir, marker)
	}
}

// giveBack releases a lease on a failure path, with a context of its own
// (the caller's may have ended): the release should not wait for the
// background.
func giveBack(l *Lease) {
	ctx, cancel := context.WithTimeout(l.h.c.ctx, l.h.c.timeout)
	defer cancel()
	l.Release(ctx)
}
