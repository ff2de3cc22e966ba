package engine

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/zab/transport"
)

// logRecord is one captured record: its message, level and attributes
// flattened ("ballots.2" for attribute 2 of group ballots).
type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (r logRecord) String() string {
	return fmt.Sprintf("%v %s %v", r.level, r.msg, r.attrs)
}

// logSink captures the records of the peers that log into it.
type logSink struct {
	mu   sync.Mutex
	recs map[int64][]logRecord // by peer id
}

func newLogSink() *logSink { return &logSink{recs: map[int64][]logRecord{}} }

// logger returns a logger of everything at Info and above, as peer id.
func (s *logSink) logger(id int64) *slog.Logger {
	return slog.New(&captureHandler{sink: s, id: id})
}

// records returns peer id's records with msg (all if msg is "").
func (s *logSink) records(id int64, msg string) []logRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []logRecord
	for _, r := range s.recs[id] {
		if msg == "" || r.msg == msg {
			out = append(out, r)
		}
	}
	return out
}

// reset forgets every record.
func (s *logSink) reset() {
	s.mu.Lock()
	s.recs = map[int64][]logRecord{}
	s.mu.Unlock()
}

type captureHandler struct {
	sink   *logSink
	id     int64
	attrs  []slog.Attr
	prefix string
}

func (h *captureHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		flatten(rec.attrs, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		flatten(rec.attrs, h.prefix, a)
		return true
	})
	h.sink.mu.Lock()
	h.sink.recs[h.id] = append(h.sink.recs[h.id], rec)
	h.sink.mu.Unlock()
	return nil
}

func flatten(m map[string]string, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		for _, g := range v.Group() {
			flatten(m, prefix+a.Key+".", g)
		}
		return
	}
	m[prefix+a.Key] = v.String()
}

func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *captureHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.prefix = h.prefix + name + "."
	return &c
}

// TestLogOfLeaderChange scripts a leader change (in-memory network, manual
// clocks) and checks the structured records the cluster walk-through
// narrates from: the new leader's election with its round, ballots and
// quorum, the roles, the sync it chose for each learner, the expiry of the
// old leader's sessions in one record, and the old leader rejoining.
func TestLogOfLeaderChange(t *testing.T) {
	sink := newLogSink()
	c := newClusterWith(t, 3, 0, 11, transport.NetworkOptions{}, func(cfg *Config) { cfg.Logger = sink.logger(cfg.ID) })
	c.waitFor("a serving ensemble", 400, c.allServing)
	old := c.leader()
	firstRound := c.ens[old].Status().Round
	for i := 0; i < 3; i++ {
		s := c.sessionWith(old, WithSessionTimeout(400*time.Millisecond))
		if err := c.create(s, fmt.Sprintf("/n%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	last := c.ens[old].Status().LastZxid
	sink.reset()
	c.stop(old)
	c.waitFor("a new leader", 400, func() bool { return c.leader() != 0 })
	leader := c.leader()
	other := c.others(leader)[0]
	for i := 0; i < 20*TicksPerTickTime; i++ {
		c.tick() // the old leader's sessions expire
	}

	el := one(t, sink.records(leader, "zk: election decided"))
	want := map[string]string{
		"outcome": "leading", "leader": fmt.Sprint(leader), "quorum": "2 of 3 voters",
		"why": "lost the connection to the leader", "joined": "false",
		"proposed": fmt.Sprintf("(epoch 1, zxid %s, leader %d)", hexZxid(last), leader),
		"vote":     fmt.Sprintf("(epoch 1, zxid %s, leader %d)", hexZxid(last), leader),
		"round":    fmt.Sprint(firstRound + 1),
	}
	hasAttrs(t, el, want)
	for _, id := range []int64{leader, other} {
		if b := el.attrs[fmt.Sprint("ballots.", id)]; !strings.HasSuffix(b, " agrees") {
			t.Errorf("ballot of %d in %s", id, el)
		}
	}
	if el.attrs["agreeing"] != "2" {
		t.Errorf("agreeing ballots in %s", el)
	}
	hasAttrs(t, one(t, sink.records(other, "zk: election decided")),
		map[string]string{"outcome": "following", "leader": fmt.Sprint(leader)})
	roles := sink.records(leader, "zk: role")
	if len(roles) == 0 || roles[0].attrs["mode"] != "looking" || roles[len(roles)-1].attrs["mode"] != "leading" ||
		roles[len(roles)-1].attrs["serving"] != "true" {
		t.Errorf("roles of the new leader: %v", roles)
	}
	hasAttrs(t, one(t, sink.records(leader, "zk: syncing a learner")),
		map[string]string{"peer": fmt.Sprint(other), "mode": "DIFF", "txns": "0", "learner_zxid": hexZxid(last)})
	hasAttrs(t, one(t, sink.records(leader, "zk: expiring sessions")), map[string]string{"count": "3"})

	// The old leader comes back: it joins the leader without an election
	// of its own, and the leader syncs it.
	sink.reset()
	c.start(old)
	c.waitFor("all serving", 400, c.allServing)
	hasAttrs(t, one(t, sink.records(old, "zk: election decided")),
		map[string]string{"outcome": "following", "leader": fmt.Sprint(leader), "joined": "true", "why": "starting"})
	hasAttrs(t, one(t, sink.records(leader, "zk: syncing a learner")), map[string]string{"peer": fmt.Sprint(old)})
	for _, id := range []int64{1, 2, 3} {
		for _, r := range sink.records(id, "") {
			if r.level >= slog.LevelWarn {
				t.Errorf("peer %d: %s", id, r)
			}
		}
	}
}

// TestNoInfoLogsPerRequest: requests log nothing at Info.
func TestNoInfoLogsPerRequest(t *testing.T) {
	sink := newLogSink()
	cfg := testConfig(vfs.NewMem(), 1)
	cfg.Logger = sink.logger(1)
	e := openTest(t, cfg)
	defer e.Close()
	s := newSession(t, e)
	ctx := testCtx(t)
	sink.reset()
	for i := 0; i < 50; i++ {
		p := mustCreate(t, s, fmt.Sprintf("/r%d", i), "x")
		if _, err := s.Set(ctx, p, []byte("y"), -1); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Get(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(ctx, p, nil); err == nil {
			t.Fatal("a second create succeeded")
		}
	}
	if recs := sink.records(1, ""); len(recs) != 0 {
		t.Fatalf("requests logged %d records, first %s", len(recs), recs[0])
	}
}

func one(t *testing.T, recs []logRecord) logRecord {
	t.Helper()
	if len(recs) != 1 {
		t.Fatalf("want one record, got %d: %v", len(recs), recs)
	}
	return recs[0]
}

func hasAttrs(t *testing.T, r logRecord, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if r.attrs[k] != v {
			t.Errorf("%s: %s = %q, want %q", r.msg, k, r.attrs[k], v)
		}
	}
}

// sessionWith opens a session on peer id with opts while driving the cluster.
func (c *cluster) sessionWith(id int64, opts ...SessionOption) *Session {
	c.t.Helper()
	var s *Session
	err := c.do(func(ctx context.Context) (err error) {
		s, err = c.ens[id].NewSession(ctx, opts...)
		return err
	})
	if err != nil {
		c.t.Fatalf("session on %d: %v", id, err)
	}
	return s
}
