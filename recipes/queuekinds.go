package recipes

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/embedzk/zk"
)

// DistributedPriorityQueue is Curator's DistributedPriorityQueue: a
// DistributedQueue whose items are taken by priority (the lowest number
// first), then in the order they were put. The priority is in the item's
// name as Curator writes it ("queue-" then "0" or "1" for the sign and
// eight hex digits), so the two read each other's order.
type DistributedPriorityQueue struct{ q *queueCore }

// NewDistributedPriorityQueue returns the priority queue at path.
func NewDistributedPriorityQueue(c *Client, path string, opts ...QueueOption) (*DistributedPriorityQueue, error) {
	q, err := newQueueCore(c, "priority queue", path, opts)
	if err != nil {
		return nil, err
	}
	return &DistributedPriorityQueue{q: q}, nil
}

// Path returns the queue's path.
func (d *DistributedPriorityQueue) Path() string { return d.q.dir }

// Put adds an item holding data with priority (lower is taken first).
func (d *DistributedPriorityQueue) Put(ctx context.Context, data []byte, priority int32) error {
	return d.q.put(ctx, priorityKey(priority), [][]byte{data})
}

// PutMulti adds one item holding every value, with priority.
func (d *DistributedPriorityQueue) PutMulti(ctx context.Context, values [][]byte, priority int32) error {
	if len(values) == 0 {
		return d.q.errorf("put", fmt.Errorf("%w: no values", zk.ErrBadArguments))
	}
	return d.q.put(ctx, priorityKey(priority), values)
}

// Take waits for an item and claims it: the one of lowest priority that no
// one else claimed.
func (d *DistributedPriorityQueue) Take(ctx context.Context) (*QueueItem, error) {
	return d.q.take(ctx)
}

// Items lists the items' node names in the order they would be taken.
func (d *DistributedPriorityQueue) Items(ctx context.Context) ([]string, error) {
	return d.q.items(ctx)
}

// priorityKey writes a priority as Curator does: sorted as strings, the
// keys sort as the numbers.
func priorityKey(p int32) string {
	sign := "1"
	if p < 0 {
		sign = "0"
	}
	return fmt.Sprintf("%s%08X", sign, uint32(p))
}

// DistributedDelayQueue is Curator's DistributedDelayQueue: a
// DistributedQueue whose items are each taken no earlier than a time given
// to Put, earliest first. The time (Unix milliseconds, in hex between two
// '|') is in the item's name as Curator writes it. Times are compared with
// the consumer's clock.
type DistributedDelayQueue struct{ q *queueCore }

// NewDistributedDelayQueue returns the delay queue at path.
func NewDistributedDelayQueue(c *Client, path string, opts ...QueueOption) (*DistributedDelayQueue, error) {
	q, err := newQueueCore(c, "delay queue", path, opts)
	if err != nil {
		return nil, err
	}
	q.order = func(a, b string) int {
		if c := cmp.Compare(delayOf(a), delayOf(b)); c != 0 {
			return c
		}
		return strings.Compare(sequenceOf(a), sequenceOf(b))
	}
	q.due = func(name string, now time.Time) time.Duration {
		return time.UnixMilli(delayOf(name)).Sub(now)
	}
	return &DistributedDelayQueue{q: q}, nil
}

// Path returns the queue's path.
func (d *DistributedDelayQueue) Path() string { return d.q.dir }

// Put adds an item holding data, to be taken at until or later.
func (d *DistributedDelayQueue) Put(ctx context.Context, data []byte, until time.Time) error {
	return d.PutMulti(ctx, [][]byte{data}, until)
}

// PutMulti adds one item holding every value, to be taken at until or
// later.
func (d *DistributedDelayQueue) PutMulti(ctx context.Context, values [][]byte, until time.Time) error {
	if len(values) == 0 {
		return d.q.errorf("put", fmt.Errorf("%w: no values", zk.ErrBadArguments))
	}
	if ms := until.UnixMilli(); ms <= 0 {
		return d.q.errorf("put", fmt.Errorf("%w: time %v is not after 1970", zk.ErrBadArguments, until))
	}
	return d.q.put(ctx, fmt.Sprintf("|%08X|", until.UnixMilli()), values)
}

// Take waits until an item is due and claims it: the earliest due that no
// one else claimed.
func (d *DistributedDelayQueue) Take(ctx context.Context) (*QueueItem, error) { return d.q.take(ctx) }

// Items lists the items' node names in the order they would be taken.
func (d *DistributedDelayQueue) Items(ctx context.Context) ([]string, error) { return d.q.items(ctx) }

// delayOf reads an item's time (Unix ms) between its last two '|'; 0
// (due) if it has none.
func delayOf(name string) int64 {
	j := strings.LastIndexByte(name, '|')
	if j <= 0 {
		return 0
	}
	i := strings.LastIndexByte(name[:j], '|')
	if i < 0 {
		return 0
	}
	ms, err := strconv.ParseInt(name[i+1:j], 16, 64)
	if err != nil {
		return 0
	}
	return ms
}

// sequenceOf is what follows an item's last '|' (its sequence number).
func sequenceOf(name string) string { return name[strings.LastIndexByte(name, '|')+1:] }
