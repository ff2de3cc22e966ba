package recipes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/embedzk/zk"
)

// itemName is in every item's name, before its sort key (Curator's).
const itemName = "queue-"

// errTaken: another consumer claimed the item (or it went).
var errTaken = errors.New("recipes: item taken")

// QueueOption configures a queue.
type QueueOption func(*queueCore)

// WithLockPath sets the directory of the queue's claims (Curator's
// lockPath); by default the queue's path with "-locks" appended. Every
// consumer of a queue must use the same one.
func WithLockPath(path string) QueueOption { return func(q *queueCore) { q.lockDir = path } }

// queueCore is what the three queues share: items are persistent
// sequential nodes "<marker>-queue-<key><seq>" in dir, put with a
// protected create (an unknown outcome never makes a second item), and
// taken by claiming them: an ephemeral node lockDir/<item>, created by the
// one consumer that gets it (no lock is waited for: a taken item is
// skipped). The claim is a hold: it ends when the session may be lost.
// Ack deletes item and claim together.
type queueCore struct {
	c       *Client
	dir     string
	lockDir string
	what    string
	// order sorts item names (FIFO: by sequence); due says how long until
	// an item may be taken (0: now).
	order func(a, b string) int
	due   func(name string, now time.Time) time.Duration
}

func newQueueCore(c *Client, what, path string, opts []QueueOption) (*queueCore, error) {
	if c == nil {
		return nil, fmt.Errorf("recipes: %s %s: %w: nil Client", what, path, zk.ErrBadArguments)
	}
	if err := checkPath(what, path); err != nil {
		return nil, err
	}
	q := &queueCore{c: c, dir: path, lockDir: path + "-locks", what: what,
		order: func(a, b string) int { return strings.Compare(itemKey(a), itemKey(b)) },
		due:   func(string, time.Time) time.Duration { return 0 }}
	for _, o := range opts {
		if o != nil {
			o(q)
		}
	}
	if err := checkPath(what+" lock path", q.lockDir); err != nil {
		return nil, err
	}
	if q.lockDir == q.dir || strings.HasPrefix(q.lockDir, q.dir+"/") {
		return nil, fmt.Errorf("recipes: %s %s: %w: lock path %s inside the queue", what, path, zk.ErrBadArguments, q.lockDir)
	}
	return q, nil
}

// itemKey is the part of an item's name after "queue-": what items sort
// by; "" for a name that is not an item's.
func itemKey(name string) string {
	i := strings.Index(name, itemName)
	if i < 0 {
		return ""
	}
	return name[i+len(itemName):]
}

func (q *queueCore) errorf(what string, err error) error {
	return fmt.Errorf("recipes: %s %s: %s: %w", q.what, q.dir, what, err)
}

// put adds one item holding values, named with key (and a sequence).
func (q *queueCore) put(ctx context.Context, key string, values [][]byte) error {
	if err := usable(ctx, q.c); err != nil {
		return q.errorf("put", err)
	}
	if _, err := q.c.createProtected(ctx, q.dir, zk.ModePersistent, itemName+key, encodeItems(values), zk.ModePersistentSequential); err != nil {
		return q.errorf("put", err)
	}
	return nil
}

// take claims the first item that may be taken, waiting for one.
func (q *queueCore) take(ctx context.Context) (*QueueItem, error) {
	if err := usable(ctx, q.c); err != nil {
		return nil, q.errorf("take", err)
	}
	actx, done, err := q.c.begin(ctx)
	if err != nil {
		return nil, q.errorf("take", err)
	}
	defer done()
	var b backoff
	for {
		changed := q.c.changedC()
		it, waits, err := q.takeOnce(actx, &b)
		if it != nil {
			return it, nil
		}
		if err == nil {
			b = backoff{}
			err = waits.wait(actx, changed)
		}
		if err != nil {
			if err := q.c.retryable(actx, err, &b); err != nil {
				return nil, q.errorf("take", err)
			}
		}
	}
}

// waits is what a take waits for when no item can be taken now.
type waits struct {
	items, claims <-chan zk.Event
	until         time.Duration // > 0: an item is due then
}

func (w waits) wait(ctx context.Context, changed <-chan struct{}) error {
	var tc <-chan time.Time
	if w.until > 0 {
		t := time.NewTimer(w.until)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-w.items:
	case <-w.claims:
	case <-tc:
	case <-changed:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return nil
}

// takeOnce lists the items and claims the first free one that is due, or
// says what to wait for.
func (q *queueCore) takeOnce(ctx context.Context, b *backoff) (*QueueItem, waits, error) {
	var w waits
	kids, _, ch, err := q.c.conn.ChildrenW(ctx, q.dir)
	if errors.Is(err, zk.ErrNoNode) {
		var exists bool
		if exists, _, ch, err = q.c.conn.ExistsW(ctx, q.dir); err == nil && exists {
			return nil, w, errRetry
		}
	}
	if err != nil {
		return nil, w, err
	}
	w.items = ch
	claimed, _, err := q.c.conn.Children(ctx, q.lockDir)
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		return nil, w, err
	}
	err = nil
	kids = slices.DeleteFunc(kids, func(k string) bool { return itemKey(k) == "" })
	slices.SortFunc(kids, q.order)
	skipped := false
	now := time.Now()
	for _, k := range kids {
		if d := q.due(k, now); d > 0 {
			w.until = d
			break // sorted by due time: none after it is due either
		}
		if slices.Contains(claimed, k) {
			skipped = true
			continue
		}
		it, err := q.claim(ctx, k, b)
		if err == nil {
			return it, w, nil
		}
		if !errors.Is(err, errTaken) {
			return nil, w, err
		}
		skipped = true
	}
	if !skipped {
		return nil, w, nil
	}
	_, _, w.claims, err = q.c.conn.ChildrenW(ctx, q.lockDir)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, w, errRetry // every claim went: look again
	}
	return nil, w, err
}

// claim claims the item name: its claim node, a hold on it, then the
// item's data. errTaken if another consumer has it or it is gone.
func (q *queueCore) claim(ctx context.Context, name string, b *backoff) (*QueueItem, error) {
	lock := q.lockDir + "/" + name
	// The claim's data is a token of this take: a claim of this session
	// with another token is another take's (a goroutine, another queue).
	if _, err := q.c.createFixed(ctx, lock, zk.ModePersistent, []byte(newMarker())); err != nil {
		if errors.Is(err, zk.ErrNodeExists) {
			return nil, errTaken
		}
		if ctx.Err() != nil {
			q.c.settleDelete(lock)
		}
		return nil, err
	}
	h, err := q.grantClaim(ctx, lock, b)
	if err != nil {
		q.c.withdraw(lock)
		return nil, err
	}
	data, _, found, err := q.c.readNode(ctx, q.dir+"/"+name)
	if err != nil || !found {
		h.lose(ErrReleased)
		q.c.withdraw(lock)
		if err == nil {
			err = errTaken // acknowledged by its consumer before our claim
		}
		return nil, err
	}
	return &QueueItem{q: q, h: h, node: q.dir + "/" + name, lock: lock, values: decodeItems(data)}, nil
}

func (q *queueCore) grantClaim(ctx context.Context, lock string, b *backoff) (*hold, error) {
	for {
		h, err := q.c.grant(ctx, &spec{}, lock, b)
		switch {
		case errors.Is(err, errRetry):
			continue
		case errors.Is(err, errNodeGone):
			return nil, errTaken
		}
		return h, err
	}
}

// Items lists the queue's items in the order they would be taken
// (claimed ones included), for a dashboard.
func (q *queueCore) items(ctx context.Context) ([]string, error) {
	if err := usable(ctx, q.c); err != nil {
		return nil, q.errorf("items", err)
	}
	kids, _, err := q.c.conn.Children(ctx, q.dir)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, q.errorf("items", err)
	}
	kids = slices.DeleteFunc(kids, func(k string) bool { return itemKey(k) == "" })
	slices.SortFunc(kids, q.order)
	return kids, nil
}

// DistributedQueue is Curator's DistributedQueue with its lock safety
// made lock-free: a FIFO of items (Curator's item format) consumed at
// least once. Put adds an item; Take claims the oldest item no one else
// claimed and returns it; the consumer works on it (under its Context)
// and Acks it, which removes it for good, or Releases it. If the
// consumer's session ends first, the claim goes with it and the item is
// taken again by another consumer. An item is never acknowledged twice,
// and an item whose Put returned nil is never lost.
//
// Items are named "_c_<uuid>-queue-<seq>" (protected creates): Curator's
// consumers, which take only names that start with "queue-", do not see
// them; this queue takes Curator's items too. The queue's directory and
// its claims' are persistent nodes (their ancestors containers), created
// by the first Put or claim as Curator's DistributedQueue.start creates
// them: they stay when the queue is empty, so a Curator producer, whose
// put creates no parent, always finds the directory.
type DistributedQueue struct{ q *queueCore }

// NewDistributedQueue returns the queue at path.
func NewDistributedQueue(c *Client, path string, opts ...QueueOption) (*DistributedQueue, error) {
	q, err := newQueueCore(c, "queue", path, opts)
	if err != nil {
		return nil, err
	}
	return &DistributedQueue{q: q}, nil
}

// Path returns the queue's path.
func (d *DistributedQueue) Path() string { return d.q.dir }

// Put adds an item holding data. After an error the item is not in the
// queue: a create whose outcome stayed unknown is undone (its node deleted
// if it happened), though a consumer may have taken it before the undo.
func (d *DistributedQueue) Put(ctx context.Context, data []byte) error {
	return d.q.put(ctx, "", [][]byte{data})
}

// PutMulti adds one item holding every value (Curator's putMulti).
func (d *DistributedQueue) PutMulti(ctx context.Context, values [][]byte) error {
	if len(values) == 0 {
		return d.q.errorf("put", fmt.Errorf("%w: no values", zk.ErrBadArguments))
	}
	return d.q.put(ctx, "", values)
}

// Take waits for an item and claims it. Acknowledge it with Ack.
func (d *DistributedQueue) Take(ctx context.Context) (*QueueItem, error) { return d.q.take(ctx) }

// Items lists the items' node names in the order they would be taken.
func (d *DistributedQueue) Items(ctx context.Context) ([]string, error) { return d.q.items(ctx) }
