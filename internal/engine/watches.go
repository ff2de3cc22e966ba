package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/watch"
	"github.com/embedzk/zk/znode"
)

// DefaultWatchBuffer is the number of events a persistent watch buffers; a
// consumer that lets it fill up loses the watch (ErrWatchOverflow), never an
// event silently.
const DefaultWatchBuffer = 1024

// GetW is Get that also sets a one-shot data watch on the node: the channel
// receives one event (NodeDataChanged or NodeDeleted, or NotWatching if the
// session ends first) and is then closed. No watch is set if Get fails.
func (s *Session) GetW(ctx context.Context, path string) ([]byte, Stat, <-chan Event, error) {
	if err := s.checkPath(path, false); err != nil {
		return nil, Stat{}, nil, err
	}
	var n znode.Node
	var ch <-chan Event
	err := s.read(ctx, func() (err error) {
		if n, err = s.readNode(path, true, znode.PermRead); err == nil {
			ch = s.addWatch(path, watch.KindData)
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
			ch = s.addWatch(path, watch.KindExist)
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
			ch = s.addWatch(path, watch.KindChild)
		}
		return err
	})
	if err != nil {
		return nil, Stat{}, nil, opError("children", path, err)
	}
	return names, n.Stat, ch, nil
}

// addWatch registers a one-shot watch; the caller holds the apply lock.
func (s *Session) addWatch(path string, kind watch.Kind) <-chan Event {
	sink := watch.NewChanSink(1)
	s.e.watches.Add(s.id, path, kind, sink)
	return sink.C()
}

// Watch is a persistent watch (ZooKeeper 3.6's addWatch): it stays until
// removed or its session ends.
type Watch struct {
	s    *Session
	id   watch.ID
	sink *watch.ChanSink
}

// Events returns the watch's events in zxid order. The channel is closed
// when the watch ends: after a removal event, a NotWatching event (the
// session ended), or an overflow (Err reports ErrWatchOverflow).
func (w *Watch) Events() <-chan Event { return w.sink.C() }

// Err reports why the watch ended early: ErrWatchOverflow if its consumer
// fell behind, else nil.
func (w *Watch) Err() error { return w.sink.Err() }

// Remove removes the watch; its channel gets PersistentWatchRemoved and is
// closed. Removing a watch that already ended is not an error.
func (w *Watch) Remove() { w.s.e.watches.RemoveID(w.id) }

// AddWatch sets a persistent watch on path, recursive or not. A persistent
// watch gets NodeCreated, NodeDeleted, NodeDataChanged and
// NodeChildrenChanged for path; a recursive one gets the first three for
// path and every node below it (and never NodeChildrenChanged). The node
// need not exist; the session needs READ on the nodes it hears about.
func (s *Session) AddWatch(ctx context.Context, path string, recursive bool) (*Watch, error) {
	if err := s.checkPath(path, false); err != nil {
		return nil, err
	}
	kind := watch.KindPersistent
	if recursive {
		kind = watch.KindPersistentRecursive
	}
	var w *Watch
	err := s.read(ctx, func() error {
		sink := watch.NewChanSink(DefaultWatchBuffer)
		w = &Watch{s: s, id: s.e.watches.Add(s.id, path, kind, sink), sink: sink}
		return nil
	})
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
