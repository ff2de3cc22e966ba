package recipes

import (
	"context"
	"fmt"

	"github.com/embedzk/zk"
)

// Multi is Session.Multi inside the namespace: every op's path is taken
// relative to the root, and created paths come back relative.
func (n *Namespace) Multi(ctx context.Context, ops ...zk.Op) ([]zk.OpResult, error) {
	moved := make([]zk.Op, len(ops))
	for i, op := range ops {
		var err error
		if moved[i], err = op.Within(n.root); err != nil {
			return nil, fmt.Errorf("recipes: namespace %s: multi op %d: %w", n.root, i, err)
		}
	}
	if len(ops) > 0 {
		if err := n.ensureRoot(ctx); err != nil {
			return nil, n.wrap(err)
		}
	}
	res, err := n.s.Multi(ctx, moved...)
	for i := range res {
		res[i].Path = n.rel(res[i].Path)
		res[i].Err = n.wrap(res[i].Err)
	}
	return res, n.wrap(err)
}

// MultiRead is Session.MultiRead inside the namespace.
func (n *Namespace) MultiRead(ctx context.Context, ops ...zk.ReadOp) ([]zk.ReadResult, error) {
	moved := make([]zk.ReadOp, len(ops))
	for i, op := range ops {
		var err error
		if moved[i], err = op.Within(n.root); err != nil {
			return nil, fmt.Errorf("recipes: namespace %s: multiRead op %d: %w", n.root, i, err)
		}
	}
	res, err := n.s.MultiRead(ctx, moved...)
	for i := range res {
		res[i].Err = n.wrap(res[i].Err)
	}
	return res, n.wrap(err)
}

// AddWatch is Session.AddWatch inside the namespace: the watch reports
// paths relative to the root (zk.WithRelativePaths).
func (n *Namespace) AddWatch(ctx context.Context, path string, recursive bool, opts ...zk.WatchOption) (*zk.Watch, error) {
	full, err := n.Path(path)
	if err != nil {
		return nil, err
	}
	if n.root != "/" {
		opts = append(opts[:len(opts):len(opts)], zk.WithRelativePaths(n.root))
	}
	w, err := n.s.AddWatch(ctx, full, recursive, opts...)
	return w, n.wrap(err)
}

// RemoveWatches is Session.RemoveWatches inside the namespace.
func (n *Namespace) RemoveWatches(ctx context.Context, path string, typ zk.WatcherType) error {
	full, err := n.Path(path)
	if err != nil {
		return err
	}
	return n.wrap(n.s.RemoveWatches(ctx, full, typ))
}

// GetW is Session.GetW inside the namespace; the event's path is relative.
func (n *Namespace) GetW(ctx context.Context, path string) ([]byte, zk.Stat, <-chan zk.Event, error) {
	full, err := n.Path(path)
	if err != nil {
		return nil, zk.Stat{}, nil, err
	}
	data, st, ch, err := n.s.GetW(ctx, full)
	if err != nil {
		return nil, zk.Stat{}, nil, n.wrap(err)
	}
	return data, st, n.relay(ch), nil
}

// ExistsW is Session.ExistsW inside the namespace; the event's path is
// relative.
func (n *Namespace) ExistsW(ctx context.Context, path string) (bool, zk.Stat, <-chan zk.Event, error) {
	full, err := n.Path(path)
	if err != nil {
		return false, zk.Stat{}, nil, err
	}
	ok, st, ch, err := n.s.ExistsW(ctx, full)
	if err != nil {
		return false, zk.Stat{}, nil, n.wrap(err)
	}
	return ok, st, n.relay(ch), nil
}

// ChildrenW is Session.ChildrenW inside the namespace; the event's path is
// relative.
func (n *Namespace) ChildrenW(ctx context.Context, path string) ([]string, zk.Stat, <-chan zk.Event, error) {
	full, err := n.Path(path)
	if err != nil {
		return nil, zk.Stat{}, nil, err
	}
	names, st, ch, err := n.s.ChildrenW(ctx, full)
	if err != nil {
		return nil, zk.Stat{}, nil, n.wrap(err)
	}
	return names, st, n.relay(ch), nil
}

// relay passes a one-shot watch's event on with its path made relative.
// The goroutine ends with the watch: a one-shot watch's channel always gets
// one event (the change, a removal, or the end of its session or
// Ensemble) and is then closed, and out has room for it, so the goroutine
// never blocks.
func (n *Namespace) relay(in <-chan zk.Event) <-chan zk.Event {
	if n.root == "/" {
		return in
	}
	out := make(chan zk.Event, 1)
	go func() {
		defer close(out)
		for ev := range in {
			ev.Path = n.rel(ev.Path)
			out <- ev
		}
	}()
	return out
}
