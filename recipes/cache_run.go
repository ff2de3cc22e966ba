package recipes

import (
	"errors"
	"fmt"
	"time"

	"github.com/embedzk/zk"
)

// Backoff between attempts to set the cache's watch again while its peer
// does not serve.
const (
	cacheRetryMin = 5 * time.Millisecond
	cacheRetryMax = 500 * time.Millisecond
)

// run keeps the cache in step: it follows the watch, and when the watch
// ends, sets it again from the cache's zxid. It owns the session.
func (c *Cache) run(w *zk.Watch) {
	defer close(c.done)
	defer c.stopStates()
	var log changeLog
	for {
		cause := c.follow(w, &log)
		w.Remove() // harmless on a watch that ended
		if c.ctx.Err() != nil {
			c.endWith(ErrCacheClosed)
			return
		}
		c.takeStates()
		switch {
		case sessionEnded(cause) || ended(c.sess.State()):
			c.connEvent(CacheLost)
		case c.sess.State() == zk.StateDisconnected:
			c.connEvent(CacheSuspended)
		}
		w2, st, err := c.recover(cause)
		if err != nil {
			c.endWith(err)
			return
		}
		w = w2
		// The session serves again: CacheReconnected first, as Curator's,
		// then what the cache missed (the resume queued every change
		// since its zxid, or loaded the nodes again).
		c.connEvent(CacheReconnected)
		if st != nil {
			c.publishReload(st)
		}
		if err := c.drain(w, &log); err == nil {
			c.caughtUp()
		}
	}
}

// follow applies the watch's transactions, and with WithConnectionEvents
// follows the session's state, until the watch ends (or Close); it
// returns why the watch ended. While the cache is suspended, the changes
// the watch queues wait for CacheReconnected, which goes first.
func (c *Cache) follow(w *zk.Watch, log *changeLog) error {
	states := c.states()
	for states == nil {
		// No state to follow: wait on the watch alone, as before
		// WithConnectionEvents (no empty poll at each wake-up).
		b, err := w.NextBatch(c.ctx)
		if err != nil {
			return err
		}
		if b[0].Zxid == 0 {
			continue // the watch's last event: NextBatch returns why next
		}
		c.applyBatch(b, log)
	}
	for {
		ready := w.Ready()
		if c.away && states != nil {
			ready = nil // held until the session serves again, or ends
		}
		select {
		case <-ready:
			if err := c.drain(w, log); err != nil {
				return err
			}
		case st, ok := <-states:
			if !ok || ended(st) {
				states = nil // the session ended: so does the watch
				continue
			}
			c.onState(st)
			if !c.away {
				if err := c.drain(w, log); err != nil {
					return err
				}
			}
		case <-c.ctx.Done():
			return c.ctx.Err()
		}
	}
}

// applyBatch applies one transaction's events and tells listeners.
func (c *Cache) applyBatch(b []zk.Event, log *changeLog) {
	c.mu.Lock()
	st := c.st
	seen := log.seen(st)
	for _, ev := range b {
		st.apply(ev, seen)
	}
	evs := log.events(st)
	log.reset()
	c.mu.Unlock()
	c.tell(evs)
}

// recover sets the watch again after it ended for cause: from the cache's
// zxid on the same session, or on the next one WithReconnect gives if the
// session ended; it loads again only if the log no longer holds the
// changes since (or more than the buffer): then it returns the loaded
// state too, for run to publish. It retries, with backoff, while the peer
// does not serve.
func (c *Cache) recover(cause error) (*zk.Watch, *cacheState, error) {
	delay := cacheRetryMin
	for {
		if c.ctx.Err() != nil {
			return nil, nil, ErrCacheClosed
		}
		c.takeStates() // a disconnection while it retries comes first
		if sessionEnded(cause) || ended(c.sess.State()) {
			if c.cfg.reconnect == nil {
				return nil, nil, fmt.Errorf("recipes: %s %s: its session ended: %w", shapeNames[c.shape], c.root, cause)
			}
			next, err := c.cfg.reconnect(c.ctx)
			if err != nil || next == nil {
				if next == nil && err == nil {
					err = fmt.Errorf("%w: WithReconnect gave no session", zk.ErrBadArguments)
				}
				cause = err
				if !c.sleep(&delay) {
					return nil, nil, ErrCacheClosed
				}
				continue
			}
			if err := c.cfg.checkStates(next); err != nil {
				return nil, nil, fmt.Errorf("recipes: %s %s: WithReconnect: %w", shapeNames[c.shape], c.root, err)
			}
			c.stopStates()
			c.sess, cause = next, nil
		}
		w, st, err := c.resume()
		if err == nil {
			return w, st, nil
		}
		cause = err
		if !sessionEnded(err) && !c.sleep(&delay) {
			return nil, nil, ErrCacheClosed
		}
	}
}

// resume sets the watch from the cache's zxid, or loads again: then it
// returns the loaded state as well.
func (c *Cache) resume() (*zk.Watch, *cacheState, error) {
	from := c.Zxid()
	w, err := c.sess.AddWatch(c.ctx, c.root, c.shape != shapeNode,
		zk.FromZxid(from), zk.WithEventData(), zk.WithWatchBuffer(c.cfg.buffer))
	if err == nil {
		return w, nil, nil
	}
	if !errors.Is(err, zk.ErrCompacted) && !errors.Is(err, zk.ErrWatchOverflow) {
		return nil, nil, err
	}
	return c.load(c.ctx, c.sess, from)
}

// publishReload makes st, loaded again, the cache's content and tells
// listeners what changed.
func (c *Cache) publishReload(st *cacheState) {
	c.mu.RLock()
	old := c.st
	c.mu.RUnlock()
	c.publishLoad(st, old)
}

// sleep waits *delay (doubling it for next time) or until Close; it
// reports false on Close.
func (c *Cache) sleep(delay *time.Duration) bool {
	t := time.NewTimer(*delay)
	defer t.Stop()
	*delay = min(2**delay, cacheRetryMax)
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

func ended(st zk.SessionState) bool { return st == zk.StateExpired || st == zk.StateClosed }
