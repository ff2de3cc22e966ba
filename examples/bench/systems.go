package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/recipes"
)

const (
	targetZooKeeper = "zookeeper"
	targetZK        = "zk"
	targetWire      = "zk-wire"
	targetProcs     = "zk-procs" // zk peers as processes, go-zookeeper clients
)

// inProcess reports whether target runs its zk peers in this process
// (where -zk-procs and the profiles apply).
func inProcess(target string) bool { return target == targetZK || target == targetWire }

// system is a running ensemble of one target.
type system interface {
	// open opens session i, on peer i mod peers().
	open(i int) (client, error)
	peers() int
	// leader returns the index of the leading peer (0 standalone).
	leader() int
	close()
}

// client is one session.
type client interface {
	create(path string, data []byte) error
	set(path string, data []byte) error
	// sync makes the session's peer catch up with the leader (ZooKeeper's
	// sync): a write of another session is then visible to its reads.
	sync(path string) error
	// getW sets a data watch on path; wait returns once it fired.
	getW(path string) (wait func(ctx context.Context) error, err error)
	lock(path string) (locker, error)
	close()
}

// locker is an exclusive lock: recipes.Mutex, or the Curator-like lock of
// gozklock.go.
type locker interface {
	Lock(ctx context.Context) error
	Unlock(ctx context.Context) error
}

func startSystem(dir, target string, n int) (system, error) {
	dir = filepath.Join(dir, fmt.Sprintf("%s-%d", target, n))
	switch target {
	case targetZooKeeper:
		return startZooKeeper(dir, n)
	case targetProcs:
		return startZKProcs(dir, n)
	case targetZK, targetWire:
		var rec *recorder
		if *traceFlag && target == targetZK {
			rec = newRecorder()
		}
		ens, err := startZK(dir, n, target == targetWire, rec)
		if err != nil {
			return nil, err
		}
		return &zkSystem{ens: ens, wire: target == targetWire, rec: rec}, nil
	}
	return nil, fmt.Errorf("unknown target %q", target)
}

// startZK starts n zk peers in this process (over TCP on 127.0.0.1 when
// n > 1), each with its goroutines labelled peer=<id> for profiles, and
// waits until they serve.
func startZK(root string, n int, wire bool, rec *recorder) ([]*zk.Ensemble, error) {
	var servers []zk.Server
	if n > 1 {
		for i := 1; i <= n; i++ {
			port, err := freePort()
			if err != nil {
				return nil, err
			}
			servers = append(servers, zk.Server{ID: int64(i), Host: "127.0.0.1", QuorumPort: port, ElectionPort: port})
		}
	}
	var ens []*zk.Ensemble
	closeAll := func() {
		for _, e := range ens {
			e.Close()
		}
	}
	for i := 1; i <= n; i++ {
		cfg := zk.Config{DataDir: filepath.Join(root, fmt.Sprint(i)),
			TreeCacheSize: *treeCache, TreeMemTableSize: *treeMem, TreeValueCacheSize: *valueCache}
		if n > 1 {
			cfg.ID, cfg.Servers, cfg.PeerSecret = int64(i), servers, []byte("examples/bench shared secret")
		}
		if rec != nil {
			cfg.TestHooks = &hooks.Hooks{Trace: rec.note}
		}
		if wire {
			cfg.ClientPort, cfg.ClientPortAddress = -1, "127.0.0.1"
		}
		var e *zk.Ensemble
		var err error
		pprof.Do(context.Background(), pprof.Labels("peer", fmt.Sprint("p", i)), func(context.Context) {
			e, err = zk.NewEnsemble(cfg)
		})
		if err != nil {
			closeAll()
			return nil, err
		}
		ens = append(ens, e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, e := range ens {
		if err := e.WaitServing(ctx); err != nil {
			closeAll()
			return nil, err
		}
	}
	return ens, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// zkSystem is zk peers in this process, reached in-process or, with wire,
// over ZooKeeper's client protocol.
type zkSystem struct {
	ens  []*zk.Ensemble
	wire bool
	rec  *recorder // with -trace
}

func (s *zkSystem) peers() int { return len(s.ens) }

func (s *zkSystem) leader() int {
	for i, e := range s.ens {
		if m := e.Status().Mode; m == zk.ModeLeading || m == zk.ModeStandalone {
			return i
		}
	}
	return -1
}

func (s *zkSystem) open(i int) (client, error) {
	e := s.ens[i%len(s.ens)]
	if s.wire {
		return dialGozk(e.ClientAddr())
	}
	sess, err := e.NewSession(context.Background())
	if err != nil {
		return nil, err
	}
	return &zkClient{s: sess, rec: s.rec, peer: e.Status().ID}, nil
}

func (s *zkSystem) close() {
	for _, e := range s.ens {
		e.Close()
	}
}

// zkClient is an in-process zk session; rc, the recipes' Client on it, is
// made by the first lock.
type zkClient struct {
	s    *zk.Session
	rc   *recipes.Client
	rec  *recorder // with -trace
	peer int64     // the session's peer's id
}

func (c *zkClient) create(path string, data []byte) error {
	_, err := c.s.Create(context.Background(), path, data)
	return err
}

func (c *zkClient) set(path string, data []byte) error {
	_, err := c.s.Set(context.Background(), path, data, -1)
	return err
}

func (c *zkClient) sync(path string) error { return c.s.Sync(context.Background(), path) }

func (c *zkClient) getW(path string) (func(ctx context.Context) error, error) {
	_, _, ch, err := c.s.GetW(context.Background(), path)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, nil
}

func (c *zkClient) lock(path string) (locker, error) {
	if c.rc == nil {
		rc, err := recipes.NewClient(c.s)
		if err != nil {
			return nil, err
		}
		c.rc = rc
	}
	m, err := recipes.NewMutex(c.rc, path)
	if err != nil || c.rec == nil {
		return m, err
	}
	return &tracedLock{m: m, rec: c.rec, peer: c.peer, sess: c.s.ID()}, nil
}

func (c *zkClient) close() {
	if c.rc != nil {
		c.rc.Close(context.Background())
	}
	c.s.Close(context.Background())
}
