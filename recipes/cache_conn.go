package recipes

import (
	"fmt"

	"github.com/embedzk/zk"
)

// Connection-state event types (Curator's TreeCacheEvent
// CONNECTION_SUSPENDED, CONNECTION_RECONNECTED and CONNECTION_LOST), given
// only to the listeners of a cache made WithConnectionEvents. Their Node
// is zero and their Zxid the cache's.
const (
	// CacheSuspended: the cache's session is disconnected (its peer lost
	// its quorum, or stopped): the content may fall behind the tree. The
	// cache keeps it.
	CacheSuspended CacheEventType = iota + CacheInitialized + 1
	// CacheReconnected: after CacheSuspended or CacheLost, the session (or
	// the next one, after CacheLost) serves again. The changes made
	// meanwhile follow it, each told once, as Curator's caches tell what
	// their reads find after CONNECTION_RECONNECTED; after CacheLost, a
	// TreeCache's CacheInitialized follows them once the content is at
	// least as new as the tree was when the cache resumed.
	CacheReconnected
	// CacheLost: the cache's session ended (it expired or was closed). The
	// cache keeps its content; WithReconnect resumes it on a new session
	// (then CacheReconnected, the changes missed, and, from a TreeCache,
	// CacheInitialized), else the cache ends.
	CacheLost
)

// WithConnectionEvents makes a TreeCache or a PathChildrenCache tell its
// listeners of its session's state as well (CacheSuspended,
// CacheReconnected, CacheLost), in order with the node events, as
// Curator's TreeCache and PathChildrenCache tell CONNECTION_SUSPENDED,
// RECONNECTED and LOST: CacheReconnected comes before the changes the
// cache missed, and after CacheLost a TreeCache tells CacheInitialized
// again once it has caught up, as Curator's does (Curator's
// PathChildrenCache does not, nor does the cache). A NodeCache refuses it
// (ErrBadArguments), as Curator's NodeCache tells only the node's changes:
// NewTreeCache with WithMaxDepth(0) holds the same node and tells them.
// Where Curator's caches
// read their nodes again, the cache tells each change it missed, in zxid
// order (a node changed twice is told twice, a node made and deleted
// meanwhile is told too). The cache follows the state of each session it
// runs on: on a channel of its own from WatchStates if the session has it
// (a Client on the same session takes its own), else on its States
// channel, which it must have, as *zk.Session and *Namespace do. A
// session that is connected read-only is neither suspended nor
// reconnected, as Curator's TreeCache ignores READ_ONLY.
func WithConnectionEvents() CacheOption {
	return func(c *cacheConfig) { c.connEvents = true }
}

// stateSource is the part of a session WithConnectionEvents needs.
type stateSource interface {
	States() <-chan zk.SessionState
}

// stateWatcher is a session that gives each consumer a channel of its
// states of its own, as *zk.Session and *Namespace do.
type stateWatcher interface {
	WatchStates() (<-chan zk.SessionState, func())
}

// stateChanges returns a channel of s's states for one consumer, and the
// function to call when done with it: one of its own if s gives one
// (WatchStates), else s's States (and a stop that does nothing).
func stateChanges(s stateSource) (<-chan zk.SessionState, func()) {
	if w, ok := s.(stateWatcher); ok {
		return w.WatchStates()
	}
	return s.States(), func() {}
}

// checkStates fails if the cache wants s's state and cannot have it.
func (cfg *cacheConfig) checkStates(s CacheSession) error {
	if _, ok := s.(stateSource); cfg.connEvents && !ok {
		return fmt.Errorf("%w: WithConnectionEvents needs a session with States, %T has none", zk.ErrBadArguments, s)
	}
	return nil
}

// states returns the channel of the session's states, or nil without
// WithConnectionEvents. It is taken once per session (kept in statesCh
// until recover moves the cache to another session), emptied of the
// states it held from before (States' channel, of a session without
// WatchStates, holds those since the session was made), and the session's
// current state is acted on, so that the cache follows the session from
// now on.
func (c *Cache) states() <-chan zk.SessionState {
	if !c.cfg.connEvents {
		return nil
	}
	if c.statesCh == nil {
		c.statesCh, c.statesStop = stateChanges(c.sess.(stateSource))
		if _, own := c.sess.(stateWatcher); !own {
			// States' channel holds the states since the session was
			// made; a channel of WatchStates' holds only those since
			// the call, which must not be dropped.
			for len(c.statesCh) > 0 {
				<-c.statesCh
			}
		}
		if c.sess.State() == zk.StateDisconnected {
			c.connEvent(CacheSuspended)
		}
	}
	return c.statesCh
}

// stopStates gives back the channel states took, if any: the cache no
// longer follows its session (it ended, or moves to another).
func (c *Cache) stopStates() {
	if c.statesStop != nil {
		c.statesStop()
	}
	c.statesCh, c.statesStop = nil, nil
}

// connEvent tells listeners of a connection event, if they asked for
// them; CacheSuspended and CacheLost make a CacheReconnected owed, and
// CacheLost, to a TreeCache, a CacheInitialized (caughtUp).
func (c *Cache) connEvent(t CacheEventType) {
	if !c.cfg.connEvents {
		return
	}
	switch {
	case t == CacheReconnected && !c.away:
		return
	case t == CacheSuspended && c.away:
		return // already told
	}
	c.away = t != CacheReconnected
	// Curator's TreeCache tells INITIALIZED again after LOST; its
	// PathChildrenCache does not (a NodeCache has no connection events).
	c.initOwed = c.initOwed || (t == CacheLost && c.shape == shapeTree)
	c.tell([]CacheEvent{{Type: t, Zxid: c.Zxid()}})
}

// caughtUp tells CacheInitialized if a CacheLost made it owed and the
// cache is back: its content is now at least as new as the tree was when
// it resumed.
func (c *Cache) caughtUp() {
	if c.initOwed && !c.away {
		c.initOwed = false
		c.tell([]CacheEvent{{Type: CacheInitialized, Zxid: c.Zxid()}})
	}
}

// onState handles a state of the session while the watch runs: a
// disconnection suspends the cache; a connection after it reconnects it,
// and the changes the watch queued meanwhile, held until then (follow),
// come after. A session's end is left to the watch, which ends too.
func (c *Cache) onState(st zk.SessionState) {
	switch {
	case st == zk.StateDisconnected:
		c.connEvent(CacheSuspended)
	case st == zk.StateConnected:
		c.connEvent(CacheReconnected)
	}
}

// takeStates acts on the states already queued on the session's channel,
// in order, without waiting. The cache calls it when its watch has ended,
// before it reads the session's state itself and while it retries: a state
// it left queued would be told again, after the session's reconnection,
// as another disconnection. It leaves the session's end to run.
func (c *Cache) takeStates() {
	for c.statesCh != nil {
		select {
		case st, ok := <-c.statesCh:
			if !ok || ended(st) {
				return
			}
			c.onState(st)
		default:
			return
		}
	}
}

// drain applies every transaction already queued in w; an error if the
// watch ended.
func (c *Cache) drain(w *zk.Watch, log *changeLog) error {
	for {
		b, err := queuedBatch(c.polled, w)
		if err != nil || b == nil {
			return err
		}
		c.applyBatch(b, log)
	}
}
