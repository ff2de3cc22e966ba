package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/watch"
	"github.com/embedzk/zk/znode"
)

// NodeState is a node's data and Stat as a transaction left them: what an
// event of a watch set WithEventData carries (Event.Node).
type NodeState = watch.NodeState

// WatchOption configures AddWatch.
type WatchOption func(*watchOpts)

type watchOpts struct {
	from     int64 // with resume: events of changes after this zxid
	resume   bool
	data     bool
	buffer   int
	relative string // "" or the root event paths are reported relative to
	err      error  // the first bad option
}

func (o *watchOpts) fail(err error) {
	if o.err == nil {
		o.err = err
	}
}

// strict reports whether the watch promises a gapless stream: it then ends
// (ErrCompacted) instead of being approximated when the peer replaces its
// tree with a leader's snapshot.
func (o *watchOpts) strict() bool { return o.resume || o.data }

// FromZxid starts the watch after zxid instead of now: AddWatch first
// delivers, in zxid order, the events of every change after zxid that the
// watch would have seen had it been set then (same types and paths, the
// same ACL filtering against the session's identities now), read from this
// peer's transaction log, then the live events, with no gap and no
// duplicate between them. zxid is typically the Zxid of the last event a
// consumer handled, or the Zxid a consistent read returned.
//
// If the log no longer holds every change after zxid, AddWatch fails with
// an error wrapping ErrCompacted: read the state again, then watch from the
// zxid of that read. If more than the watch's buffer (WithWatchBuffer)
// would be replayed, it fails with ErrWatchOverflow. If zxid is ahead of
// this peer, AddWatch first waits (within ctx) until the peer has applied
// it. A negative zxid is ErrBadArguments.
//
// Replaying rebuilds the tree as of zxid from the newest retained snapshot
// at or before it, then plays the log forward: it costs about a snapshot
// load plus the log since, on the calling goroutine, without holding up the
// peer (one replay at a time per peer).
func FromZxid(zxid int64) WatchOption {
	return func(o *watchOpts) {
		if zxid < 0 {
			o.fail(fmt.Errorf("%w: FromZxid(%d): a zxid is not negative", zkerr.ErrBadArguments, zxid))
		}
		o.from, o.resume = zxid, true
	}
}

// WithEventData attaches to each event the node's data and Stat right after
// the transaction that caused it (Event.Node): a consumer that applies the
// events in order holds, after the last event of each zxid, the state the
// tree had at that zxid, without reading it back. NodeDeleted carries no
// node. Use NextBatch to take the events of one zxid together.
func WithEventData() WatchOption { return func(o *watchOpts) { o.data = true } }

// WithWatchBuffer sets how many events the watch holds for its consumer
// (default DefaultWatchBuffer); past it the watch ends with
// ErrWatchOverflow. The buffer grows with what is queued, so a large bound
// costs nothing while the consumer keeps up. n < 1 is ErrBadArguments.
func WithWatchBuffer(n int) WatchOption {
	return func(o *watchOpts) {
		if n < 1 {
			o.fail(fmt.Errorf("%w: WithWatchBuffer(%d): at least 1", zkerr.ErrBadArguments, n))
		}
		o.buffer = n
	}
}

// WithRelativePaths reports event paths relative to root, as a chroot
// would: root itself is "/", root+"/a" is "/a". root must be the watched
// path or one of its ancestors (ErrBadArguments otherwise).
func WithRelativePaths(root string) WatchOption {
	return func(o *watchOpts) {
		if err := znode.ValidatePath(root); err != nil {
			o.fail(fmt.Errorf("zk: WithRelativePaths(%q): %w", root, err))
		}
		o.relative = root
	}
}

// watchOptions applies opts for a watch on path.
func watchOptions(path string, opts []WatchOption) (watchOpts, error) {
	o := watchOpts{buffer: DefaultWatchBuffer}
	for _, opt := range opts {
		if opt == nil {
			o.fail(fmt.Errorf("%w: nil WatchOption", zkerr.ErrBadArguments))
			continue
		}
		opt(&o)
	}
	if o.err == nil && o.relative != "" && !isUnder(path, o.relative) {
		o.fail(fmt.Errorf("%w: WithRelativePaths(%q): %s is not at or below it", zkerr.ErrBadArguments, o.relative, path))
	}
	if o.relative == "/" {
		o.relative = "" // nothing to strip
	}
	return o, o.err
}

// isUnder reports whether p is root or below it (both valid paths).
func isUnder(p, root string) bool {
	return root == "/" || p == root || strings.HasPrefix(p, root+"/")
}

// relativePath returns p relative to root (p at or below root).
func relativePath(p, root string) string {
	if root == "" {
		return p
	}
	if p == root {
		return "/"
	}
	return strings.TrimPrefix(p, root)
}

// errNeedReplay makes AddWatch build a replay it first thought unneeded (a
// change was applied between its check and the registration, or the
// journal no longer covers the zxid).
var errNeedReplay = errors.New("zk: a replay is needed")

// addPersistent is AddWatch.
func (s *Session) addPersistent(ctx context.Context, path string, kind watch.Kind, o watchOpts) (*Watch, error) {
	if o.resume {
		if err := s.e.applied.wait(ctx, o.from); err != nil {
			return nil, err
		}
	}
	for {
		var rp *replay
		if o.resume && s.e.applied.load() > o.from && !s.e.journal.covers(o.from) {
			var err error
			if rp, err = s.prepareReplay(ctx, path, kind, o); err != nil {
				return nil, err
			}
		}
		w, err := s.register(ctx, path, kind, o, rp)
		rp.close()
		if !errors.Is(err, errNeedReplay) {
			return w, err
		}
	}
}

// register registers the live watch, under the apply lock's read side,
// after the replay (if any) has caught up with the tree.
func (s *Session) register(ctx context.Context, path string, kind watch.Kind, o watchOpts, rp *replay) (*Watch, error) {
	var w *Watch
	err := s.read(ctx, func() error {
		q := watch.NewQueue(o.buffer)
		if err := s.catchUp(q, path, kind, o, rp); err != nil {
			return err
		}
		var sink watch.Sink = q
		var st *strictSink
		if o.data {
			sink = &dataSink{inner: q, tree: &s.e.live}
		}
		if o.strict() {
			st = &strictSink{inner: sink, set: &s.e.strict}
			sink = st
			s.e.strict.add(st)
		}
		id, err := s.registerAttached(path, kind, sink)
		if err != nil {
			if st != nil {
				s.e.strict.remove(st)
			}
			return err
		}
		if st != nil {
			st.id, st.path = id, path
		}
		w = &Watch{s: s, id: id, q: q, rel: o.relative}
		return nil
	})
	return w, err
}

// catchUp queues in q the events a resuming watch missed, up to the tree's
// applied zxid: from the replay rp if AddWatch built one, else from the
// journal; errNeedReplay if neither can. It also starts the journal at the
// first strict watch. The caller holds the apply lock's read side.
func (s *Session) catchUp(q *watch.Queue, path string, kind watch.Kind, o watchOpts, rp *replay) error {
	applied, _ := s.e.tree.Applied()
	if o.strict() {
		s.e.journal.start(applied)
	}
	switch {
	case !o.resume || applied <= o.from:
		return nil
	case rp != nil:
		return rp.finish(applied, q)
	}
	reg := func(sink watch.Sink) (*watch.Manager, error) {
		m := watch.NewManager()
		_, err := m.Add(s.id, path, kind, sink)
		return m, err
	}
	ok, err := s.e.journal.replay(o.from, applied, q, reg, o.data, s.mayReadNow, o.buffer)
	if err == nil && !ok {
		err = errNeedReplay
	}
	return err
}
