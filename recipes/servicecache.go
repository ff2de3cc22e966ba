package recipes

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/embedzk/zk"
)

// ServiceCache is Curator x-discovery's ServiceCache: the instances of one
// service, kept in step with the registry (a live view of the service's
// directory), with listeners told of every change.
type ServiceCache struct {
	d    *ServiceDiscovery
	name string

	mu        sync.Mutex
	state     runState
	view      liveChildren
	listeners []func()
	ctx       context.Context
	cancel    context.CancelFunc
	done      chan struct{}
}

// NewServiceCache returns a cache of the service name's instances; Start
// fills it.
func (d *ServiceDiscovery) NewServiceCache(name string) (*ServiceCache, error) {
	if pathProblem("/"+name) != "" || strings.Contains(name, "/") {
		return nil, d.errorf("cache", fmt.Errorf("%w: service name %q", zk.ErrInvalidPath, name))
	}
	sc := &ServiceCache{d: d, name: name, done: make(chan struct{})}
	sc.ctx, sc.cancel = context.WithCancel(context.Background())
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, d.errorf("cache", zk.ErrClosed)
	}
	d.caches[sc] = true
	return sc, nil
}

// AddListener adds fn, called (on the cache's goroutine) after each change
// of the instances: keep it short.
func (sc *ServiceCache) AddListener(fn func()) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.listeners = append(sc.listeners, fn)
}

// Start fills the cache and returns once the instances were read (or ctx
// ended); the cache then follows the registry until Close or the end of
// the Client.
func (sc *ServiceCache) Start(ctx context.Context) error {
	if err := usable(ctx, sc.d.c); err != nil {
		return sc.d.errorf("cache "+sc.name, err)
	}
	sc.mu.Lock()
	if sc.state != latent {
		sc.mu.Unlock()
		return sc.d.errorf("cache "+sc.name, ErrAlreadyStarted)
	}
	sc.state = started
	sc.view = newDirView(sc.d.c, sc.d.base+"/"+sc.name)
	view := sc.view
	sc.mu.Unlock()
	go sc.tell(view)
	for {
		ch := view.changed()
		if _, ready := view.snapshot(); ready {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return sc.d.errorf("cache "+sc.name, context.Cause(ctx))
		case <-sc.d.c.Done():
			return sc.d.errorf("cache "+sc.name, sc.d.c.Err())
		}
	}
}

// tell calls the listeners after each change until the cache closes.
func (sc *ServiceCache) tell(view liveChildren) {
	defer close(sc.done)
	ch := view.changed()
	for {
		select {
		case <-ch:
		case <-sc.ctx.Done():
			return
		}
		ch = view.changed() // before the listeners read: no change missed
		sc.mu.Lock()
		fns := append([]func(){}, sc.listeners...)
		sc.mu.Unlock()
		for _, fn := range fns {
			fn()
		}
	}
}

// Instances returns the instances as the cache holds them, by id.
func (sc *ServiceCache) Instances() []ServiceInstance {
	sc.mu.Lock()
	view := sc.view
	sc.mu.Unlock()
	if view == nil {
		return nil
	}
	nodes, _ := view.snapshot()
	return decodeInstances(nodes)
}

// Changed returns a channel closed at the next change of the instances
// (nil before Start). To wait for a state, take the channel before
// reading Instances: one taken after the read misses a change made in
// between.
func (sc *ServiceCache) Changed() <-chan struct{} {
	sc.mu.Lock()
	view := sc.view
	sc.mu.Unlock()
	if view == nil {
		return nil
	}
	return view.changed()
}

// Close stops the cache. Closing twice does nothing.
func (sc *ServiceCache) Close() error {
	sc.mu.Lock()
	st, view := sc.state, sc.view
	sc.state = closed
	sc.mu.Unlock()
	sc.d.mu.Lock()
	delete(sc.d.caches, sc)
	sc.d.mu.Unlock()
	if st != started {
		return nil
	}
	sc.cancel()
	<-sc.done
	view.close()
	return nil
}
