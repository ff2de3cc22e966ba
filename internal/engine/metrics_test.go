package engine

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/embedzk/zk/zab/transport"
)

// scrape gathers g into name{label="v",...} -> value; a summary gives
// name_count and name_sum, a counter or gauge its value.
func scrape(t testing.TB, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatalf("gathering: %v", err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(labels)
			suffix := ""
			if len(labels) > 0 {
				suffix = "{" + strings.Join(labels, ",") + "}"
			}
			name := f.GetName()
			switch f.GetType() {
			case dto.MetricType_SUMMARY:
				out[name+"_count"+suffix] = float64(m.GetSummary().GetSampleCount())
				out[name+"_sum"+suffix] = m.GetSummary().GetSampleSum()
			case dto.MetricType_COUNTER:
				out[name+suffix] = m.GetCounter().GetValue()
			default:
				out[name+suffix] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func expectMetrics(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s missing", k)
			continue
		}
		if g != v {
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
}

// treeDataSize walks the whole tree through s and adds up every node's
// path and data, as ZooKeeper's approximate_data_size counts.
func treeDataSize(t *testing.T, s *Session, path string) int64 {
	t.Helper()
	ctx := testCtx(t)
	data, _, err := s.Get(ctx, path)
	if err != nil {
		t.Fatalf("get %s: %v", path, err)
	}
	n := int64(len(path) + len(data))
	kids, _, err := s.Children(ctx, path)
	if err != nil {
		t.Fatalf("children of %s: %v", path, err)
	}
	for _, k := range kids {
		n += treeDataSize(t, s, strings.TrimSuffix(path, "/")+"/"+k)
	}
	return n
}

// TestMetricsAfterKnownOperations reads a standalone peer's metrics from
// the host's registry after known operations.
func TestMetricsAfterKnownOperations(t *testing.T) {
	reg := prometheus.NewRegistry()
	fs := vfs.NewMem()
	cfg := testConfig(fs, 1)
	cfg.Registerer = reg
	e := openTest(t, cfg)
	ctx := testCtx(t)
	s := newSession(t, e)                                        // write 1 (createSession)
	mustCreate(t, s, "/a", "12345")                              // 2
	mustCreate(t, s, "/a/e", "xy", WithMode(ModeEphemeral))      // 3
	mustCreate(t, s, "/b", "")                                   // 4
	if _, err := s.Set(ctx, "/a", []byte("1"), -1); err != nil { // 5
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "/a", nil); !errors.Is(err, ErrNodeExists) { // 6: a failure is proposed too
		t.Fatal(err)
	}
	if _, _, _, err := s.GetW(ctx, "/b"); err != nil { // read 1, one watch
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, "/a"); err != nil { // read 2
		t.Fatal(err)
	}
	big := make([]byte, DefaultJuteMaxBuffer+1)
	if _, err := s.Create(ctx, "/big", big); !errors.Is(err, ErrRequestTooLarge) { // refused, not proposed
		t.Fatal(err)
	}
	mustCreate(t, s, "/q", "")                                     // 7
	if err := s.SetQuota(ctx, "/q", Quota{Count: 1}); err != nil { // read 3, write 8
		t.Fatal(err)
	}
	mustCreate(t, s, "/q/x", "abc") // 9: past the soft limit (2 nodes > 1)

	st := e.Status()
	got := scrape(t, reg)
	const writes, reads = 9, 3
	expectMetrics(t, got, map[string]float64{
		"znode_count":                                float64(st.Znodes + 1), // the root twice, as ZooKeeper
		"ephemerals_count":                           1,
		"approximate_data_size":                      float64(treeDataSize(t, s, "/")),
		"watch_count":                                1,
		"num_alive_connections":                      1,
		"global_sessions":                            1,
		"outstanding_requests":                       0,
		"quorum_size":                                1,
		`server_state{state="standalone"}`:           1,
		`server_state{state="leading"}`:              0,
		"serving":                                    1,
		"last_zxid":                                  float64(st.LastZxid),
		"applied_zxid":                               float64(st.Applied),
		"outstanding_proposals":                      0,
		"proposal_count":                             writes,
		"commit_count":                               writes,
		"quorum_ack_latency_count":                   writes,
		"sync_processor_batch_size_sum":              writes,
		"updatelatency_count":                        writes,
		"readlatency_count":                          reads,
		"large_requests_rejected":                    1,
		"digest_mismatches_count":                    0,
		"unrecoverable_error_count":                  0,
		"looking_count":                              1,
		"election_time_count":                        1,
		"leader_changes":                             0,
		"watch_overflow_count":                       0,
		`quota_count_limit_per_namespace{key="q"}`:   1,
		`quota_bytes_limit_per_namespace{key="q"}`:   -1,
		`quota_count_usage_per_namespace{key="q"}`:   2,
		`quota_bytes_usage_per_namespace{key="q"}`:   3,
		`quota_soft_exceeded_per_namespace{key="q"}`: 1,
	})
	if st.Znodes != 4+5+3 { // the built-in nodes, ours, and the quota's three
		t.Errorf("Status.Znodes %d", st.Znodes)
	}
	if got["fsynctime_count"] < 1 || got["fsynctime_count"] != got["sync_processor_batch_size_count"] {
		t.Errorf("fsynctime_count %v, batches %v", got["fsynctime_count"], got["sync_processor_batch_size_count"])
	}
	if got["log_file_count"] < 1 || got["log_size_bytes"] <= 0 || got["fsynctime_p99_ms"] <= 0 || got["uptime"] <= 0 {
		t.Errorf("log files %v, bytes %v, fsync p99 %v, uptime %v", got["log_file_count"], got["log_size_bytes"],
			got["fsynctime_p99_ms"], got["uptime"])
	}

	// Close unregisters everything; a peer opened again registers anew.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if got := scrape(t, reg); len(got) != 0 {
		t.Fatalf("%d metrics registered after Close", len(got))
	}
	e2 := openTest(t, cfg)
	defer e2.Close()
	// (The session is still open in the ensemble: its ephemeral stays.)
	if got := scrape(t, reg); got["znode_count"] != float64(st.Znodes+1) || got["ephemerals_count"] != 1 {
		t.Fatalf("after reopening: znode_count %v, ephemerals_count %v", got["znode_count"], got["ephemerals_count"])
	}
}

// TestMetricsNeedOwnLabels: two peers on one registry collide unless the
// host labels each (prometheus.WrapRegistererWith); the refusal names the
// fix and leaves the first peer's metrics alone.
func TestMetricsNeedOwnLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg1 := testConfig(vfs.NewMem(), 1)
	cfg1.Registerer = reg
	e1 := openTest(t, cfg1)
	defer e1.Close()
	cfg2 := testConfig(vfs.NewMem(), 2)
	cfg2.Registerer = reg
	if e2, err := NewEnsemble(cfg2); err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "WrapRegistererWith") {
		if e2 != nil {
			e2.Close()
		}
		t.Fatalf("a second peer on the same registry: %v", err)
	}
	if got := scrape(t, reg); got["znode_count"] != 5 {
		t.Fatalf("first peer's metrics after the refusal: %v", got["znode_count"])
	}
	e1.Close()
	reg = prometheus.NewRegistry() // a registry keeps a name's labels for its lifetime
	cfg1.Registerer = prometheus.WrapRegistererWith(prometheus.Labels{"server": "1"}, reg)
	cfg2.Registerer = prometheus.WrapRegistererWith(prometheus.Labels{"server": "2"}, reg)
	a := openTest(t, cfg1)
	defer a.Close()
	b := openTest(t, cfg2)
	defer b.Close()
	mustCreate(t, newSession(t, b), "/only-on-2", "")
	expectMetrics(t, scrape(t, reg), map[string]float64{`znode_count{server="1"}`: 5, `znode_count{server="2"}`: 6})
}

// TestMetricsOfCluster: a 3-peer ensemble on one registry (each peer
// labelled): the leader counts its synced followers and their syncs, a
// paused follower's lag shows, and a leader change counts on the others.
func TestMetricsOfCluster(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := newClusterWith(t, 3, 0, 31, transport.NetworkOptions{}, func(cfg *Config) {
		cfg.Registerer = prometheus.WrapRegistererWith(prometheus.Labels{"server": fmt.Sprint(cfg.ID)}, reg)
	})
	c.waitFor("a serving ensemble", 400, c.allServing)
	leader := c.leader()
	f := c.others(leader)
	l := fmt.Sprintf(`{server="%d"}`, leader)
	s := c.session(leader)
	c.freeze(f[1])
	for i := 0; i < 3; i++ {
		if err := c.create(s, fmt.Sprintf("/m%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	c.tick()
	got := scrape(t, reg)
	expectMetrics(t, got, map[string]float64{
		"synced_followers" + l: 2,
		"learners" + l:         2,
		"diff_count" + l:       2,
		"snap_count" + l:       0,
		"quorum_size" + l:      3,
		fmt.Sprintf(`learner_lag_txns{learner="%d",server="%d"}`, f[1], leader): 3,
		fmt.Sprintf(`learner_lag_txns{learner="%d",server="%d"}`, f[0], leader): 0,
	})
	c.thaw(f[1])
	for _, id := range f {
		if got[fmt.Sprintf(`follower_sync_time_count{server="%d"}`, id)] != 1 {
			t.Errorf("follower_sync_time_count of %d: %v", id, got[fmt.Sprintf(`follower_sync_time_count{server="%d"}`, id)])
		}
	}
	c.stop(leader)
	c.waitFor("a new leader", 400, func() bool { return c.leader() != 0 })
	got = scrape(t, reg)
	for _, id := range f {
		p := fmt.Sprintf(`{server="%d"}`, id)
		if got["leader_changes"+p] != 1 || got["looking_count"+p] != 2 || got["election_time_count"+p] != 2 {
			t.Errorf("peer %d: leader_changes %v, looking_count %v, election_time_count %v", id,
				got["leader_changes"+p], got["looking_count"+p], got["election_time_count"+p])
		}
	}
}

// TestMetricsWatchOverflow: a persistent watch whose consumer falls more
// than DefaultWatchBuffer events behind ends, and counts.
func TestMetricsWatchOverflow(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := testConfig(vfs.NewMem(), 1)
	cfg.Registerer = reg
	e := openTest(t, cfg)
	defer e.Close()
	s := newSession(t, e)
	ctx := testCtx(t)
	mustCreate(t, s, "/w", "")
	w, err := s.AddWatch(ctx, "/w", false)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Remove()
	for i := 0; i <= DefaultWatchBuffer; i++ {
		if _, err := s.Set(ctx, "/w", nil, -1); err != nil {
			t.Fatal(err)
		}
	}
	expectMetrics(t, scrape(t, reg), map[string]float64{"watch_overflow_count": 1, "watch_count": 0})
}

// TestMetricValues: metricValues (mntr's) gives the same values a scrape of the
// host's registry does, named as ZooKeeper's mntr names Prometheus samples,
// without the labels the host adds, and nothing without a Registerer.
func TestMetricValues(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := testConfig(vfs.NewMem(), 1)
	cfg.Registerer = prometheus.WrapRegistererWith(prometheus.Labels{"server": "1"}, reg)
	e := openTest(t, cfg)
	defer e.Close()
	s := newSession(t, e)
	mustCreate(t, s, "/a", "x")
	mustCreate(t, s, "/q", "")
	if err := s.SetQuota(testCtx(t), "/q", Quota{Count: 5}); err != nil {
		t.Fatal(err)
	}
	vals := map[string]float64{}
	if err := e.metricValues(func(name string, v float64) {
		if _, dup := vals[name]; dup {
			t.Errorf("%s twice", name)
		}
		vals[name] = v
	}); err != nil {
		t.Fatal(err)
	}
	scraped := scrape(t, reg)
	for k, v := range scraped {
		if strings.HasPrefix(k, "uptime") { // read at another time
			continue
		}
		name := strings.NewReplacer(`{server="1"}`, "", `server="1",`, "", `,server="1"`, "").Replace(k)
		if got, ok := vals[name]; !ok || got != v {
			t.Errorf("%s: metricValues has %v (%v), the registry %v", name, got, ok, v)
		}
	}
	for _, k := range []string{"proposal_count", `fsynctime{quantile="0.5"}`, `updatelatency{quantile="0.99"}`,
		`quota_count_limit_per_namespace{key="q"}`, "uptime"} {
		if _, ok := vals[k]; !ok {
			t.Errorf("%s missing", k)
		}
	}
	if vals["proposal_count"] < 3 || len(vals) != len(scraped)+3*9 { // the quantiles of the 9 summaries
		t.Errorf("proposal_count %v; %d values, %d scraped", vals["proposal_count"], len(vals), len(scraped))
	}

	plain := openTest(t, testConfig(vfs.NewMem(), 1))
	defer plain.Close()
	n := 0
	if err := plain.metricValues(func(string, float64) { n++ }); err != nil || n != 0 {
		t.Fatalf("without a Registerer: %d values, %v", n, err)
	}
}
