package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/embedzk/zk"
)

// server is one zk peer of the walk-through, as one zoo.cfg and one
// zkServer.sh would run it: it keeps its data directory across stops.
type server struct {
	id       int64
	observer bool
	cfg      zk.Config
	ens      *zk.Ensemble // nil while stopped
}

// name is how zoo.cfg calls the server.
func (s *server) name() string { return fmt.Sprint("server.", s.id) }

// cluster holds the servers and what their logs told of their elections.
type cluster struct {
	dir     string
	servers []*server

	mu        sync.Mutex
	elections []electionRecord
}

// newCluster prepares (does not start) 3 voters and, with observer, a
// fourth server that observes, each on its own quorum port of 127.0.0.1.
func newCluster(tick time.Duration, observer bool) (*cluster, error) {
	dir, err := os.MkdirTemp("", "zk-cluster-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	n := 3
	if observer {
		n = 4
	}
	var list []zk.Server
	for id := int64(1); id <= int64(n); id++ {
		port, err := freePort()
		if err != nil {
			c.close()
			return nil, err
		}
		list = append(list, zk.Server{ID: id, Host: "127.0.0.1", QuorumPort: port, ElectionPort: port, Observer: id == 4})
	}
	for _, s := range list {
		srv := &server{id: s.ID, observer: s.Observer}
		srv.cfg = zk.Config{ID: s.ID, DataDir: filepath.Join(dir, fmt.Sprint("zk", s.ID)), Servers: list,
			PeerSecret: secret, TickTime: tick, Logger: slog.New(&electionLog{c: c, id: s.ID})}
		c.servers = append(c.servers, srv)
	}
	return c, nil
}

// freePort returns a TCP port that is free on 127.0.0.1 now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// zooCfg returns the server lines every server's zoo.cfg holds.
func (c *cluster) zooCfg() []string {
	var lines []string
	for _, s := range c.servers[0].cfg.Servers {
		line := fmt.Sprintf("server.%d=%s:%d:%d", s.ID, s.Host, s.QuorumPort, s.ElectionPort)
		if s.Observer {
			line += ":observer"
		}
		lines = append(lines, line)
	}
	return lines
}

// server returns the server of id.
func (c *cluster) server(id int64) *server { return c.servers[id-1] }

// start starts server id, as zkServer.sh start does.
func (c *cluster) start(id int64) error {
	s := c.server(id)
	e, err := zk.NewEnsemble(s.cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name(), err)
	}
	c.mu.Lock()
	s.ens = e
	c.mu.Unlock()
	return nil
}

// stop stops server id, as zkServer.sh stop does (a kill: it tells the
// others nothing).
func (c *cluster) stop(id int64) {
	s := c.server(id)
	c.mu.Lock()
	e := s.ens
	s.ens = nil
	c.mu.Unlock()
	if e != nil {
		e.Close()
	}
}

// ensemble returns server id's Ensemble, nil while it is stopped.
func (c *cluster) ensemble(id int64) *zk.Ensemble {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.server(id).ens
}

// status returns server id's status; running is false while it is stopped.
func (c *cluster) status(id int64) (st zk.Status, running bool) {
	if e := c.ensemble(id); e != nil {
		return e.Status(), true
	}
	return zk.Status{}, false
}

// serving reports whether server id serves in mode m under leader.
func (c *cluster) serving(id int64, m zk.Mode, leader int64) bool {
	st, ok := c.status(id)
	return ok && st.Serving && st.Mode == m && (leader == 0 || st.Leader == leader)
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, what string, cond func() bool) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("waiting until %s: %w", what, ctx.Err())
		}
	}
	return nil
}

// close stops every server and removes the data directories.
func (c *cluster) close() {
	for _, s := range c.servers {
		c.stop(s.id)
	}
	os.RemoveAll(c.dir)
}

// electionRecord is one server's "zk: election decided" log record.
type electionRecord struct {
	server   int64
	at       time.Time
	outcome  string // leading, following, observing
	leader   int64
	round    int64
	proposed string // the server's own first vote
	joined   bool   // it joined a leader that already led
	quorum   string
	took     time.Duration
	why      string
}

// elections returns the records logged since t, in order.
func (c *cluster) electionsSince(t time.Time) []electionRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []electionRecord
	for _, r := range c.elections {
		if !r.at.Before(t) {
			out = append(out, r)
		}
	}
	return out
}

// electionLog is a slog.Handler that keeps a server's election records
// (Config.Logger) and drops the rest.
type electionLog struct {
	c  *cluster
	id int64
}

func (h *electionLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h *electionLog) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *electionLog) WithGroup(string) slog.Handler                { return h }

func (h *electionLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "zk: election decided" {
		return nil
	}
	rec := electionRecord{server: h.id, at: time.Now()}
	r.Attrs(func(a slog.Attr) bool {
		v := a.Value.Resolve()
		switch a.Key {
		case "outcome":
			rec.outcome = v.String()
		case "leader":
			rec.leader = v.Int64()
		case "round":
			rec.round = v.Int64()
		case "proposed":
			rec.proposed = v.String()
		case "joined":
			rec.joined = v.Bool()
		case "quorum":
			rec.quorum = v.String()
		case "took":
			rec.took = v.Duration()
		case "why":
			rec.why = v.String()
		}
		return true
	})
	h.c.mu.Lock()
	h.c.elections = append(h.c.elections, rec)
	h.c.mu.Unlock()
	return nil
}

// vote is a proposal as the log writes it: "(epoch E, zxid 0xZ, leader L)".
type vote struct{ epoch, zxid, leader int64 }

func parseVote(s string) (vote, bool) {
	var v vote
	_, err := fmt.Sscanf(strings.TrimSpace(s), "(epoch %d, zxid 0x%x, leader %d)", &v.epoch, &v.zxid, &v.leader)
	return v, err == nil
}

// beats reports whether v wins over w, as Fast Leader Election compares
// votes: epoch, then zxid, then id.
func (v vote) beats(w vote) bool {
	if v.epoch != w.epoch {
		return v.epoch > w.epoch
	}
	if v.zxid != w.zxid {
		return v.zxid > w.zxid
	}
	return v.leader > w.leader
}
