package recipes

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/embedzk/zk"
)

// QueueItem is an item taken from a queue: claimed by this Client, not
// yet acknowledged. Its claim is an ephemeral node, so if the session ends
// before Ack the item goes back to the queue for another consumer
// (at-least-once). Ack removes the item and its claim in one transaction:
// an item is acknowledged once, by the one consumer whose claim stood.
type QueueItem struct {
	q      *queueCore
	h      *hold
	node   string // the item's node
	lock   string // its claim
	values [][]byte
	done   atomic.Bool
}

// Node returns the item's node.
func (it *QueueItem) Node() string { return it.node }

// Data returns the item's first value (a Put's value); nil if none.
func (it *QueueItem) Data() []byte {
	if len(it.values) == 0 {
		return nil
	}
	return it.values[0]
}

// Values returns every value of the item (a PutMulti's, in order).
func (it *QueueItem) Values() [][]byte { return it.values }

// Context returns a context cancelled when the claim may be lost (as a
// lease's: the session may have expired and another consumer taken the
// item), or when the item is acknowledged or released.
func (it *QueueItem) Context() context.Context { return it.h.ctx }

// Ack acknowledges the item as taken: it deletes the item and its claim in
// one transaction, which succeeds only while the claim stands (a claim
// lost with its session fails it, with an error wrapping ErrLockLost), so
// no item is ever acknowledged twice. A try whose outcome is unknown is
// tried again; if ctx ends first the error wraps zk.ErrOutcomeUnknown, and
// the claim is given back unless the Ack happened. So does an Ack whose
// session ends while a try's outcome is unknown. A second Ack or Release
// fails with ErrNotLocked.
func (it *QueueItem) Ack(ctx context.Context) error {
	if ctx == nil {
		return fmt.Errorf("recipes: ack %s: %w: nil context", it.node, zk.ErrBadArguments)
	}
	if !it.done.CompareAndSwap(false, true) {
		return fmt.Errorf("recipes: ack %s: %w", it.node, ErrNotLocked)
	}
	c := it.q.c
	defer it.finish()
	var b backoff
	tried := false
	for {
		res, err := it.tryAck(ctx)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, zk.ErrNoNode) && len(res) > 0 && res[0].Err != nil:
			if tried {
				if _, _, found, rerr := c.readNode(ctx, it.lock); rerr == nil && !found {
					return nil // an earlier try happened
				}
			}
			c.deleteNode(ctx, it.lock)
			return fmt.Errorf("recipes: ack %s: item deleted by someone else: %w", it.node, err)
		case errors.Is(err, zk.ErrNoNode):
			return fmt.Errorf("recipes: ack %s: %w: claim %s deleted: %w", it.node, ErrLockLost, it.lock, err)
		case !transient(err) || endedErr(c.conn.State()) != nil:
			if tried || transient(err) {
				// A try may have happened, and the claim that would tell
				// went with the session, or cannot be read any more.
				return fmt.Errorf("recipes: ack %s: %w: %w", it.node, zk.ErrOutcomeUnknown, err)
			}
			return fmt.Errorf("recipes: ack %s: %w", it.node, err)
		}
		tried = true
		if ctx.Err() != nil || c.pause(ctx, &b) != nil {
			c.settleDelete(it.lock)
			return fmt.Errorf("recipes: ack %s: %w: %w", it.node, zk.ErrOutcomeUnknown, context.Cause(ctx))
		}
	}
}

func (it *QueueItem) tryAck(ctx context.Context) ([]zk.OpResult, error) {
	var res []zk.OpResult
	err := it.q.c.write(func() (err error) {
		res, err = it.q.c.conn.Multi(ctx, zk.DeleteOp(it.node, -1), zk.DeleteOp(it.lock, -1))
		return err
	})
	if err == nil {
		it.q.c.track(it.lock, false)
	}
	return res, err
}

// Release gives the item back to the queue without acknowledging it: its
// claim is deleted (guaranteed) and another consumer may take it.
func (it *QueueItem) Release(ctx context.Context) error {
	if ctx == nil {
		return fmt.Errorf("recipes: release %s: %w: nil context", it.node, zk.ErrBadArguments)
	}
	if !it.done.CompareAndSwap(false, true) {
		return fmt.Errorf("recipes: release %s: %w", it.node, ErrNotLocked)
	}
	it.h.ctx.cancel(ErrReleased)
	it.q.c.unregister(it.h, nil)
	it.q.c.deleteNode(ctx, it.lock)
	return nil
}

// finish ends the claim's hold after an Ack.
func (it *QueueItem) finish() {
	it.h.ctx.cancel(ErrReleased)
	it.q.c.unregister(it.h, nil)
}

// Curator's ItemSerializer format, so that Curator's queues and these
// read each other's items: a version, then each value as an opcode and a
// length, then an end opcode.
const (
	itemVersion = 0x00010001
	itemOpcode  = 0x01
	itemEOF     = 0x02
)

func encodeItems(values [][]byte) []byte {
	n := 5
	for _, v := range values {
		n += 5 + len(v)
	}
	out := binary.BigEndian.AppendUint32(make([]byte, 0, n), itemVersion)
	for _, v := range values {
		out = append(out, itemOpcode)
		out = binary.BigEndian.AppendUint32(out, uint32(len(v)))
		out = append(out, v...)
	}
	return append(out, itemEOF)
}

// decodeItems reads Curator's format; data in any other format is one
// value as it is (an item written by hand).
func decodeItems(data []byte) [][]byte {
	if len(data) < 5 || binary.BigEndian.Uint32(data) != itemVersion {
		return [][]byte{data}
	}
	var out [][]byte
	for rest := data[4:]; ; {
		switch {
		case len(rest) == 1 && rest[0] == itemEOF:
			return out
		case len(rest) < 5 || rest[0] != itemOpcode:
			return [][]byte{data}
		}
		n := binary.BigEndian.Uint32(rest[1:])
		if uint64(len(rest)-5) < uint64(n) {
			return [][]byte{data}
		}
		out = append(out, rest[5:5+n])
		rest = rest[5+n:]
	}
}
