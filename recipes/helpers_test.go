package recipes

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk"
)

// The tests run in synctest bubbles (testing/synctest): a standalone
// ensemble on an in-memory disk with the bubble's fake clock, so session
// timeouts and expiries happen in fake time, and synctest.Wait says when
// every goroutine is blocked. Nothing waits on real time.

// tickTime is the test ensembles' TickTime: sessions time out after
// 10 TickTimes by default (MaxSessionTimeout/2).
const tickTime = 100 * time.Millisecond

type world struct {
	t   *testing.T
	ens *zk.Ensemble
	ctx context.Context
}

// newWorld starts a standalone ensemble; it is closed when the test ends.
func newWorld(t *testing.T) *world {
	t.Helper()
	e, err := zk.NewEnsemble(zk.Config{DataDir: "/zk", FS: vfs.NewMem(), TickTime: tickTime})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	// A test that hangs fails after an hour of the bubble's time (seconds
	// of real time): the ensemble's ticker keeps the fake clock moving.
	ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
	t.Cleanup(cancel)
	return &world{t: t, ens: e, ctx: ctx}
}

// session opens a session and its Client (closed at the end of the test).
func (w *world) session() (*zk.Session, *Client) {
	w.t.Helper()
	s, err := w.ens.NewSession(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	c, err := NewClient(s)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { c.Close(context.Background()) })
	return s, c
}

func (w *world) client() *Client {
	_, c := w.session()
	return c
}

// countedClient is a Client on a new session whose calls a counter sees
// (and can fail: counter.set).
func (w *world) countedClient() (*zk.Session, *counter, *Client) {
	w.t.Helper()
	s, _ := w.session()
	cc := &counter{Conn: s}
	c, err := NewClient(cc)
	if err != nil {
		w.t.Fatal(err)
	}
	return s, cc, c
}

// noChildren fails the test if path has children (what names them).
func (w *world) noChildren(path, what string) {
	w.t.Helper()
	if kids := w.children(path); len(kids) != 0 {
		w.t.Fatalf("%s left under %s: %v", what, path, kids)
	}
}

// children lists path's children (none if it does not exist).
func (w *world) children(path string) []string {
	w.t.Helper()
	s, err := w.ens.NewSession(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	defer s.Close(w.ctx)
	kids, _, err := s.Children(w.ctx, path)
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		w.t.Fatal(err)
	}
	return kids
}

func (w *world) expire(s *zk.Session) {
	w.t.Helper()
	if err := w.ens.ExpireSession(w.ctx, s.ID()); err != nil {
		w.t.Fatal(err)
	}
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// counter counts the calls a Conn gets, and can fail them on demand.
type counter struct {
	Conn
	calls atomic.Int64
	mu    sync.Mutex
	// fail, if set, is consulted before each call (name: the method); a
	// non-nil error is returned instead of calling; after, if set, may
	// replace a call's error once it returned.
	fail  func(name string) error
	after func(name string, err error) error
}

func (c *counter) hook(name string) error {
	c.calls.Add(1)
	c.mu.Lock()
	f := c.fail
	c.mu.Unlock()
	if f != nil {
		return f(name)
	}
	return nil
}

func (c *counter) done(name string, err error) error {
	c.mu.Lock()
	f := c.after
	c.mu.Unlock()
	if f != nil {
		return f(name, err)
	}
	return err
}

func (c *counter) set(fail func(string) error, after func(string, error) error) {
	c.mu.Lock()
	c.fail, c.after = fail, after
	c.mu.Unlock()
}

func (c *counter) Create(ctx context.Context, path string, data []byte, opts ...zk.CreateOption) (string, error) {
	if err := c.hook("create"); err != nil {
		return "", err
	}
	p, err := c.Conn.Create(ctx, path, data, opts...)
	return p, c.done("create", err)
}

func (c *counter) Delete(ctx context.Context, path string, version int32) error {
	if err := c.hook("delete"); err != nil {
		return err
	}
	return c.done("delete", c.Conn.Delete(ctx, path, version))
}

func (c *counter) Multi(ctx context.Context, ops ...zk.Op) ([]zk.OpResult, error) {
	if err := c.hook("multi"); err != nil {
		return nil, err
	}
	r, err := c.Conn.Multi(ctx, ops...)
	return r, c.done("multi", err)
}

func (c *counter) ExistsW(ctx context.Context, path string) (bool, zk.Stat, <-chan zk.Event, error) {
	if err := c.hook("existsw"); err != nil {
		return false, zk.Stat{}, nil, err
	}
	return c.Conn.ExistsW(ctx, path)
}

func (c *counter) GetW(ctx context.Context, path string) ([]byte, zk.Stat, <-chan zk.Event, error) {
	if err := c.hook("getw"); err != nil {
		return nil, zk.Stat{}, nil, err
	}
	return c.Conn.GetW(ctx, path)
}

func (c *counter) Children(ctx context.Context, path string) ([]string, zk.Stat, error) {
	if err := c.hook("children"); err != nil {
		return nil, zk.Stat{}, err
	}
	return c.Conn.Children(ctx, path)
}

func (c *counter) ChildrenW(ctx context.Context, path string) ([]string, zk.Stat, <-chan zk.Event, error) {
	if err := c.hook("childrenw"); err != nil {
		return nil, zk.Stat{}, nil, err
	}
	return c.Conn.ChildrenW(ctx, path)
}
