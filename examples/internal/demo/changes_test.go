package demo

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// TestChanges: a Wait returns once a Notify follows the change its
// condition waits for, and with ctx's error when ctx ends first.
func TestChanges(t *testing.T) {
	var mu sync.Mutex
	var c Changes
	n := 0
	done := make(chan error, 1)
	go func() { done <- c.Wait(context.Background(), &mu, func() bool { return n == 3 }) }()
	for i := 0; i < 3; i++ {
		mu.Lock()
		n++
		c.Notify()
		mu.Unlock()
	}
	if err := <-done; err != nil {
		t.Fatalf("Wait: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Wait(ctx, &mu, func() bool { return false }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after cancel: %v", err)
	}
}
