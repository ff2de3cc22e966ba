// Command quickstart runs zk's embedded default — a standalone ensemble of
// one, stored in a temporary directory — and walks through the basics:
// sessions, persistent / sequential / ephemeral nodes, versions, watches,
// a multi, a distributed lock, and recovery after a restart.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"sync"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/recipes"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	dir, err := os.MkdirTemp("", "zk-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	ens, err := zk.NewEnsemble(zk.Config{DataDir: dir})
	if err != nil {
		return err
	}
	sess, err := ens.NewSession(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("session %#x open (timeout %v), peer is %v\n", sess.ID(), sess.Timeout(), ens.Status().Mode)

	if err := basics(ctx, sess); err != nil {
		return err
	}
	if err := watches(ctx, ens, sess); err != nil {
		return err
	}
	if err := lock(ctx, ens); err != nil {
		return err
	}
	if err := ens.Close(); err != nil {
		return err
	}
	return restart(ctx, dir)
}

func basics(ctx context.Context, sess *zk.Session) error {
	if _, err := sess.Create(ctx, "/app/config", []byte("v1"), zk.WithParents()); err != nil {
		return err
	}
	data, stat, err := sess.Get(ctx, "/app/config")
	if err != nil {
		return err
	}
	fmt.Printf("/app/config = %q (version %d)\n", data, stat.Version)

	if _, err := sess.Set(ctx, "/app/config", []byte("v2"), stat.Version); err != nil {
		return err
	}
	_, err = sess.Set(ctx, "/app/config", []byte("stale"), stat.Version)
	fmt.Printf("a set with the old version fails: %v (ErrBadVersion: %v)\n", err, errors.Is(err, zk.ErrBadVersion))

	for i := 0; i < 3; i++ {
		p, err := sess.Create(ctx, "/app/jobs/job-", []byte{byte(i)}, zk.WithMode(zk.ModePersistentSequential), zk.WithParents())
		if err != nil {
			return err
		}
		fmt.Println("created", p)
	}
	_, err = sess.Multi(ctx,
		zk.CheckOp("/app/config", 1),
		zk.CreateOp("/app/ready", nil),
		zk.DeleteOp("/app/jobs/job-0000000000", -1),
	)
	if err != nil {
		return err
	}
	kids, _, err := sess.Children(ctx, "/app/jobs")
	fmt.Printf("after a multi, /app/jobs holds %v\n", kids)
	return err
}

func watches(ctx context.Context, ens *zk.Ensemble, sess *zk.Session) error {
	other, err := ens.NewSession(ctx)
	if err != nil {
		return err
	}
	if _, err := other.Create(ctx, "/app/workers/w1", nil, zk.WithMode(zk.ModeEphemeral), zk.WithParents()); err != nil {
		return err
	}
	_, _, ch, err := sess.ExistsW(ctx, "/app/workers/w1")
	if err != nil {
		return err
	}
	fmt.Println("the worker's session closes; its ephemeral node goes with it")
	if err := other.Close(ctx); err != nil {
		return err
	}
	ev := <-ch
	fmt.Printf("watch event: %v %s\n", ev.Type, ev.Path)
	return nil
}

// lock shows the Mutex recipe: two sessions take turns.
func lock(ctx context.Context, ens *zk.Ensemble) error {
	var order []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, name := range []string{"alice", "bob"} {
		s, err := ens.NewSession(ctx)
		if err != nil {
			return err
		}
		c, err := recipes.NewClient(s)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		m, err := recipes.NewMutex(c, "/app/lock")
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.Lock(ctx); err != nil {
				log.Print(err)
				return
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			m.Unlock(ctx)
		}()
	}
	wg.Wait()
	fmt.Printf("the lock was held in turn by %v\n", order)
	return nil
}

func restart(ctx context.Context, dir string) error {
	ens, err := zk.NewEnsemble(zk.Config{DataDir: dir})
	if err != nil {
		return err
	}
	defer ens.Close()
	sess, err := ens.NewSession(ctx)
	if err != nil {
		return err
	}
	data, _, err := sess.Get(ctx, "/app/config")
	if err != nil {
		return err
	}
	fmt.Printf("after a restart /app/config = %q, last zxid %#x\n", data, ens.Status().LastZxid)
	return sess.Close(ctx)
}
