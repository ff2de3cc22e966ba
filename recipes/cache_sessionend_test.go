package recipes

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/hooks"
)

// TestCacheSessionEndsAsItResumes: a cache whose session expired resumes
// on a new one, and that one expires too, just as the resume's AddWatch
// has found it usable and waits for the apply lock (the peer is applying
// the expiry). The cache must notice and resume again on a third session,
// then follow the tree. Before the engine's fix the AddWatch succeeded with
// a watch nothing would trigger or end: the cache kept its old content,
// with no error, forever (TestCacheFaults seed 2 in CI, and seed 6 with
// -race, failed so on a NodeCache).
func TestCacheSessionEndsAsItResumes(t *testing.T) {
	for _, shape := range []cacheShape{shapeNode, shapeChildren, shapeTree} {
		t.Run(shapeNames[shape], func(t *testing.T) {
			var e *zk.Ensemble
			var victim atomic.Int64 // the session to expire at the next read's lock
			expired := make(chan error, 1)
			cfg := chConfig(vfs.NewMem())
			cfg.TestHooks = &hooks.Hooks{Func: func(_ int64, point string) error {
				if point == hooks.BeforeReadLock {
					if id := victim.Swap(0); id != 0 {
						expired <- e.ExpireSession(chCtx(t), id)
					}
				}
				return nil
			}}
			var err error
			e, err = zk.NewEnsemble(cfg)
			chMust(t, err)
			t.Cleanup(func() { e.Close() })
			w := chSession(t, e)
			chCreate(t, w, "/app", "")
			chCreate(t, w, "/app/n0", "0")
			cs := chSession(t, e)
			var reconnects atomic.Int32
			reconnect := func(ctx context.Context) (CacheSession, error) {
				s, err := e.NewSession(ctx)
				if err == nil && reconnects.Add(1) == 1 {
					// The cache's next read is its resume's AddWatch.
					victim.Store(s.ID())
				}
				return s, err
			}
			mk := map[cacheShape]func(CacheSession, string, ...CacheOption) (*Cache, error){
				shapeNode: NewNodeCache, shapeChildren: NewPathChildrenCache, shapeTree: NewTreeCache}[shape]
			root := map[cacheShape]string{shapeNode: "/app/n0", shapeChildren: "/app", shapeTree: "/app"}[shape]
			c, err := mk(cs, root, WithReconnect(reconnect))
			chMust(t, err)
			r := chStart(t, c)
			chMust(t, e.ExpireSession(chCtx(t), cs.ID()))
			chMust(t, <-expired)
			chSet(t, w, "/app/n0", "1")
			chCreate(t, w, "/app/n0/c", "")
			// The last write's zxid, not the tree's: the cache's third
			// session may be created after the writes, and a cache's zxid
			// moves only with events under its root.
			st, err := w.Set(chCtx(t), "/app/n0", []byte("2"), -1)
			chMust(t, err)
			r.waitZxid(t, st.Mzxid)
			sameContent(t, c, readTree(t, w, shape, root))
			if n := reconnects.Load(); n != 2 || c.Err() != nil {
				t.Fatalf("%d reconnects (want 2), err %v", n, c.Err())
			}
		})
	}
}
