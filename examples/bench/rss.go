package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gozk "github.com/go-zookeeper/zk"
)

// rssServers is a fresh ensemble for the memory workload: processes whose
// RSS is what the ensemble holds.
type rssServers struct {
	addrs []string
	pids  []int
	gc    func() error // a full GC in every process
	stop  func()
}

// measureRSS loads -rss-nodes nodes of -value bytes into a fresh ensemble
// over the client protocol and returns the servers' RSS in MiB, as loaded
// (after a few seconds' settling) and after a full GC.
func measureRSS(dir, target string, peers int) ([]float64, error) {
	var srv *rssServers
	var err error
	switch target {
	case targetZooKeeper:
		srv, err = zooKeeperRSS(filepath.Join(dir, fmt.Sprint("rss-zookeeper-", peers)), peers)
	case targetZK:
		srv, err = zkChild(filepath.Join(dir, fmt.Sprint("rss-zk-", peers)), peers)
	default:
		return nil, nil // zk-wire's peers are zk's
	}
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	if err := loadNodes(srv.addrs, *rssNodes); err != nil {
		return nil, err
	}
	time.Sleep(3 * time.Second)
	loaded, err := sumRSS(srv.pids)
	if err != nil {
		return nil, err
	}
	if err := srv.gc(); err != nil {
		return nil, err
	}
	time.Sleep(time.Second)
	collected, err := sumRSS(srv.pids)
	return []float64{loaded, collected}, err
}

func zooKeeperRSS(dir string, peers int) (*rssServers, error) {
	z, err := startZooKeeper(dir, peers)
	if err != nil {
		return nil, err
	}
	gc := func() error {
		for _, pid := range z.pids() {
			if out, err := exec.Command("jcmd", strconv.Itoa(pid), "GC.run").CombinedOutput(); err != nil {
				return fmt.Errorf("jcmd GC.run: %v: %s", err, out)
			}
		}
		return nil
	}
	return &rssServers{addrs: z.addrs, pids: z.pids(), gc: gc, stop: z.close}, nil
}

// zkChild starts this binary as a child process holding peers zk peers
// with client ports; the child answers "gc" on its stdin with a full GC.
func zkChild(dir string, peers int) (*rssServers, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-child", strconv.Itoa(peers), "-dir", dir,
		"-zk-tree-cache", fmt.Sprint(*treeCache), "-zk-memtable", fmt.Sprint(*treeMem), "-zk-value-cache", fmt.Sprint(*valueCache))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() {
		in.Close() // the child closes its peers and exits at EOF
		cmd.Wait()
	}
	out := bufio.NewReader(outPipe)
	line, err := out.ReadString('\n')
	addrs, ok := strings.CutPrefix(strings.TrimSpace(line), "addrs ")
	if err != nil || !ok {
		stop()
		return nil, fmt.Errorf("rss child: %q, %v", line, err)
	}
	gc := func() error {
		if _, err := io.WriteString(in, "gc\n"); err != nil {
			return err
		}
		_, err := out.ReadString('\n')
		return err
	}
	return &rssServers{addrs: strings.Split(addrs, ","), pids: []int{cmd.Process.Pid}, gc: gc, stop: stop}, nil
}

// runChild is the RSS child: it serves n zk peers until its stdin ends,
// running a full GC for every "gc" line.
func runChild(n int, dir string) error {
	ens, err := startZK(dir, n, true, nil)
	if err != nil {
		return err
	}
	defer func() {
		for _, e := range ens {
			e.Close()
		}
	}()
	var addrs []string
	for _, e := range ens {
		addrs = append(addrs, e.ClientAddr())
	}
	fmt.Printf("addrs %s\n", strings.Join(addrs, ","))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "gc" {
			runtime.GC()
			debug.FreeOSMemory()
			fmt.Println("ok")
		}
	}
	return nil
}

// loadNodes creates /rss/n<i> for i < count over 8 connections, in multis
// of 250 creates, then syncs every server.
func loadNodes(addrs []string, count int) error {
	var conns []client
	for i := 0; i < 8; i++ {
		c, err := dialGozk(addrs[i%len(addrs)])
		if err != nil {
			closeClients(conns)
			return err
		}
		conns = append(conns, c)
	}
	defer closeClients(conns)
	if err := conns[0].create("/rss", nil); err != nil {
		return err
	}
	const perMulti = 250
	value := make([]byte, *valueLen)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, len(conns))
	for w, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := c.(gozkClient).c
			for {
				start := int(next.Add(perMulti)) - perMulti
				if start >= count {
					return
				}
				var ops []any
				for i := start; i < min(count, start+perMulti); i++ {
					ops = append(ops, &gozk.CreateRequest{Path: fmt.Sprintf("/rss/n%d", i), Data: value, Acl: openACL})
				}
				if _, err := conn.Multi(ops...); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("loading nodes: %w", err)
		}
	}
	for i := range addrs {
		if _, err := conns[i].(gozkClient).c.Sync("/rss"); err != nil {
			return err
		}
	}
	return nil
}

// sumRSS returns the summed resident set of pids, in MiB.
func sumRSS(pids []int) (float64, error) {
	var kib int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return 0, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				if err != nil {
					return 0, err
				}
				kib += n
			}
		}
	}
	return float64(kib) / 1024, nil
}
