package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/watch"
	"github.com/embedzk/zk/znode"
)

// DefaultWatchBuffer is the most events a persistent watch holds for its
// consumer; a consumer that lets that many pile up loses the watch
// (ErrWatchOverflow), never an event silently. The buffer grows with what is
// queued: an idle watch holds none.
const DefaultWatchBuffer = 1024

// newWatchManager returns the watch tables of a peer configured by cfg
// (defaults applied).
func newWatchManager(cfg Config) *watch.Manager {
	m := watch.NewManager()
	m.SetSessionLimit(cfg.MaxWatchesPerSession)
	return m
}

// GetW is Get that also sets a one-shot data watch on the node: the channel
// receives one event (NodeDataChanged or NodeDeleted, or NotWatching if the
// session ends first) and is then closed. No watch is set if Get fails; a
// session that has Config.MaxWatchesPerSession watches already gets
// ErrTooManyWatches (and no data) from every call that sets one.
func (s *Session) GetW(ctx context.Context, path string) ([]byte, Stat, <-chan Event, error) {
	if err := s.checkPath(path, false); err != nil {
		return nil, Stat{}, nil, err
	}
	var n znode.Node
	var ch <-chan Event
	err := s.read(ctx, func() (err error) {
		if n, err = s.readNode(path, true, znode.PermRead); err == nil {
			ch, err = s.addWatch(path, watch.KindData)
		}
		return err
	})
	if err != nil {
		return nil, Stat{}, nil, opError("get", path, err)
	}
	return n.Data, n.Stat, ch, nil
}

// ExistsW is Exists that also sets a one-shot watch: on an existing node it
// fires on its change or deletion, on a missing one on its creation.
func (s *Session) ExistsW(ctx context.Context, path string) (bool, Stat, <-chan Event, error) {
	if err := s.checkPath(path, false); err != nil {
		return false, Stat{}, nil, err
	}
	var n znode.Node
	var ch <-chan Event
	found := true
	err := s.read(ctx, func() (err error) {
		n, err = s.readNode(path, false, znode.PermRead)
		if errors.Is(err, zkerr.ErrNoNode) {
			found, err = false, nil
		}
		if err == nil {
			ch, err = s.addWatch(path, watch.KindExist)
		}
		return err
	})
	if err != nil {
		return false, Stat{}, nil, opError("exists", path, err)
	}
	return found, n.Stat, ch, nil
}

// ChildrenW is Children that also sets a one-shot child watch: it fires
// NodeChildrenChanged when a child is created or deleted, NodeDeleted when
// the node goes.
func (s *Session) ChildrenW(ctx context.Context, path string) ([]string, Stat, <-chan Event, error) {
	if err := s.checkPath(path, false); err != nil {
		return nil, Stat{}, nil, err
	}
	var names []string
	var n znode.Node
	var ch <-chan Event
	err := s.read(ctx, func() (err error) {
		if names, n, err = s.readChildren(path); err == nil {
			ch, err = s.addWatch(path, watch.KindChild)
		}
		return err
	})
	if err != nil {
		return nil, Stat{}, nil, opError("children", path, err)
	}
	return names, n.Stat, ch, nil
}

// addWatch registers a one-shot watch; the caller holds the apply lock.
// A one-shot watch gets exactly one event, so a channel of one holds it.
func (s *Session) addWatch(path string, kind watch.Kind) (<-chan Event, error) {
	sink := watch.NewChanSink(1)
	if _, err := s.registerAttached(path, kind, sink); err != nil {
		return nil, err
	}
	return sink.C(), nil
}

// registerAttached adds one registration of this session, and takes it back if
// the session ended meanwhile. A session ends (Expired, Closed, its peer
// closing) by being detached from the peer, then having its watches
// dropped; the call that registers may have found it usable just before
// (the ending runs without the apply lock, or holds it exclusively while
// the call waits for its read side). A watch added after the drop would
// never hear of anything again: the apply loop delivers only to attached
// sessions, and nothing would end it. So the session is checked after the
// Add: if it is still attached, any later ending drops this watch too.
func (s *Session) registerAttached(path string, kind watch.Kind, sink watch.Sink) (watch.ID, error) {
	id, err := s.e.watches.Add(s.id, path, kind, sink)
	if err != nil {
		return 0, err
	}
	if err := s.endedErr(); err != nil {
		s.e.watches.RemoveID(id)
		return 0, err
	}
	return id, nil
}

// endedErr returns why the session can hold no watch here any more (it is
// no longer attached to this peer), or nil.
func (s *Session) endedErr() error {
	if s.e.localSession(s.id) == s {
		return nil
	}
	switch {
	case s.State() == StateClosed, s.e.closed.Load():
		return zkerr.ErrClosed
	}
	return zkerr.ErrSessionExpired
}

// Watch is a persistent watch (ZooKeeper 3.6's addWatch): it stays until
// removed or its session ends. Its consumer pulls the events: Next waits for
// the next one; Ready and TryNext serve a select loop. Events wait in a
// buffer that grows with what is queued, up to DefaultWatchBuffer, so an
// idle watch costs a few hundred bytes.
type Watch struct {
	s   *Session
	id  watch.ID
	q   *watch.Queue
	rel string // WithRelativePaths' root, or ""

	batchMu sync.Mutex // one NextBatch at a time
}

// Next returns the watch's next event, in zxid order, waiting until there is
// one or ctx ends (an event already queued is returned even if ctx is done).
// The last event of a watch says why it ended: PersistentWatchRemoved, or
// NotWatching whose Err is ErrSessionExpired, ErrClosed (the session or the
// Ensemble closed) or ErrWatchOverflow (the consumer let DefaultWatchBuffer
// events pile up). After that last event Next returns an error: one that
// wraps ErrNoWatcher after a removal, else the last event's Err.
func (w *Watch) Next(ctx context.Context) (Event, error) {
	ev, err := w.q.Next(ctx)
	return w.out(ev), err
}

// TryNext returns the next event if one is queued, without waiting; false
// means none is queued now (Next tells whether the watch has ended).
func (w *Watch) TryNext() (Event, bool) {
	ev, ok := w.q.TryNext()
	return w.out(ev), ok
}

// out reports ev as the consumer sees it (paths relative to WithRelativePaths' root).
func (w *Watch) out(ev Event) Event {
	if w.rel != "" && ev.Path != "" {
		ev.Path = relativePath(ev.Path, w.rel)
	}
	return ev
}

// Ready returns a channel that holds a value whenever an event is queued or
// the watch has ended: receive from it, then take events with TryNext until
// it returns false. A value may be stale (TryNext then returns false at
// once); the channel is never closed.
//
//	for {
//		select {
//		case <-w.Ready():
//			for ev, ok := w.TryNext(); ok; ev, ok = w.TryNext() {
//				handle(ev) // the last one says why the watch ended
//			}
//		case <-ctx.Done():
//			return
//		}
//	}
func (w *Watch) Ready() <-chan struct{} { return w.q.Ready() }

// Err reports why the watch ended early: ErrWatchOverflow if its consumer
// fell behind, else nil.
func (w *Watch) Err() error { return w.q.Err() }

// Remove removes the watch; its last event is PersistentWatchRemoved.
// Removing a watch that already ended is not an error.
func (w *Watch) Remove() { w.s.e.watches.RemoveID(w.id) }

// AddWatch sets a persistent watch on path, recursive or not. A persistent
// watch gets NodeCreated, NodeDeleted, NodeDataChanged and
// NodeChildrenChanged for path; a recursive one gets the first three for
// path and every node below it (and never NodeChildrenChanged). The node
// need not exist; the session needs READ on the nodes it hears about. A
// session that has Config.MaxWatchesPerSession watches already gets
// ErrTooManyWatches.
//
// Options: FromZxid starts the watch in the past (a gapless resume),
// WithEventData attaches the node's data to each event, WithWatchBuffer
// bounds the events held, WithRelativePaths reports paths under a root. A
// watch with FromZxid or WithEventData is strict: if this peer ever replaces
// its tree with a leader's snapshot (it fell too far behind), the watch ends
// with NotWatching and an Err wrapping ErrCompacted instead of skipping
// changes; resume it with FromZxid (which then fails with ErrCompacted if
// this peer's log no longer reaches back: read again).
//
// A watch never outlives its session: one that ends while AddWatch (or
// GetW, ExistsW, ChildrenW) runs makes the call fail with
// ErrSessionExpired (ErrClosed if it was closed) and leaves no watch.
func (s *Session) AddWatch(ctx context.Context, path string, recursive bool, opts ...WatchOption) (*Watch, error) {
	if err := s.checkPath(path, false); err != nil {
		return nil, err
	}
	o, err := watchOptions(path, opts)
	if err != nil {
		return nil, opError("addWatch", path, err)
	}
	kind := watch.KindPersistent
	if recursive {
		kind = watch.KindPersistentRecursive
	}
	w, err := s.addPersistent(ctx, path, kind, o)
	if err != nil {
		return nil, opError("addWatch", path, err)
	}
	return w, nil
}

// RemoveWatches removes the session's watches of type typ on path, as
// ZooKeeper's removeWatches: each removed watch gets its removal event
// (DataWatchRemoved, ChildWatchRemoved or PersistentWatchRemoved) and is
// closed. It fails with ErrNoWatcher if none matched.
func (s *Session) RemoveWatches(ctx context.Context, path string, typ WatcherType) error {
	if err := s.checkPath(path, false); err != nil {
		return err
	}
	if typ < WatcherChildren || typ > WatcherPersistentRecursive {
		return fmt.Errorf("zk: removeWatches %s: %w: watcher type %d", path, zkerr.ErrBadArguments, typ)
	}
	err := s.read(ctx, func() error {
		_, err := s.e.watches.Remove(s.id, path, typ)
		return err
	})
	if err != nil {
		return opError("removeWatches", path, err)
	}
	return nil
}
