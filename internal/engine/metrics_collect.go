package engine

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// gaugeCollector exports the gauges (and the counters others keep) of a peer,
// read when the registry is scraped: nothing on the hot path.
type gaugeCollector struct {
	e *Ensemble
	m *metrics
}

func newCollector(e *Ensemble, m *metrics) *gaugeCollector { return &gaugeCollector{e: e, m: m} }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// The collector's metrics. Gauges unless they end in _count (counters).
var (
	dZnodes       = desc("znode_count", "Nodes in the tree, the root counted twice as ZooKeeper counts it.")
	dWatches      = desc("watch_count", "Watches set through this peer.")
	dEphemerals   = desc("ephemerals_count", "Ephemeral nodes in the tree.")
	dDataSize     = desc("approximate_data_size", "Bytes of every node's path and data.")
	dConns        = desc("num_alive_connections", "Sessions attached to this peer (in-process or over the client port).")
	dGlobal       = desc("global_sessions", "Sessions of the ensemble, as this peer's tree records them.")
	dOutstanding  = desc("outstanding_requests", "Client requests queued or in flight at this peer.")
	dUptime       = desc("uptime", "Time since this peer started (ms).")
	dQuorumSize   = desc("quorum_size", "Voting members of the ensemble.")
	dLearners     = desc("learners", "Learners of this leader (in any phase).")
	dSyncedF      = desc("synced_followers", "Followers of this leader in broadcast.")
	dSyncedNV     = desc("synced_non_voting_followers", "Non-voting followers of this leader in broadcast: joiners, and servers a reconfig removed.")
	dSyncedO      = desc("synced_observers", "Observers of this leader in broadcast.")
	dState        = desc("server_state", "1 for this peer's mode.", "state")
	dServing      = desc("serving", "1 while this peer serves reads and writes.")
	dEpoch        = desc("epoch", "This peer's current epoch.")
	dLastZxid     = desc("last_zxid", "Last zxid in this peer's log.")
	dApplied      = desc("applied_zxid", "Last zxid applied to this peer's tree.")
	dRound        = desc("election_round", "Round (logical clock) of this peer's last election.")
	dPipeline     = desc("outstanding_proposals", "Entries logged but not applied yet (the pipeline's depth).")
	dLagTxns      = desc("learner_lag_txns", "Entries of this leader's log the learner lacks (-1: uncountable).", "learner")
	dLagMs        = desc("learner_lag_ms", "Age of the oldest entry the learner lacks (ms).", "learner")
	dLogFiles     = desc("log_file_count", "Files in the transaction log directory.")
	dLogBytes     = desc("log_size_bytes", "Bytes of the files in the transaction log directory.")
	dSnapFiles    = desc("snapshot_file_count", "Snapshots in the snapshot directory (files and checkpoints).")
	dSnapBytes    = desc("snapshot_size_bytes", "Bytes of the files under the snapshot directory (a checkpoint's are shared with the tree).")
	dLastSnap     = desc("last_snapshot_size", "Bytes of the last snapshot this peer wrote.")
	dFsyncP99     = desc("fsynctime_p99_ms", "99th percentile of the last 128 fsyncs of the log (ms).")
	dOverflows    = desc("watch_overflow_count", "Persistent watches ended because their consumer fell behind.")
	dQuotaRefused = desc("quota_exceeded_error_per_namespace", "Writes refused past a hard quota, by namespace.", "key")
	dQuotaSoft    = desc("quota_soft_exceeded_per_namespace", "Writes applied past a quota's limit, by namespace.", "key")
	dQCountLimit  = desc("quota_count_limit_per_namespace", "Node count limits of the quotas, by namespace (hard if set, else soft).", "key")
	dQBytesLimit  = desc("quota_bytes_limit_per_namespace", "Byte limits of the quotas, by namespace (hard if set, else soft).", "key")
	dQCountUsage  = desc("quota_count_usage_per_namespace", "Nodes under quotas, by namespace.", "key")
	dQBytesUsage  = desc("quota_bytes_usage_per_namespace", "Bytes under quotas, by namespace.", "key")

	allDescs = []*prometheus.Desc{dZnodes, dWatches, dEphemerals, dDataSize, dConns, dGlobal, dOutstanding,
		dUptime, dQuorumSize, dLearners, dSyncedF, dSyncedNV, dSyncedO, dState, dServing, dEpoch, dLastZxid,
		dApplied, dRound, dPipeline, dLagTxns, dLagMs, dLogFiles, dLogBytes, dSnapFiles, dSnapBytes, dLastSnap,
		dFsyncP99, dOverflows, dQuotaRefused, dQuotaSoft, dQCountLimit, dQBytesLimit, dQCountUsage, dQBytesUsage}
)

// Describe implements prometheus.Collector.
func (c *gaugeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *gaugeCollector) Collect(ch chan<- prometheus.Metric) {
	e := c.e
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	st := e.Status()
	gauge(dZnodes, float64(st.Znodes+1))                 // ZooKeeper's count holds the root twice (under "" and "/")
	gauge(dWatches, float64(e.watches.Tables().Total())) // as ZooKeeper counts them: (session, path) pairs
	gauge(dEphemerals, float64(st.Ephemerals))
	gauge(dDataSize, float64(st.DataSize))
	gauge(dConns, float64(st.Sessions))
	if n, err := e.globalSessions(); err == nil {
		gauge(dGlobal, float64(n))
	}
	gauge(dOutstanding, float64(st.Requests))
	gauge(dUptime, ms(time.Since(e.obs.started)))
	voters, _ := e.cfg.members()
	gauge(dQuorumSize, float64(len(voters)))
	c.collectRole(st, gauge)
	gauge(dFsyncP99, ms(st.FsyncP99))
	counter(dOverflows, float64(e.watches.Overflows()))
	c.collectFiles(gauge)
	c.collectQuotas(gauge, counter)
}

// collectRole exports the mode and, on a leader, its learners.
func (c *gaugeCollector) collectRole(st Status, gauge func(*prometheus.Desc, float64, ...string)) {
	for _, m := range []Mode{ModeStandalone, ModeLooking, ModeFollowing, ModeLeading, ModeObserving, ModeFailed, ModeClosed} {
		v := 0.0
		if st.Mode == m {
			v = 1
		}
		gauge(dState, v, m.String())
	}
	gauge(dServing, b2f(st.Serving))
	gauge(dEpoch, float64(st.Epoch))
	gauge(dLastZxid, float64(st.LastZxid))
	gauge(dApplied, float64(st.Applied))
	gauge(dRound, float64(st.Round))
	depth := 0.0
	if st.LastZxid>>32 == st.Applied>>32 {
		depth = float64(st.LastZxid - st.Applied)
	}
	gauge(dPipeline, depth)
	if st.Mode != ModeLeading {
		return
	}
	var followers, nonVoting, observers float64
	for _, l := range st.Learners {
		switch {
		case l.Phase != "broadcast":
		case l.Observer:
			observers++
		default:
			followers++ // ZooKeeper's forwarding followers count the non-voting ones too
			if l.NonVoting {
				nonVoting++
			}
		}
		id := strconv.FormatInt(l.ID, 10)
		gauge(dLagTxns, float64(l.LagTxns), id)
		gauge(dLagMs, ms(l.Lag), id)
	}
	gauge(dLearners, float64(len(st.Learners)))
	gauge(dSyncedF, followers)
	gauge(dSyncedNV, nonVoting)
	gauge(dSyncedO, observers)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// collectFiles exports the sizes of the log and snapshot directories.
func (c *gaugeCollector) collectFiles(gauge func(*prometheus.Desc, float64, ...string)) {
	cfg := c.e.cfg
	n, size := dirUsage(cfg, cfg.DataLogDir)
	gauge(dLogFiles, float64(n))
	gauge(dLogBytes, float64(size))
	n, size = dirUsage(cfg, cfg.DataDir+"/snapshots")
	gauge(dSnapFiles, float64(n))
	gauge(dSnapBytes, float64(size))
	gauge(dLastSnap, float64(c.m.lastSnapSize.Load()))
}

// dirUsage counts the entries of dir (a snapshot is a file or, for a
// checkpoint, a directory) and the bytes of every file under it (0, 0 if
// it cannot be listed).
func dirUsage(cfg Config, dir string) (entries int, bytes int64) {
	names, err := cfg.FS.List(dir)
	if err != nil {
		return 0, 0
	}
	for _, name := range names {
		path := cfg.FS.PathJoin(dir, name)
		fi, err := cfg.FS.Stat(path)
		if err != nil {
			continue
		}
		entries++
		if fi.IsDir() {
			_, n := dirUsage(cfg, path)
			bytes += n
			continue
		}
		bytes += fi.Size()
	}
	return entries, bytes
}

// collectQuotas exports ZooKeeper's quota metrics, by namespace (the first
// component of the quota's path).
func (c *gaugeCollector) collectQuotas(gauge, counter func(*prometheus.Desc, float64, ...string)) {
	qc := c.e.quotaCounters()
	for ns, n := range qc.Refused {
		counter(dQuotaRefused, float64(n), ns)
	}
	for ns, n := range qc.Exceeded {
		counter(dQuotaSoft, float64(n), ns)
	}
	infos, err := c.e.quotas()
	if err != nil {
		return
	}
	type sums struct{ countLimit, bytesLimit, count, bytes float64 }
	by := map[string]*sums{}
	for _, q := range infos {
		ns := namespace(q.Path)
		s := by[ns]
		if s == nil {
			s = &sums{}
			by[ns] = s
		}
		s.countLimit += float64(limitOf(q.Limits.CountHard, q.Limits.Count))
		s.bytesLimit += float64(limitOf(q.Limits.BytesHard, q.Limits.Bytes))
		s.count += float64(q.Usage.Count)
		s.bytes += float64(q.Usage.Bytes)
	}
	for ns, s := range by {
		gauge(dQCountLimit, s.countLimit, ns)
		gauge(dQBytesLimit, s.bytesLimit, ns)
		gauge(dQCountUsage, s.count, ns)
		gauge(dQBytesUsage, s.bytes, ns)
	}
}

// limitOf is ZooKeeper's: the hard limit if there is one, else the soft one
// (-1: none).
func limitOf(hard, soft int64) int64 {
	if hard > -1 {
		return hard
	}
	return soft
}

// namespace is the first component of path ("app" for /app/jobs).
func namespace(path string) string {
	ns, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return ns
}

// globalSessions counts the sessions the tree records (the ensemble's).
func (e *Ensemble) globalSessions() (int, error) {
	var n int
	err := e.readTree(func(t *znode.Tree) error {
		s, err := t.Sessions()
		n = len(s)
		return err
	})
	return n, err
}

// readTree runs fn on the tree under the apply lock's read side.
func (e *Ensemble) readTree(fn func(*znode.Tree) error) error {
	e.applyMu.RLock()
	defer e.applyMu.RUnlock()
	if e.closed.Load() {
		return zkerr.ErrClosed
	}
	return fn(e.tree)
}
