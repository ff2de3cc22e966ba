package zkclient

import (
	"sort"
	"strings"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
)

// watchSet is the client's side of its watches, as ZooKeeper's
// ZKWatchManager keeps them for the default watcher: which paths have a
// data, exist, child, persistent or persistent-recursive watch. It decides
// which notifications reach Events, what a reconnect re-registers and what
// a removeWatches removed.
type watchSet struct {
	data, exist, child, persistent, recursive map[string]bool
}

func newWatchSet() watchSet {
	return watchSet{
		data: map[string]bool{}, exist: map[string]bool{}, child: map[string]bool{},
		persistent: map[string]bool{}, recursive: map[string]bool{},
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// setWatches is what a reconnect sends: nil without watches; SetWatches2
// when there are persistent ones.
func (w *watchSet) setWatches(zxid int64) *jute.SetWatches {
	if len(w.data)+len(w.exist)+len(w.child)+len(w.persistent)+len(w.recursive) == 0 {
		return nil
	}
	sw := &jute.SetWatches{
		RelativeZxid: zxid, DataWatches: keys(w.data), ExistWatches: keys(w.exist), ChildWatches: keys(w.child),
	}
	if len(w.persistent)+len(w.recursive) > 0 {
		sw.V2 = true
		sw.PersistentWatches, sw.PersistentRecursive = keys(w.persistent), keys(w.recursive)
	}
	return sw
}

// take removes path's one-shot watches a notification of type typ fires
// and reports whether any (or a persistent watch) matched.
func (w *watchSet) take(path string, typ zk.EventType) bool {
	hit := false
	pop := func(m map[string]bool) {
		if m[path] {
			delete(m, path)
			hit = true
		}
	}
	switch typ {
	case zk.EventNodeCreated, zk.EventNodeDataChanged:
		pop(w.data)
		pop(w.exist)
	case zk.EventNodeChildrenChanged:
		pop(w.child)
	case zk.EventNodeDeleted:
		pop(w.data)
		pop(w.exist)
		pop(w.child)
	}
	if w.persistent[path] {
		hit = true
	}
	if typ != zk.EventNodeChildrenChanged {
		// A recursive watch gets every event below it but child events.
		for p := path; ; p = parent(p) {
			if w.recursive[p] {
				hit = true
			}
			if p == "/" {
				break
			}
		}
	}
	return hit
}

func parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// notify queues a notification if a watch of the client matched it.
func (c *Client) notify(ev jute.WatcherEvent) {
	typ := zk.EventType(ev.Type)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.watches.take(ev.Path, typ) {
		c.queue(Event{State: "SyncConnected", Type: typ, Path: c.client(ev.Path)})
	}
}

// registrar returns what a read's reply registers: kind "data" (getData),
// "exists" or "child" (getChildren).
func (c *Client) registrar(path, kind string) func(code int32) {
	return func(code int32) {
		c.mu.Lock()
		defer c.mu.Unlock()
		switch {
		case code == 0 && kind == "child":
			c.watches.child[path] = true
		case code == 0:
			c.watches.data[path] = true
		case kind == "exists" && code == int32(zkerr.CodeNoNode):
			c.watches.exist[path] = true
		}
	}
}

// removed drops path's registrations of type typ after the server removed
// them, queues their removal events (data, child, persistent, in
// ZooKeeper's order of event types) and reports whether there were any.
func (c *Client) removed(path string, typ zk.WatcherType) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &c.watches
	drop := func(ms ...map[string]bool) bool {
		any := false
		for _, m := range ms {
			if m[path] {
				delete(m, path)
				any = true
			}
		}
		return any
	}
	var data, child, pers bool
	switch typ {
	case zk.WatcherChildren:
		child = drop(w.child)
	case zk.WatcherData:
		data = drop(w.data, w.exist)
	case zk.WatcherAny:
		child = drop(w.child)
		data = drop(w.data, w.exist)
		pers = drop(w.persistent, w.recursive)
	}
	for _, r := range []struct {
		ok  bool
		typ zk.EventType
	}{{data, zk.EventDataWatchRemoved}, {child, zk.EventChildWatchRemoved}, {pers, zk.EventPersistentWatchRemoved}} {
		if r.ok {
			c.queue(Event{State: "SyncConnected", Type: r.typ, Path: c.client(path)})
		}
	}
	return data || child || pers
}
