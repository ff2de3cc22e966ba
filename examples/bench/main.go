// Command bench measures zk on this machine and prints every figure beside
// the disk's own fsync rate measured in the same run, so results from noisy,
// shared machines can be compared as ratios.
//
//	go run ./examples/bench                    # standalone, 1 and 64 sessions
//	go run ./examples/bench -peers 3           # 3 peers over TCP on 127.0.0.1
//	go run ./examples/bench -duration 10s -value 1024
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/embedzk/zk"
)

var (
	peers    = flag.Int("peers", 1, "ensemble size: 1 (standalone) or 3/5 peers over TCP on 127.0.0.1")
	duration = flag.Duration("duration", 3*time.Second, "how long each measurement runs")
	valueLen = flag.Int("value", 1024, "bytes of data per node")
	dir      = flag.String("dir", "", "where to store data (default: a temporary directory)")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	root := *dir
	if root == "" {
		d, err := os.MkdirTemp("", "zk-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		root = d
	}
	fsyncs, err := fsyncRate(root, *duration)
	if err != nil {
		return err
	}
	fmt.Printf("disk: %.0f fsyncs/s (%d-byte write + fsync)\n", fsyncs, *valueLen)
	ens, err := start(root, *peers)
	if err != nil {
		return err
	}
	defer func() {
		for _, e := range ens {
			e.Close()
		}
	}()
	value := make([]byte, *valueLen)
	for _, n := range []int{1, 64} {
		for _, op := range []string{"create", "set", "get"} {
			rate, err := measure(ens, n, op, value)
			if err != nil {
				return err
			}
			fmt.Printf("%-6s sessions=%-3d %9.0f ops/s  %6.2fx the fsync rate\n", op, n, rate, rate/fsyncs)
		}
	}
	return nil
}

// fsyncRate measures the disk's own rate of small write + fsync.
func fsyncRate(dir string, d time.Duration) (float64, error) {
	f, err := os.Create(filepath.Join(dir, "fsync-probe"))
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, *valueLen)
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// start opens a standalone ensemble, or n peers over TCP.
func start(root string, n int) ([]*zk.Ensemble, error) {
	if n == 1 {
		e, err := zk.NewEnsemble(zk.Config{DataDir: filepath.Join(root, "zk")})
		if err != nil {
			return nil, err
		}
		return []*zk.Ensemble{e}, waitAll([]*zk.Ensemble{e})
	}
	var servers []zk.Server
	for i := 1; i <= n; i++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		servers = append(servers, zk.Server{ID: int64(i), Host: "127.0.0.1", QuorumPort: port, ElectionPort: port})
	}
	var ens []*zk.Ensemble
	for i := 1; i <= n; i++ {
		e, err := zk.NewEnsemble(zk.Config{
			ID: int64(i), DataDir: filepath.Join(root, fmt.Sprint("zk", i)), Servers: servers,
			PeerSecret: []byte("examples/bench shared secret"),
		})
		if err != nil {
			return ens, err
		}
		ens = append(ens, e)
	}
	return ens, waitAll(ens)
}

func waitAll(ens []*zk.Ensemble) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, e := range ens {
		if err := e.WaitServing(ctx); err != nil {
			return err
		}
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// measure runs op from n sessions (spread over the peers) for the
// configured duration and returns ops/s.
func measure(ens []*zk.Ensemble, n int, op string, value []byte) (float64, error) {
	ctx := context.Background()
	prefix := fmt.Sprintf("/%s-%d", op, n)
	sessions := make([]*zk.Session, n)
	for i := range sessions {
		s, err := ens[i%len(ens)].NewSession(ctx)
		if err != nil {
			return 0, err
		}
		defer s.Close(ctx)
		sessions[i] = s
	}
	if _, err := sessions[0].Create(ctx, prefix, nil); err != nil {
		return 0, err
	}
	if op != "create" { // set and get work on 100 existing nodes
		for i := 0; i < 100; i++ {
			if _, err := sessions[0].Create(ctx, fmt.Sprintf("%s/n%d", prefix, i), value); err != nil {
				return 0, err
			}
		}
		for _, s := range sessions {
			if err := s.Sync(ctx, "/"); err != nil {
				return 0, err
			}
		}
	}
	var count atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(*duration)
	var wg sync.WaitGroup
	start := time.Now()
	for g, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				var err error
				switch op {
				case "create":
					_, err = s.Create(ctx, fmt.Sprintf("%s/g%d-%d", prefix, g, i), value)
				case "set":
					_, err = s.Set(ctx, fmt.Sprintf("%s/n%d", prefix, i%100), value, -1)
				case "get":
					_, _, err = s.Get(ctx, fmt.Sprintf("%s/n%d", prefix, i%100))
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(count.Load()) / time.Since(start).Seconds(), nil
}
