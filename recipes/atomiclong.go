package recipes

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/embedzk/zk"
)

// AtomicValue is the result of an operation of a DistributedAtomicLong, as
// Curator's AtomicValue: whether it succeeded, the value before and after.
type AtomicValue struct {
	Succeeded bool
	PreValue  int64
	PostValue int64
	Stats     AtomicStats
}

// AtomicStats says how an operation went.
type AtomicStats struct {
	OptimisticTries int
	PromotedTries   int
	OptimisticTime  time.Duration
	PromotedTime    time.Duration
}

// RetryPolicy bounds the tries of an operation that lost a race with
// another writer: Tries tries in all, Backoff before the second, doubling
// up to a second.
type RetryPolicy struct {
	Tries   int
	Backoff time.Duration
}

// AtomicOption configures a DistributedAtomicLong.
type AtomicOption func(*atomicConfig)

type atomicConfig struct {
	retry    RetryPolicy
	lockPath string
	maxWait  time.Duration
	promoted RetryPolicy
}

// WithRetryPolicy sets the optimistic mode's tries (default 10 tries,
// 10ms backoff).
func WithRetryPolicy(p RetryPolicy) AtomicOption { return func(c *atomicConfig) { c.retry = p } }

// WithPromotedToLock is Curator's PromotedToLock: when the optimistic tries
// all lose, the operation takes the Mutex at lockPath (waiting at most
// maxWait) and tries again under it, with policy p.
func WithPromotedToLock(lockPath string, maxWait time.Duration, p RetryPolicy) AtomicOption {
	return func(c *atomicConfig) { c.lockPath, c.maxWait, c.promoted = lockPath, maxWait, p }
}

// DistributedAtomicLong is Curator's DistributedAtomicLong: a 64-bit
// integer in a node (8 bytes, big endian; as in Curator, a node without
// data reads as 0, and only the first 8 bytes of longer data count),
// changed by compare-and-set on the node's version. Each operation tries optimistically (read, compute,
// write if the version did not move) and, if every try lost a race and a
// lock was configured, again under that lock. A missing node counts as 0
// and is created by the first write (parents as containers).
//
// A write whose outcome is unknown (the peer stopped serving in the
// middle) is resolved before the operation goes on, with a marker written
// in the same transaction (see versioned.go): an increment that returned
// Succeeded happened exactly once, one that returned not Succeeded did
// not happen, and one that returned an error wrapping zk.ErrOutcomeUnknown
// may have (only when ctx or the session ended before it could be told).
// Curator retries such a write and may count it twice. The marker is an
// ephemeral child of the long's node, deleted right after the write:
// meanwhile a process that lists the node's children sees it, and one
// that deletes the node gets zk.ErrNotEmpty (Curator writes no child).
type DistributedAtomicLong struct {
	c    *Client
	path string
	cfg  atomicConfig
	lock *Mutex
}

// NewDistributedAtomicLong returns the long at path.
func NewDistributedAtomicLong(c *Client, path string, opts ...AtomicOption) (*DistributedAtomicLong, error) {
	if c == nil {
		return nil, fmt.Errorf("recipes: atomic long %s: %w: nil Client", path, zk.ErrBadArguments)
	}
	if err := checkPath("atomic long", path); err != nil {
		return nil, err
	}
	a := &DistributedAtomicLong{c: c, path: path, cfg: atomicConfig{retry: RetryPolicy{Tries: 10, Backoff: 10 * time.Millisecond}}}
	for _, o := range opts {
		if o != nil {
			o(&a.cfg)
		}
	}
	if a.cfg.retry.Tries < 1 || a.cfg.retry.Backoff < 0 {
		return nil, fmt.Errorf("recipes: atomic long %s: %w: retry policy %+v", path, zk.ErrBadArguments, a.cfg.retry)
	}
	if a.cfg.lockPath != "" {
		if a.cfg.promoted.Tries < 1 || a.cfg.promoted.Backoff < 0 || a.cfg.maxWait <= 0 {
			return nil, fmt.Errorf("recipes: atomic long %s: %w: promoted-to-lock policy %+v, wait %v", path, zk.ErrBadArguments, a.cfg.promoted, a.cfg.maxWait)
		}
		m, err := NewMutex(c, a.cfg.lockPath)
		if err != nil {
			return nil, err
		}
		a.lock = m
	}
	return a, nil
}

// Path returns the long's node.
func (a *DistributedAtomicLong) Path() string { return a.path }

// Get reads the value (0 if the node is missing).
func (a *DistributedAtomicLong) Get(ctx context.Context) (AtomicValue, error) {
	if err := a.usable(ctx); err != nil {
		return AtomicValue{}, err
	}
	v, _, _, err := a.read(ctx)
	if err != nil {
		return AtomicValue{}, a.errorf("get", err)
	}
	return AtomicValue{Succeeded: true, PreValue: v, PostValue: v}, nil
}

// Increment adds 1.
func (a *DistributedAtomicLong) Increment(ctx context.Context) (AtomicValue, error) {
	return a.Add(ctx, 1)
}

// Decrement subtracts 1.
func (a *DistributedAtomicLong) Decrement(ctx context.Context) (AtomicValue, error) {
	return a.Add(ctx, -1)
}

// Add adds delta (wrapping around as int64 does).
func (a *DistributedAtomicLong) Add(ctx context.Context, delta int64) (AtomicValue, error) {
	return a.try(ctx, "add", func(pre int64) int64 { return pre + delta })
}

// Subtract subtracts delta.
func (a *DistributedAtomicLong) Subtract(ctx context.Context, delta int64) (AtomicValue, error) {
	return a.try(ctx, "subtract", func(pre int64) int64 { return pre - delta })
}

// TrySet sets the value, with the same tries as an increment.
func (a *DistributedAtomicLong) TrySet(ctx context.Context, v int64) (AtomicValue, error) {
	return a.try(ctx, "try set", func(int64) int64 { return v })
}

// CompareAndSet sets the value to v if it is expected, in one try: it does
// not succeed if another writer came between (nor if the node is missing,
// as in Curator).
func (a *DistributedAtomicLong) CompareAndSet(ctx context.Context, expected, v int64) (AtomicValue, error) {
	if err := a.usable(ctx); err != nil {
		return AtomicValue{}, err
	}
	pre, version, found, err := a.read(ctx)
	res := AtomicValue{PreValue: pre, PostValue: pre}
	if err != nil {
		return res, a.errorf("compare and set", err)
	}
	if !found || pre != expected {
		return res, nil
	}
	_, err = a.c.versionedWrite(ctx, a.path, longBytes(v), version, false)
	switch {
	case errors.Is(err, errConflict):
		return res, nil
	case err != nil:
		return res, a.errorf("compare and set", err)
	}
	res.Succeeded, res.PostValue = true, v
	return res, nil
}

// ForceSet sets the value whatever it was.
func (a *DistributedAtomicLong) ForceSet(ctx context.Context, v int64) error {
	if err := a.usable(ctx); err != nil {
		return err
	}
	for {
		_, err := a.c.versionedWrite(ctx, a.path, longBytes(v), -1, false)
		if errors.Is(err, zk.ErrNoNode) {
			_, err = a.c.versionedWrite(ctx, a.path, longBytes(v), 0, true)
			if errors.Is(err, zk.ErrNodeExists) {
				continue
			}
		}
		if err != nil {
			return a.errorf("force set", err)
		}
		return nil
	}
}

// Initialize creates the node with v if it is missing; false if it exists.
func (a *DistributedAtomicLong) Initialize(ctx context.Context, v int64) (bool, error) {
	if err := a.usable(ctx); err != nil {
		return false, err
	}
	_, err := a.c.versionedWrite(ctx, a.path, longBytes(v), 0, true)
	switch {
	case errors.Is(err, zk.ErrNodeExists):
		return false, nil
	case err != nil:
		return false, a.errorf("initialize", err)
	}
	return true, nil
}

// try runs fn optimistically, then under the lock if configured.
func (a *DistributedAtomicLong) try(ctx context.Context, what string, fn func(int64) int64) (AtomicValue, error) {
	if err := a.usable(ctx); err != nil {
		return AtomicValue{}, err
	}
	var res AtomicValue
	start := time.Now()
	ok, err := a.tries(ctx, a.cfg.retry, &res, &res.Stats.OptimisticTries, fn)
	res.Stats.OptimisticTime = time.Since(start)
	if err != nil || ok || a.lock == nil {
		return res, a.errorf(what, err)
	}
	lctx, cancel := context.WithTimeout(ctx, a.cfg.maxWait)
	lease, err := a.lock.Acquire(lctx)
	cancel()
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return res, nil // the lock's wait is over: not succeeded, as Curator
		}
		return res, a.errorf(what, err)
	}
	defer giveBack(lease)
	start = time.Now()
	_, err = a.tries(ctx, a.cfg.promoted, &res, &res.Stats.PromotedTries, fn)
	res.Stats.PromotedTime = time.Since(start)
	return res, a.errorf(what, err)
}

// tries makes up to p.Tries tries, counting them in *n.
func (a *DistributedAtomicLong) tries(ctx context.Context, p RetryPolicy, res *AtomicValue, n *int, fn func(int64) int64) (bool, error) {
	wait := p.Backoff
	for i := 0; i < p.Tries; i++ {
		if i > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return false, context.Cause(ctx)
			}
			wait = min(2*wait, time.Second)
		}
		*n++
		ok, err := a.once(ctx, res, fn)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// once reads, computes and writes if the node did not change meanwhile.
func (a *DistributedAtomicLong) once(ctx context.Context, res *AtomicValue, fn func(int64) int64) (bool, error) {
	pre, version, found, err := a.read(ctx)
	if err != nil {
		return false, err
	}
	post := fn(pre)
	res.PreValue, res.PostValue, res.Succeeded = pre, pre, false
	_, err = a.c.versionedWrite(ctx, a.path, longBytes(post), version, !found)
	switch {
	case errors.Is(err, errConflict):
		return false, nil
	case err != nil:
		return false, err
	}
	res.PostValue, res.Succeeded = post, true
	return true, nil
}

// read returns the value (0 if missing) and the node's version.
func (a *DistributedAtomicLong) read(ctx context.Context) (int64, int32, bool, error) {
	data, st, found, err := a.c.readNode(ctx, a.path)
	if err != nil || !found {
		return 0, 0, false, err
	}
	v, err := longOf(data)
	if err != nil {
		return 0, 0, false, err
	}
	return v, st.Version, true, nil
}

// longOf reads a long as Curator's DistributedAtomicLong does: no data is
// 0, and a longer value is read from its first 8 bytes.
func longOf(data []byte) (int64, error) {
	switch {
	case len(data) == 0:
		return 0, nil
	case len(data) < 8:
		return 0, fmt.Errorf("%w: a long is 8 bytes, not %d", ErrCorrupt, len(data))
	}
	return int64(binary.BigEndian.Uint64(data)), nil
}

func (a *DistributedAtomicLong) usable(ctx context.Context) error {
	if ctx == nil {
		return fmt.Errorf("recipes: atomic long %s: %w: nil context", a.path, zk.ErrBadArguments)
	}
	if err := a.c.Err(); err != nil {
		return fmt.Errorf("recipes: atomic long %s: %w", a.path, err)
	}
	return nil
}

func (a *DistributedAtomicLong) errorf(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("recipes: atomic long %s: %s: %w", a.path, what, err)
}

func longBytes(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
