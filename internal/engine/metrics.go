package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The metrics a peer registers on Config.Registerer. Names, units (ms) and
// meanings are ZooKeeper 3.8's where it has the metric (ServerMetrics and
// the gauges of ZooKeeperServer, LeaderZooKeeperServer and
// QuorumZooKeeperServer, as its PrometheusMetricsProvider exports them:
// no prefix, summaries with quantiles 0.5, 0.9 and 0.99, the label "key"
// for sets); zk's own are marked (zk).
//
// Summaries (ms unless said):
//
//	fsynctime                   one group commit's write + fsync of the log (none with NoForceSync)
//	sync_processor_batch_size   log entries per group commit (count)
//	updatelatency, readlatency  a write, a read, as the calling session sees it
//	quorum_ack_latency          a proposal of this leader until a quorum has it (its commit)
//	election_time               looking until deciding (measured in ticks: TickTime/10 resolution)
//	follower_sync_time, observer_sync_time   following a leader until serving
//	snapshottime                writing a snapshot
//
// Counters:
//
//	looking_count               elections started
//	leader_changes (zk)         times the peer came to serve under a new leader or epoch
//	diff_count, snap_count, trunc_count (zk)   learners this leader synced so
//	proposal_count, commit_count   proposals of this leader, and their commits
//	digest_mismatches_count     applied entries whose tree digest was not the leader's
//	unrecoverable_error_count   fail-stops (0 or 1 per Ensemble)
//	large_requests_rejected     requests over Config.JuteMaxBuffer (or MaxPathLength)
//	sessions_expired (zk)       sessions this leader expired
//	watch_overflow_count (zk)   persistent watches ended by ErrWatchOverflow
//	quota_exceeded_error_per_namespace{key}   writes refused past a hard quota
//	quota_soft_exceeded_per_namespace{key} (zk)  writes applied past a quota's limit
//
// Gauges (read when scraped; metrics_collect.go): znode_count, watch_count,
// ephemerals_count, approximate_data_size, num_alive_connections (sessions
// attached here, in-process or over the client port), global_sessions,
// outstanding_requests, uptime (ms), quorum_size, learners,
// synced_followers, synced_non_voting_followers, synced_observers and the
// quota_{count,bytes}_{limit,usage}_per_namespace{key} sets; zk's own:
// server_state{state} (1 for the current mode), serving, epoch,
// last_zxid, applied_zxid, election_round, outstanding_proposals (the
// pipeline's depth: logged, not applied), learner_lag_txns{learner},
// learner_lag_ms{learner}, log_file_count, log_size_bytes,
// snapshot_file_count, snapshot_size_bytes, last_snapshot_size (bytes),
// fsynctime_p99_ms (over the last 128 fsyncs, as Status.FsyncP99).
//
// The labels zk uses are key, learner and state: a host that runs several
// peers on one registry labels each with another name (server, say).
type metrics struct {
	reg  prometheus.Registerer
	all  []prometheus.Collector // every collector of the peer, never changed (metricValues, for mntr)
	regd []prometheus.Collector // those registered on reg

	fsync, batch, update, read, commit   *summary
	election, followerSync, observerSync *summary
	snapTime                             *summary

	looking, leaderChanges, diffs, snaps, truncs *counter
	proposals, commits, digests, failures, large *counter
	expired                                      *counter

	summaries []*summary // all of the above, registered in this order
	counters  []*counter

	lastSnapSize atomic.Int64
	props        proposalTimes
}

// quantiles are ZooKeeper's (its "advanced" summaries): median, 90th and
// 99th percentile.
var quantiles = map[float64]bool{0.5: true, 0.9: true, 0.99: true}

// newMetrics makes e's metrics and registers them on reg, with the
// collector of the gauges; nothing stays registered if one fails.
func newMetrics(e *Ensemble, reg prometheus.Registerer) (*metrics, error) {
	at := e.obs.started
	const nsToMs = 1e-6
	m := &metrics{reg: reg,
		fsync:        newSummary(at, "fsynctime", "Time to write and fsync one group commit of the transaction log (ms).", nsToMs),
		batch:        newSummary(at, "sync_processor_batch_size", "Log entries written per group commit.", 1),
		update:       newSummary(at, "updatelatency", "Latency of a write as its session sees it (ms).", nsToMs),
		read:         newSummary(at, "readlatency", "Latency of a read as its session sees it (ms).", nsToMs),
		commit:       newSummary(at, "quorum_ack_latency", "Time from a proposal of this leader to its commit by a quorum (ms).", nsToMs),
		election:     newSummary(at, "election_time", "Time from looking for a leader to deciding (ms, in ticks of TickTime/10).", nsToMs),
		followerSync: newSummary(at, "follower_sync_time", "Time from following a leader to serving (ms).", nsToMs),
		observerSync: newSummary(at, "observer_sync_time", "Time from observing a leader to serving (ms).", nsToMs),
		snapTime:     newSummary(at, "snapshottime", "Time to write a snapshot (ms).", nsToMs),

		looking:       newCounter("looking_count", "Elections this peer started."),
		leaderChanges: newCounter("leader_changes", "Times this peer came to serve under a new leader or epoch."),
		diffs:         newCounter("diff_count", "Learners this leader synced with DIFF."),
		snaps:         newCounter("snap_count", "Learners this leader synced with SNAP."),
		truncs:        newCounter("trunc_count", "Learners this leader synced with TRUNC (then DIFF)."),
		proposals:     newCounter("proposal_count", "Proposals of this leader."),
		commits:       newCounter("commit_count", "Proposals of this leader committed."),
		digests:       newCounter("digest_mismatches_count", "Applied entries whose tree digest differed from the leader's."),
		failures:      newCounter("unrecoverable_error_count", "Errors that stopped this peer (fail-stop)."),
		large:         newCounter("large_requests_rejected", "Requests refused as larger than jute.maxbuffer."),
		expired:       newCounter("sessions_expired", "Sessions this peer expired while leading."),
	}
	m.summaries = []*summary{m.fsync, m.batch, m.update, m.read, m.commit, m.election, m.followerSync,
		m.observerSync, m.snapTime}
	m.counters = []*counter{m.looking, m.leaderChanges, m.diffs, m.snaps, m.truncs, m.proposals,
		m.commits, m.digests, m.failures, m.large, m.expired}
	var cs []prometheus.Collector
	for _, s := range m.summaries {
		cs = append(cs, s)
	}
	for _, c := range m.counters {
		cs = append(cs, c)
	}
	cs = append(cs, newCollector(e, m))
	m.all = cs
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			m.unregister()
			var dup prometheus.AlreadyRegisteredError
			if errors.As(err, &dup) {
				return nil, fmt.Errorf("%w: Registerer: %v (several peers on one registry need their own labels: "+
					"prometheus.WrapRegistererWith)", ErrInvalidConfig, err)
			}
			return nil, fmt.Errorf("%w: Registerer: %v", ErrInvalidConfig, err)
		}
		m.regd = append(m.regd, c)
	}
	return m, nil
}

// unregister removes every metric this peer registered.
func (m *metrics) unregister() {
	for _, c := range m.regd {
		m.reg.Unregister(c)
	}
	m.regd = nil
}

// ms converts d to milliseconds, as ZooKeeper counts.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// proposalTimes remembers when this leader proposed its latest zxids, so
// that their commit latency is measured without a map on the hot path.
type proposalTimes struct {
	zxid [proposalRing]int64
	at   [proposalRing]int64 // monotonic ns since the Ensemble started
}

const proposalRing = 1 << 10

func (r *proposalTimes) note(zxid, at int64) {
	i := zxid & (proposalRing - 1)
	r.zxid[i], r.at[i] = zxid, at
}

// since returns when zxid was proposed, if it is still remembered.
func (r *proposalTimes) since(zxid int64) (int64, bool) {
	i := zxid & (proposalRing - 1)
	return r.at[i], r.zxid[i] == zxid
}

// metricValues calls sink with every value of this peer's metrics, named as
// ZooKeeper's mntr names them under its Prometheus provider (without mntr's
// "zk_" prefix): the sample's name, then its labels ({key="/a"}); a summary
// gives name{quantile="0.5"} (and 0.9, 0.99), name_count and name_sum.
// Samples come sorted by name. Without Config.Registerer there are none.
func (e *Ensemble) metricValues(sink func(name string, value float64)) error {
	m := e.obs.met
	if m == nil {
		return nil
	}
	reg := prometheus.NewRegistry() // this peer's metrics alone, whatever else the host's registry has
	for _, c := range m.all {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("zk: metrics: %w", err)
		}
	}
	fams, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("zk: metrics: %w", err)
	}
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			var labels []string
			for _, l := range mt.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			name := f.GetName()
			withLabels := func(name string, more ...string) string {
				all := append(slices.Clone(labels), more...)
				if len(all) == 0 {
					return name
				}
				return name + "{" + strings.Join(all, ",") + "}"
			}
			switch {
			case mt.GetSummary() != nil:
				sm := mt.GetSummary()
				for _, q := range sm.GetQuantile() {
					sink(withLabels(name, fmt.Sprintf("quantile=%q", fmt.Sprint(q.GetQuantile()))), q.GetValue())
				}
				sink(withLabels(name+"_count"), float64(sm.GetSampleCount()))
				sink(withLabels(name+"_sum"), sm.GetSampleSum())
			case mt.GetCounter() != nil:
				sink(withLabels(name), mt.GetCounter().GetValue())
			default:
				sink(withLabels(name), mt.GetGauge().GetValue())
			}
		}
	}
	return nil
}
