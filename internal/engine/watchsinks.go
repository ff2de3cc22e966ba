package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/watch"
	"github.com/embedzk/zk/znode"
)

// nodeReader is the tree a dataSink reads: the peer's own, or a replay's
// scratch tree.
type nodeReader interface {
	Get(path string) (znode.Node, error)
}

// dataSink attaches to each change event the node as its transaction left
// it (Event.Node). The Manager calls Deliver inside Trigger, which the apply
// loop runs right after applying the transaction and before the next one,
// with the apply lock held: the read sees exactly that state.
type dataSink struct {
	inner watch.Sink
	tree  nodeReader
}

func (d *dataSink) Deliver(ev watch.Event) bool {
	switch ev.Type {
	case watch.EventNodeCreated, watch.EventNodeDataChanged, watch.EventNodeChildrenChanged:
		if n, err := d.tree.Get(ev.Path); err == nil {
			ev.Node = &watch.NodeState{Data: n.Data, Stat: n.Stat}
		}
	}
	return d.inner.Deliver(ev)
}

func (d *dataSink) Overflow() { d.inner.Overflow() }
func (d *dataSink) Close()    { d.inner.Close() }

// strictSink marks a watch that promises a gapless stream (FromZxid or
// WithEventData): the peer keeps a set of them so that, when it replaces its
// tree with a leader's snapshot, it ends them with ErrCompacted rather than
// approximating what they missed.
type strictSink struct {
	inner watch.Sink
	set   *strictWatches
	id    watch.ID // set right after Add, under the apply lock's read side
	path  string
}

func (s *strictSink) Deliver(ev watch.Event) bool { return s.inner.Deliver(ev) }

func (s *strictSink) Overflow() {
	s.set.remove(s)
	s.inner.Overflow()
}

func (s *strictSink) Close() {
	s.set.remove(s)
	s.inner.Close()
}

// strictWatches is the set of live strict watches of a peer, and the
// semaphore that lets one replay at a time build its scratch tree.
type strictWatches struct {
	mu     sync.Mutex
	sinks  map[*strictSink]struct{}
	replay chan struct{} // capacity 1, made lazily
	built  int           // replays built from the log, for tests
}

func (w *strictWatches) add(s *strictSink) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sinks == nil {
		w.sinks = map[*strictSink]struct{}{}
	}
	w.sinks[s] = struct{}{}
}

func (w *strictWatches) remove(s *strictSink) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.sinks, s)
}

// endAll ends every strict watch with EventNotWatching and an error
// wrapping ErrCompacted: the tree jumped to zxid without applying the
// changes in between. The caller holds the apply lock, so no registration is
// half made.
func (w *strictWatches) endAll(m *watch.Manager, zxid int64) {
	w.mu.Lock()
	victims := make([]*strictSink, 0, len(w.sinks))
	for s := range w.sinks {
		victims = append(victims, s)
	}
	w.mu.Unlock()
	reason := fmt.Errorf("%w: the peer installed a leader's snapshot at %#x", zkerr.ErrCompacted, zxid)
	for _, s := range victims {
		m.EndID(s.id, watch.Event{Type: watch.EventNotWatching, Path: s.path, Err: reason})
	}
}

// acquire takes the replay semaphore (within ctx); release gives it back.
func (w *strictWatches) acquire(ctx context.Context) error {
	w.mu.Lock()
	if w.replay == nil {
		w.replay = make(chan struct{}, 1)
	}
	c := w.replay
	w.mu.Unlock()
	select {
	case c <- struct{}{}:
		w.mu.Lock()
		w.built++
		w.mu.Unlock()
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (w *strictWatches) release() {
	w.mu.Lock()
	c := w.replay
	w.mu.Unlock()
	<-c
}
