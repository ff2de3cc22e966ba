package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/wal"
	"github.com/embedzk/zk/watch"
	"github.com/embedzk/zk/znode"
)

// A replay serves FromZxid. The log holds txns, not their effects: what a
// delete or a session close removed, and the ACLs a watch is filtered with,
// depend on the state each txn met. So a replay rebuilds that state: a
// scratch tree in memory, restored from the newest retained snapshot at or
// before the requested zxid (or the initial tree while the log still starts
// at zxid 0), then plays the log forward with the very Apply the apply loop
// runs, triggering a private watch Manager that holds only the new
// registration. The events it collects are therefore exactly those the live
// apply loop delivered, data included (WithEventData reads the scratch tree
// right after each txn, as the live sink reads the peer's tree).
//
// The bulk of it runs on the caller's goroutine without the apply lock;
// finish, under the apply lock's read side, plays the last few entries up
// to the tree's applied zxid and hands the events over, and the caller
// registers the live watch in the same critical section: no change is
// applied between the last replayed one and the first live one.
type replay struct {
	e     *Ensemble
	tree  *znode.Tree    // scratch, at zxid at
	mgr   *watch.Manager // the private Manager
	col   *collector
	at    int64
	from  int64
	may   watch.MayRead
	held  bool // holds the Ensemble's replay semaphore
	nread int  // entries played, for tests
}

// scratchCache and scratchMemTable keep a scratch tree small: it lives for
// one AddWatch call.
const (
	scratchCache    = 4 << 20
	scratchMemTable = 16 << 20
)

// prepareReplay builds the scratch tree for a watch resuming after o.from
// and plays the log up to about the peer's applied zxid.
func (s *Session) prepareReplay(ctx context.Context, path string, kind watch.Kind, o watchOpts) (*replay, error) {
	e := s.e
	if err := e.strict.acquire(ctx); err != nil {
		return nil, err
	}
	rp := &replay{e: e, from: o.from, may: s.mayReadNow, held: true, col: &collector{limit: o.buffer}}
	if err := rp.load(ctx, s.id, path, kind, o.data); err != nil {
		rp.close()
		return nil, err
	}
	return rp, nil
}

// load builds the scratch tree and plays the log up to about the applied
// zxid.
func (rp *replay) load(ctx context.Context, session int64, path string, kind watch.Kind, data bool) error {
	e := rp.e
	if err := rp.open(); err != nil {
		return err
	}
	var sink watch.Sink = rp.col
	if data {
		sink = &dataSink{inner: rp.col, tree: rp.tree}
	}
	rp.mgr = watch.NewManager()
	if _, err := rp.mgr.Add(session, path, kind, sink); err != nil {
		return err
	}
	// Two passes: the second catches what was applied during the first, so
	// that finish, under the apply lock, has little left to play.
	for i := 0; i < 2; i++ {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		if err := rp.advance(e.applied.load()); err != nil {
			return err
		}
	}
	return nil
}

// mayReadNow is the ACL check of a replay: the session's identities now, as
// the live apply loop checks them for an attached session.
func (s *Session) mayReadNow(_ int64, acl []znode.ACL) bool { return s.allowed(acl, znode.PermRead) }

// open picks the starting state and loads it into a new scratch tree.
func (rp *replay) open() error {
	start, err := rp.startZxid()
	if err != nil {
		return err
	}
	t, err := znode.Open(znode.Options{
		FS: vfs.NewMem(), Dir: "/replay", MaxDataSize: MaxJuteMaxBuffer, // as the live tree: the request limit is checked before
		CacheSize: scratchCache, MemTableSize: scratchMemTable,
	})
	if err != nil {
		return fmt.Errorf("zk: replay: %w", err)
	}
	rp.tree = t
	if start == 0 {
		return nil // the initial tree, as every peer starts
	}
	r, err := rp.e.openSnapshot(start)
	if err != nil {
		return compacted(rp.from, err)
	}
	defer r.Close()
	got, err := t.Restore(bufio.NewReader(r))
	if err != nil {
		return fmt.Errorf("zk: replay: loading snapshot %#x: %w", start, err)
	}
	if got != start {
		return fmt.Errorf("%w: replay: snapshot file %#x holds zxid %#x", zkerr.ErrSystem, start, got)
	}
	rp.at = start
	return nil
}

// startZxid returns the zxid of the state a replay starts from: the newest
// retained snapshot at or before from that the log continues, or 0 (the
// initial tree) while the log still starts at zxid 0.
func (rp *replay) startZxid() (int64, error) {
	base := rp.e.wal.Base()
	for _, z := range rp.e.wal.Snapshots() { // newest first
		if z <= rp.from && z >= base {
			return z, nil
		}
	}
	if base == 0 {
		return 0, nil
	}
	return 0, fmt.Errorf("%w: zxid %#x: the log starts after %#x", zkerr.ErrCompacted, rp.from, base)
}

// compacted wraps a log or snapshot that went missing during a replay.
func compacted(from int64, err error) error {
	return fmt.Errorf("%w: zxid %#x: %v", zkerr.ErrCompacted, from, err)
}

// errReplayDone stops a log read at the target zxid.
var errReplayDone = errors.New("replay reached its target")

// advance plays the log entries after rp.at up to zxid to.
func (rp *replay) advance(to int64) error {
	if rp.at >= to {
		return nil
	}
	err := rp.e.wal.ReadFrom(rp.at, func(ent wal.Entry) error {
		if ent.Zxid > to {
			return errReplayDone
		}
		return rp.play(ent)
	})
	switch {
	case err == nil || errors.Is(err, errReplayDone):
	case errors.Is(err, wal.ErrNotFound):
		return compacted(rp.from, err)
	default:
		return fmt.Errorf("zk: replay: reading the log: %w", err)
	}
	if rp.col.over {
		return fmt.Errorf("zk: replay after zxid %#x: more than %d events: %w", rp.from, rp.col.limit, zkerr.ErrWatchOverflow)
	}
	if rp.at < to {
		// The log ends before the applied zxid: the peer's log was reset
		// under us (a snapshot from the leader).
		return fmt.Errorf("%w: zxid %#x: the log ends at %#x", zkerr.ErrCompacted, rp.from, rp.at)
	}
	return nil
}

// play applies one log entry to the scratch tree and triggers its events.
func (rp *replay) play(ent wal.Entry) error {
	en, err := decodeLogEntry(ent.Data)
	if err != nil {
		return fmt.Errorf("%w: replay: entry %#x: %v", zkerr.ErrSystem, ent.Zxid, err)
	}
	txn := en.Txn
	if len(en.Failure) > 0 {
		txn = noopFor(en.Txn) // as the apply loop: a failure changed nothing
	}
	_, changes, err := rp.tree.Apply(ent.Zxid, txn)
	if err != nil {
		return fmt.Errorf("%w: replay: applying %#x: %v", zkerr.ErrSystem, ent.Zxid, err)
	}
	rp.at = ent.Zxid
	rp.nread++
	if ent.Zxid > rp.from && len(changes) > 0 {
		rp.mgr.Trigger(changes, rp.may)
	}
	if rp.col.over {
		return errReplayDone // no use going on; advance reports it
	}
	return nil
}

// finish plays the entries up to applied (the caller holds the apply lock's
// read side, so nothing is applied meanwhile) and queues the events in q.
func (rp *replay) finish(applied int64, q *watch.Queue) error {
	if err := rp.advance(applied); err != nil {
		return err
	}
	for _, ev := range rp.col.evs {
		if !q.Deliver(ev) {
			return fmt.Errorf("zk: replay after zxid %#x: more than %d events: %w", rp.from, rp.col.limit, zkerr.ErrWatchOverflow)
		}
	}
	rp.col.evs = nil
	return nil
}

// close releases the scratch tree and the semaphore; nil-safe.
func (rp *replay) close() {
	if rp == nil {
		return
	}
	if rp.tree != nil {
		if err := rp.tree.Close(); err != nil {
			rp.e.cfg.Logger.Warn("zk: closing a replay's scratch tree", "err", err)
		}
		rp.tree = nil
	}
	if rp.held {
		rp.held = false
		rp.e.strict.release()
	}
}

// collector is the replayed registration's sink: it gathers the events, up
// to limit.
type collector struct {
	evs   []watch.Event
	limit int
	over  bool
}

func (c *collector) Deliver(ev watch.Event) bool {
	if len(c.evs) >= c.limit {
		c.over = true
		return false
	}
	c.evs = append(c.evs, ev)
	return true
}

func (c *collector) Overflow() { c.over = true }
func (c *collector) Close()    {}
