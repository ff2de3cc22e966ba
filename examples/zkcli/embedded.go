package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/embedzk/zk"
)

// embedded is the default Backend: a standalone zk peer on a data
// directory, in this process.
type embedded struct {
	ens      *zk.Ensemble
	dir      string
	reconfig bool // the peer runs with ReconfigEnabled
}

// openEmbedded starts a standalone peer on dir.
func openEmbedded(dir string) (*embedded, error) {
	ens, err := zk.NewEnsemble(zk.Config{DataDir: dir})
	if err != nil {
		return nil, err
	}
	return &embedded{ens: ens, dir: dir}, nil
}

// Addr names the embedded peer in the prompt.
func (e *embedded) Addr() string { return "embedded" }

func (e *embedded) Close() error { return e.ens.Close() }

func (e *embedded) Open(ctx context.Context, timeout time.Duration) (Conn, error) {
	var opts []zk.SessionOption
	if timeout > 0 {
		opts = append(opts, zk.WithSessionTimeout(timeout))
	}
	sess, err := e.ens.NewSession(ctx, opts...)
	if err != nil {
		return nil, err
	}
	c := &embeddedConn{peer: e, sess: sess, states: sess.States(), last: zk.StateConnected}
	c.events = append(c.events, Event{State: "SyncConnected", Type: "None"})
	return c, nil
}

// embeddedConn is a session on the embedded peer. It keeps the channels of
// its one-shot watches and its persistent watches, and drains them into
// zkCli's single stream of events on Events.
type embeddedConn struct {
	peer   *embedded
	sess   *zk.Session
	states <-chan zk.SessionState // the session's, taken once

	mu         sync.Mutex
	oneShot    []<-chan zk.Event
	persistent []*zk.Watch
	events     []Event // state changes noted, not yet returned
	last       zk.SessionState
	closed     bool
}

func (c *embeddedConn) watchOne(ch <-chan zk.Event) {
	if ch == nil {
		return
	}
	c.mu.Lock()
	c.oneShot = append(c.oneShot, ch)
	c.mu.Unlock()
}

func (c *embeddedConn) Create(ctx context.Context, path string, data []byte, acl []zk.ACL, mode zk.CreateMode, ttl time.Duration) (string, error) {
	opts := []zk.CreateOption{zk.WithMode(mode), zk.WithACL(acl...)}
	if ttl > 0 {
		opts = append(opts, zk.WithTTL(ttl))
	}
	return c.sess.Create(ctx, path, data, opts...)
}

func (c *embeddedConn) Delete(ctx context.Context, path string, version int32) error {
	return c.sess.Delete(ctx, path, version)
}

func (c *embeddedConn) DeleteBatch(ctx context.Context, paths []string) error {
	ops := make([]zk.Op, len(paths))
	for i, p := range paths {
		ops[i] = zk.DeleteOp(p, -1)
	}
	_, err := c.sess.Multi(ctx, ops...)
	return err
}

func (c *embeddedConn) Exists(ctx context.Context, path string, watch bool) (bool, zk.Stat, error) {
	if !watch {
		return c.sess.Exists(ctx, path)
	}
	ok, st, ch, err := c.sess.ExistsW(ctx, path)
	c.watchOne(ch)
	return ok, st, err
}

func (c *embeddedConn) Get(ctx context.Context, path string, watch bool) ([]byte, zk.Stat, error) {
	if !watch {
		return c.sess.Get(ctx, path)
	}
	data, st, ch, err := c.sess.GetW(ctx, path)
	c.watchOne(ch)
	return data, st, err
}

func (c *embeddedConn) Set(ctx context.Context, path string, data []byte, version int32) (zk.Stat, error) {
	return c.sess.Set(ctx, path, data, version)
}

func (c *embeddedConn) Children(ctx context.Context, path string, watch bool) ([]string, zk.Stat, error) {
	if !watch {
		return c.sess.Children(ctx, path)
	}
	names, st, ch, err := c.sess.ChildrenW(ctx, path)
	c.watchOne(ch)
	return names, st, err
}

func (c *embeddedConn) GetACL(ctx context.Context, path string) ([]zk.ACL, zk.Stat, error) {
	return c.sess.GetACL(ctx, path)
}

func (c *embeddedConn) SetACL(ctx context.Context, path string, acl []zk.ACL, version int32) (zk.Stat, error) {
	return c.sess.SetACL(ctx, path, acl, version)
}

func (c *embeddedConn) AddAuth(ctx context.Context, scheme string, auth []byte) error {
	return c.sess.AddAuth(ctx, scheme, auth)
}

// WhoAmI lists the session's identities (Session.Identities) as ZooKeeper's
// whoAmI does: a digest identity by its user. An embedded session has no ip
// identity: this shell declares no client address.
func (c *embeddedConn) WhoAmI(ctx context.Context) ([]Identity, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Identity
	for _, id := range c.sess.Identities() {
		user := id.ID
		if id.Scheme == "digest" {
			user, _, _ = strings.Cut(id.ID, ":")
		}
		out = append(out, Identity{Scheme: id.Scheme, User: user})
	}
	return out, nil
}

func (c *embeddedConn) Sync(ctx context.Context, path string) error { return c.sess.Sync(ctx, path) }

func (c *embeddedConn) AddWatch(ctx context.Context, path string, recursive bool) error {
	w, err := c.sess.AddWatch(ctx, path, recursive)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.persistent = append(c.persistent, w)
	c.mu.Unlock()
	return nil
}

func (c *embeddedConn) RemoveWatches(ctx context.Context, path string, typ zk.WatcherType) error {
	return c.sess.RemoveWatches(ctx, path, typ)
}

func (c *embeddedConn) Ephemerals(ctx context.Context, prefix string) ([]string, error) {
	return c.sess.Ephemerals(ctx, prefix)
}

func (c *embeddedConn) AllChildrenNumber(ctx context.Context, path string) (int64, error) {
	return c.sess.AllChildrenNumber(ctx, path)
}

func (c *embeddedConn) State() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return "CLOSED"
	}
	switch c.sess.State() {
	case zk.StateConnected:
		return "CONNECTED"
	case zk.StateDisconnected:
		return "CONNECTING"
	}
	return "CLOSED"
}

func (c *embeddedConn) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	err := c.sess.Close(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	// Keep what the close brought (its ephemerals' deletions) for the
	// shell's last Events, as ZooKeeper sends them before the close's reply.
	var got []Event
	for _, ch := range c.oneShot {
		drainOne(ch, &got)
	}
	for _, w := range c.persistent {
		drainWatch(w, &got)
		w.Remove()
	}
	c.oneShot, c.persistent = nil, nil
	c.events = append(c.events, orderEvents(got)...)
	return err
}

// Events drains the state changes and every watch's queued events. Events
// of different watches are put back in zxid order; the removals a
// removewatches caused (zxid 0) come after, in ZooKeeper's order of event
// types. An event several watches got at once (a delete seen by an exists
// and a child watch) is reported once, as zkCli's single default watcher
// gets it.
func (c *embeddedConn) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drainStates()
	out := c.events
	c.events = nil
	var got []Event
	keep := c.oneShot[:0]
	for _, ch := range c.oneShot {
		open := drainOne(ch, &got)
		if open {
			keep = append(keep, ch)
		}
	}
	c.oneShot = keep
	keepW := c.persistent[:0]
	for _, w := range c.persistent {
		if drainWatch(w, &got) {
			keepW = append(keepW, w)
		}
	}
	c.persistent = keepW
	return append(out, orderEvents(got)...)
}

// drainStates turns the session's state changes into zkCli's events.
func (c *embeddedConn) drainStates() {
	for {
		select {
		case st, ok := <-c.states:
			if !ok {
				return
			}
			if st == c.last {
				continue
			}
			c.last = st
			switch st {
			case zk.StateConnected:
				c.events = append(c.events, Event{State: "SyncConnected", Type: "None"})
			case zk.StateDisconnected:
				c.events = append(c.events, Event{State: "Disconnected", Type: "None"})
			case zk.StateExpired:
				c.events = append(c.events, Event{State: "Expired", Type: "None"})
			}
		default:
			return
		}
	}
}

// drainOne takes what a one-shot watch's channel holds; false once it is
// closed.
func drainOne(ch <-chan zk.Event, got *[]Event) bool {
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return false
			}
			addEvent(ev, got)
		default:
			return true
		}
	}
}

// drainWatch takes what a persistent watch has queued; false once it ended.
func drainWatch(w *zk.Watch, got *[]Event) bool {
	for {
		ev, ok := w.TryNext()
		if !ok {
			return true
		}
		addEvent(ev, got)
		if ev.Type == zk.EventPersistentWatchRemoved || ev.Type == zk.EventNotWatching {
			return false
		}
	}
}

// addEvent keeps the events zkCli's watcher would see: NotWatching is zk's
// own (a session's end is reported by its state change instead).
func addEvent(ev zk.Event, got *[]Event) {
	if ev.Type == zk.EventNotWatching {
		return
	}
	*got = append(*got, Event{State: "SyncConnected", Type: ev.Type.String(), Path: ev.Path, Zxid: ev.Zxid})
}

// removalRank orders removal events as ZooKeeper's EventType declares them.
var removalRank = map[string]int{"DataWatchRemoved": 1, "ChildWatchRemoved": 2, "PersistentWatchRemoved": 3}

// orderEvents sorts events as ZooKeeper sends them: by zxid, and for one
// change the node's own event before its parent's NodeChildrenChanged
// (DataTree.createNode and deleteNode trigger them in that order); the
// removals a removewatches caused (zxid 0) last, by type. It drops repeats
// of the same change.
func orderEvents(evs []Event) []Event {
	before := func(a, b Event) bool {
		if (a.Zxid == 0) != (b.Zxid == 0) {
			return b.Zxid == 0
		}
		if a.Zxid == 0 {
			return removalRank[a.Type] < removalRank[b.Type]
		}
		if a.Zxid != b.Zxid {
			return a.Zxid < b.Zxid
		}
		return a.Type != "NodeChildrenChanged" && b.Type == "NodeChildrenChanged"
	}
	sort.SliceStable(evs, func(i, j int) bool { return before(evs[i], evs[j]) })
	seen := map[string]bool{}
	out := evs[:0]
	for _, e := range evs {
		k := fmt.Sprint(e.Type, "\x00", e.Path, "\x00", e.Zxid)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}
