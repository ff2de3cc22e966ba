//go:build unix

package proctest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	zk "github.com/embedzk/zk"
)

// TestHelperPeerProcess is the body of a peer process: the parent re-runs
// this test binary with ZK_PROCTEST_PEER set. Without it, it does nothing.
func TestHelperPeerProcess(t *testing.T) {
	raw := os.Getenv(envPeer)
	if raw == "" {
		return
	}
	if err := runChild(raw); err != nil {
		fmt.Fprintf(os.Stderr, "proctest peer: %v\n", err)
		os.Exit(1)
	}
}

// child is one peer process: its ensemble, its op log and its workload.
type child struct {
	spec  peerSpec
	ens   *zk.Ensemble
	ops   *opLog
	work  *workload // nil until "load"
	dumpS *zk.Session
}

func runChild(raw string) error {
	var spec peerSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return fmt.Errorf("decoding %s: %w", envPeer, err)
	}
	logf, err := os.OpenFile(zkLogPath(spec.Dir), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	logger := slog.New(slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	logger.Info("proctest: peer process starting", "id", spec.ID, "incarnation", spec.Incarnation, "pid", os.Getpid())
	ops, err := openOpLog(opLogPath(spec.Dir))
	if err != nil {
		return err
	}
	defer ops.close()
	cmds := readCommands()
	ens, err := openEnsemble(peerConfig(spec, logger))
	if err != nil {
		reply(0, childReply{Err: err.Error()})
		return err
	}
	c := &child{spec: spec, ens: ens, ops: ops}
	reply(0, childReply{})
	return c.serve(cmds)
}

// peerConfig is the zk configuration of a peer process.
func peerConfig(spec peerSpec, logger *slog.Logger) zk.Config {
	var servers []zk.Server
	for id, port := range spec.Ports {
		servers = append(servers, zk.Server{ID: id, Host: "127.0.0.1", QuorumPort: port, ElectionPort: port})
	}
	sort.Slice(servers, func(i, j int) bool { return servers[i].ID < servers[j].ID })
	return zk.Config{
		ID:            spec.ID,
		TickTime:      spec.TickTime,
		DataDir:       dataDir(spec.Dir),
		Servers:       servers,
		PeerSecret:    []byte(spec.Secret),
		Logger:        logger,
		SnapCount:     1 << 30, // keep every entry in the log: the checks read it whole
		PurgeInterval: -1,
	}
}

// openEnsemble starts the peer, retrying for a while if its port is still
// (or already) taken: the parent probed it free, but another process may
// hold it for a moment.
func openEnsemble(cfg zk.Config) (*zk.Ensemble, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ens, err := zk.NewEnsemble(cfg)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			return ens, err
		}
		t := time.NewTimer(50 * time.Millisecond)
		<-t.C
	}
}

// readCommands reads command lines from stdin. When stdin ends the parent
// is gone: the process exits at once, so no peer outlives its test.
func readCommands() <-chan string {
	out := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			out <- sc.Text()
		}
		os.Exit(3)
	}()
	return out
}

// reply writes one reply line (a single write) to stdout.
func reply(seq int64, r childReply) {
	b, err := json.Marshal(r)
	if err != nil {
		b = []byte(`{"Err":"marshal"}`)
	}
	fmt.Fprintf(os.Stdout, "%s%d %s\n", replyPrefix, seq, b)
}

// serve runs commands until "stop".
func (c *child) serve(cmds <-chan string) error {
	for line := range cmds {
		num, rest, _ := strings.Cut(line, " ")
		seq, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return fmt.Errorf("bad command line %q", line)
		}
		name, arg, _ := strings.Cut(rest, " ")
		switch name {
		case "status":
			reply(seq, childReply{Status: c.status()})
		case "load":
			if c.work == nil {
				c.work = startWorkload(c.spec, c.ens, c.ops)
			}
			reply(seq, childReply{})
		case "quiesce":
			c.quiesce()
			reply(seq, childReply{Status: c.status()})
		case "dump":
			d, err := c.dump(arg)
			r := childReply{Dump: &d}
			if err != nil {
				r = childReply{Err: err.Error()}
			}
			reply(seq, r)
		case "stop":
			c.quiesce()
			c.ens.Close()
			reply(seq, childReply{})
			return nil
		default:
			reply(seq, childReply{Err: "unknown command " + name})
		}
	}
	return nil
}

func (c *child) quiesce() {
	if c.work != nil {
		c.work.stop()
	}
}

func (c *child) status() *statusReply {
	st := c.ens.Status()
	r := &statusReply{
		Mode: st.Mode.String(), Leader: st.Leader, Serving: st.Serving, Epoch: st.Epoch,
		Applied: st.Applied, LastZxid: st.LastZxid,
	}
	if st.Err != nil {
		r.Err = st.Err.Error()
	}
	if c.work != nil {
		r.Ops, r.Acked, r.LastAck = c.work.nOps.Load(), c.work.nAcked.Load(), c.work.lastAck.Load()
	}
	return r
}

// dump writes the tree, read at one applied zxid after a Sync, to file.
func (c *child) dump(file string) (dumpReply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c.dumpS == nil || c.dumpS.State() != zk.StateConnected {
		s, err := c.ens.NewSession(ctx)
		if err != nil {
			return dumpReply{}, err
		}
		c.dumpS = s
	}
	for {
		if err := c.dumpS.Sync(ctx, "/"); err != nil {
			return dumpReply{}, err
		}
		before := c.ens.Status().Applied
		nodes := map[string]nodeDump{}
		if err := walkTree(ctx, c.dumpS, "/", nodes); err != nil {
			return dumpReply{}, err
		}
		if c.ens.Status().Applied != before {
			continue // the tree changed under the walk: read it again
		}
		b, err := json.Marshal(treeDump{ID: c.spec.ID, Applied: before, Nodes: nodes})
		if err == nil {
			err = os.WriteFile(file, b, 0o644)
		}
		return dumpReply{Applied: before, Nodes: len(nodes)}, err
	}
}

// walkTree reads path and everything below it into nodes.
func walkTree(ctx context.Context, s *zk.Session, path string, nodes map[string]nodeDump) error {
	data, st, err := s.Get(ctx, path)
	if err != nil {
		return err
	}
	nodes[path] = nodeDump{Data: data, Stat: st}
	names, _, err := s.Children(ctx, path)
	if err != nil {
		return err
	}
	for _, name := range names {
		child := path + "/" + name
		if path == "/" {
			child = "/" + name
		}
		if err := walkTree(ctx, s, child, nodes); err != nil {
			return err
		}
	}
	return nil
}
