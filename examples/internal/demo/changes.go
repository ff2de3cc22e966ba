package demo

import (
	"context"
	"sync"
)

// Changes lets goroutines wait until a state guarded by a mutex meets a
// condition, as sync.Cond does, but within a ctx. The zero value is ready;
// the mutex that guards the state guards it too.
type Changes struct{ ch chan struct{} }

// Notify wakes every Wait, which then checks its condition again; the
// caller holds the mutex.
func (c *Changes) Notify() {
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
}

// Wait waits until cond, called with mu held, holds, or ctx ends.
func (c *Changes) Wait(ctx context.Context, mu *sync.Mutex, cond func() bool) error {
	for {
		mu.Lock()
		if cond() {
			mu.Unlock()
			return nil
		}
		if c.ch == nil {
			c.ch = make(chan struct{})
		}
		ch := c.ch
		mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
