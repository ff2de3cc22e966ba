package recipes

import (
	"context"
	"fmt"
	"sync"
)

// keptLease is the lease Lock keeps for Unlock, for the locks that offer
// sync.Mutex's shape (Mutex, SemaphoreMutex): any goroutine may Unlock.
type keptLease struct {
	mu   sync.Mutex
	held *Lease
}

// lock takes a lease with acquire and keeps it.
func (k *keptLease) lock(ctx context.Context, acquire func(context.Context) (*Lease, error)) error {
	l, err := acquire(ctx)
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.held = l
	k.mu.Unlock()
	return nil
}

// unlock releases the kept lease; without one it fails with ErrNotLocked
// (path names the lock) and changes nothing.
func (k *keptLease) unlock(ctx context.Context, path string) error {
	k.mu.Lock()
	l := k.held
	k.held = nil
	k.mu.Unlock()
	if l == nil {
		return fmt.Errorf("recipes: unlock %s: %w", path, ErrNotLocked)
	}
	return l.Release(ctx)
}

// forget drops l if it is the kept lease (released through the lease
// itself): a Lease's onRelease.
func (k *keptLease) forget(l *Lease) {
	k.mu.Lock()
	if k.held == l {
		k.held = nil
	}
	k.mu.Unlock()
}
