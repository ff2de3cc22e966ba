package recipes

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"

	"github.com/embedzk/zk"
)

// ChildData is one child of a live view: its data and Stat as last read.
type ChildData struct {
	Data []byte
	Stat zk.Stat
}

// liveChildren is what the live views (GroupMember, ServiceCache) stand
// on: the children of one directory and their data, kept in step with the
// tree. dirView makes it of one-shot watches; a cache of the tree can take
// its place without the views changing.
type liveChildren interface {
	// snapshot returns a copy of the children (name -> data) and whether
	// the first full read is done.
	snapshot() (map[string]ChildData, bool)
	// changed returns a channel closed at the next change of the content
	// (or of initialization).
	changed() <-chan struct{}
	close()
}

// dirView keeps a directory's children and their data with one-shot
// watches: a child watch on the directory (an existence watch while it is
// missing) and a data watch on each child, whose events one goroutine per
// child hands to the view's loop. One-shot watches are refired by a peer
// that caught up by snapshot, so nothing is missed across a leader change.
// The content converges to the tree once writes stop; each child's data is
// one the node really had, read after its change was announced.
type dirView struct {
	c   *Client
	dir string

	mu      sync.Mutex
	nodes   map[string]ChildData
	ready   bool
	changes chan struct{}

	events  chan string     // children whose data watch fired
	watched map[string]bool // children with a data watch (loop only)
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

var _ liveChildren = (*dirView)(nil)

// newDirView starts a view of dir; it follows it until close or the end of
// the Client.
func newDirView(c *Client, dir string) *dirView {
	v := &dirView{c: c, dir: dir, nodes: map[string]ChildData{}, changes: make(chan struct{}),
		events: make(chan string), watched: map[string]bool{}}
	v.ctx, v.cancel = context.WithCancel(context.Background())
	stop := context.AfterFunc(c.ctx, v.cancel)
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		defer stop()
		defer v.cancel() // the children's goroutines end with the loop
		v.run()
	}()
	return v
}

func (v *dirView) snapshot() (map[string]ChildData, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return maps.Clone(v.nodes), v.ready
}

func (v *dirView) changed() <-chan struct{} {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.changes
}

func (v *dirView) close() {
	v.cancel()
	v.wg.Wait()
}

// run lists the directory whenever its children change, reads each new
// child (with a data watch) and a child again when its watch fires.
func (v *dirView) run() {
	var b backoff
	var list <-chan zk.Event
	relist := true
	for v.ctx.Err() == nil {
		var err error
		if relist {
			list, err = v.list()
		}
		if err != nil {
			if v.c.retryable(v.ctx, err, &b) != nil {
				return
			}
			continue
		}
		relist, b = false, backoff{}
		select {
		case <-list:
			relist = true
		case name := <-v.events:
			if err := v.read(name); err != nil {
				v.watched[name] = false
				relist = true // read it again with the next listing
				if v.c.retryable(v.ctx, err, &b) != nil {
					return
				}
			}
		case <-v.ctx.Done():
			return
		}
	}
}

// list reads the children, drops the gone ones and reads the new ones.
func (v *dirView) list() (<-chan zk.Event, error) {
	kids, _, ch, err := v.c.conn.ChildrenW(v.ctx, v.dir)
	if errors.Is(err, zk.ErrNoNode) {
		var exists bool
		exists, _, ch, err = v.c.conn.ExistsW(v.ctx, v.dir)
		if err == nil && exists {
			return v.list()
		}
		kids = nil
	}
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	for name := range v.nodes {
		if !slices.Contains(kids, name) {
			delete(v.nodes, name)
			v.watched[name] = false
		}
	}
	v.mu.Unlock()
	for _, name := range kids {
		if !v.watched[name] {
			if err := v.read(name); err != nil {
				return nil, err
			}
		}
	}
	v.publish(true)
	return ch, nil
}

// read reads one child with a data watch, whose event it hands on.
func (v *dirView) read(name string) error {
	data, st, ch, err := v.c.conn.GetW(v.ctx, v.dir+"/"+name)
	if errors.Is(err, zk.ErrNoNode) {
		v.mu.Lock()
		delete(v.nodes, name)
		v.mu.Unlock()
		v.watched[name] = false
		v.publish(false)
		return nil
	}
	if err != nil {
		return err
	}
	v.mu.Lock()
	v.nodes[name] = ChildData{Data: data, Stat: st}
	v.mu.Unlock()
	v.watched[name] = true
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		select {
		case <-ch:
			select {
			case v.events <- name:
			case <-v.ctx.Done():
			}
		case <-v.ctx.Done():
		}
	}()
	v.publish(false)
	return nil
}

// publish tells the waiters that the content changed (and, after a full
// listing, that the view is initialized).
func (v *dirView) publish(listed bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ready = v.ready || listed
	close(v.changes)
	v.changes = make(chan struct{})
}
