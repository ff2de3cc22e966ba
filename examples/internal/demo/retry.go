package demo

import (
	"context"
	"errors"
	"time"

	"github.com/embedzk/zk"
)

// Retry calls f until it succeeds, fails with an error that is not
// transient (zk.ErrNotServing, zk.ErrConnectionLoss: the ensemble is
// electing a leader), or ctx ends; it waits between tries, 20ms doubling
// up to 1s.
func Retry(ctx context.Context, f func() error) error {
	wait := 20 * time.Millisecond
	for {
		err := f()
		if err == nil || !(errors.Is(err, zk.ErrNotServing) || errors.Is(err, zk.ErrConnectionLoss)) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		}
		wait = min(2*wait, time.Second)
	}
}
