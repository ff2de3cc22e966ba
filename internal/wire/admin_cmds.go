package wire

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/embedzk/zk/internal/engine"
)

// The AdminServer's commands (admin.go), each with the fields of
// ZooKeeper 3.8's answer, from the same figures as the four-letter words.

// adminConf is ZooKeeper's ZooKeeperServerConf: the client port and the
// limits (conf's first lines).
func (s *Server) adminConf(_ map[string]string, out *jobj) {
	c := s.cfg
	id := c.ID
	if len(c.Servers) == 0 {
		id = 0
	}
	logDir := c.DataLogDir
	if logDir == "" {
		logDir = c.DataDir
	}
	out.put("client_port", port(s.ln))
	out.put("data_dir", c.DataDir)
	out.put("data_log_dir", logDir)
	out.put("tick_time", c.TickTime.Milliseconds())
	out.put("max_client_cnxns", c.MaxClientCnxns)
	out.put("min_session_timeout", c.MinSessionTimeout.Milliseconds())
	out.put("max_session_timeout", c.MaxSessionTimeout.Milliseconds())
	out.put("server_id", id)
	out.put("client_port_listen_backlog", -1)
}

// adminConns lists the connections of each port, as cons (brief: as
// stat).
func (s *Server) adminConns(out *jobj, brief bool) {
	plain, secure := []jobj{}, []jobj{}
	conns := s.connList()
	sort.Slice(conns, func(i, j int) bool { return conns[i].nc.RemoteAddr().String() < conns[j].nc.RemoteAddr().String() })
	for _, c := range conns {
		if c.key.secure {
			secure = append(secure, c.info(brief))
		} else {
			plain = append(plain, c.info(brief))
		}
	}
	out.put("connections", plain)
	out.put("secure_connections", secure)
}

// info describes c as ZooKeeper's getConnectionInfo does.
func (c *conn) info(brief bool) jobj {
	interest := 1
	if c.word.Load() {
		interest = 0
	}
	o := jobj{
		{"remote_socket_address", engine.JavaSocketAddr(c.nc.RemoteAddr())},
		{"interest_ops", interest},
		{"outstanding_requests", c.queued()},
		{"packets_received", c.received.Load()},
		{"packets_sent", c.sent.Load()},
	}
	if brief {
		return o
	}
	r := c.stats.record()
	avg := int64(0)
	if r.count > 0 {
		avg = r.sum / r.count
	}
	var lastOp any = r.lastOp
	if r.lastOp == "" {
		lastOp = nil
	}
	return append(o, jobj{
		{"session_id", c.sessionID.Load()},
		{"last_operation", lastOp},
		{"established", c.since.UnixMilli()},
		{"session_timeout", c.timeoutMs()},
		{"last_cxid", r.lastCxid},
		{"last_zxid", r.lastZxid},
		{"last_response_time", r.lastResp},
		{"last_latency", r.lastLat},
		{"min_latency", r.minimum()},
		{"avg_latency", avg},
		{"max_latency", r.max},
	}...)
}

// adminDump is dump's: the sessions by when they expire, and each
// session's ephemeral nodes (a follower's tracker expires nothing, so
// its map is empty, as in ZooKeeper).
func (s *Server) adminDump(_ map[string]string, out *jobj) {
	ctx, cancel := context.WithTimeout(s.ctx, dumpWait)
	defer cancel()
	d, err := s.e.SessionDump(ctx)
	if err != nil {
		out.put("error", notServingMsg)
		return
	}
	expiry := jobj{}
	for _, bk := range expiryMap(d) {
		expiry = append(expiry, jfield{strconv.FormatInt(bk.Expires.UnixMilli(), 10), bk.Sessions})
	}
	eph := jobj{}
	for _, e := range d.Ephemerals {
		eph = append(eph, jfield{strconv.FormatInt(e.ID, 10), e.Paths})
	}
	out.put("expiry_time_to_session_ids", expiry)
	out.put("session_id_to_ephemeral_paths", eph)
}

// expiryMap is the buckets dump shows: a leader's (a learner has none),
// with local sessions its local tracker's too, a global bucket taking the
// place of a local one due at the same time, as ZooKeeper's
// LeaderSessionTracker.getSessionExpiryMap merges them.
func expiryMap(d engine.SessionDump) []engine.ExpiryBucket {
	if !d.Tracking || !d.LocalTracking {
		return d.Buckets
	}
	at := map[int64]engine.ExpiryBucket{}
	for _, bk := range slices.Concat(d.Local, d.Buckets) {
		at[bk.Expires.UnixMilli()] = bk
	}
	return slices.SortedFunc(maps.Values(at), func(a, b engine.ExpiryBucket) int { return a.Expires.Compare(b.Expires) })
}

// adminEnv is envi's, one field a line.
func (s *Server) adminEnv(_ map[string]string, out *jobj) {
	for _, line := range strings.Split(s.envi(), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			out.put(k, v)
		}
	}
}

// adminHash is hash's: the digests, oldest first (zk's own function of the
// tree, not ZooKeeper's).
func (s *Server) adminHash(_ map[string]string, out *jobj) {
	digests := []jobj{}
	for _, d := range s.e.DigestLog() {
		digests = append(digests, jobj{{"zxid", d.Zxid}, {"digest", int64(d.Digest)}})
	}
	out.put("digests", digests)
}

// adminLastSnapshot names the newest snapshot on disk: its zxid in hex
// and when it was written, in seconds; "ffffffffffffffff" and -1 when
// there is none, as ZooKeeper answers before its first.
func (s *Server) adminLastSnapshot(_ map[string]string, out *jobj) {
	zxid, at, ok := s.e.LastSnapshot()
	if !ok {
		out.put("zxid", strconv.FormatUint(math.MaxUint64, 16))
		out.put("timestamp", -1)
		return
	}
	out.put("zxid", strconv.FormatInt(zxid, 16))
	if at.IsZero() {
		out.put("timestamp", -1) // a file system that keeps no time (an in-memory one)
		return
	}
	out.put("timestamp", at.Unix())
}

// me returns this peer's line of the configuration in effect.
func (s *Server) me() (engine.Server, bool) { return s.server(s.cfg.ID) }

// server returns server id of the configuration in effect.
func (s *Server) server(id int64) (engine.Server, bool) {
	for _, srv := range s.ens.ClusterConfig().Servers {
		if srv.ID == id {
			return srv, true
		}
	}
	return engine.Server{}, false
}

// adminLeader names the leader; a standalone peer has none.
func (s *Server) adminLeader(_ map[string]string, out *jobj) {
	if len(s.cfg.Servers) == 0 {
		out.put("error", "server is not initialized")
		return
	}
	st := s.e.Status()
	host := ""
	if l, ok := s.server(st.Leader); ok {
		host = l.Host
	}
	out.put("is_leader", st.Mode == engine.ModeLeading)
	out.put("leader_id", st.Leader)
	out.put("leader_ip", host)
}

// adminMonitor is mntr's, each value a number where it is one.
func (s *Server) adminMonitor(_ map[string]string, out *jobj) {
	if !s.adminServing() {
		out.put("error", notServingMsg)
		return
	}
	s.mntrLines(func(key, value string) {
		out.put(strings.TrimPrefix(key, "zk_"), typedValue(value))
	})
}

// typedValue is v as a JSON number when it is one, else as a string.
func typedValue(v string) any {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && strings.ContainsAny(v, ".E") {
		return f
	}
	return v
}

// adminObservers lists a leader's observers: its id and how far it has
// the leader's history (ZooKeeper's learner handler info has the
// connection's figures too, which zk's leader does not keep).
func (s *Server) adminObservers(_ map[string]string, out *jobj) {
	observers := []jobj{}
	st := s.ens.Status()
	if st.Mode == engine.ModeLeading {
		for _, l := range st.Learners {
			if l.Observer {
				observers = append(observers, jobj{{"sid", l.ID}, {"last_zxid", l.Zxid}})
			}
		}
	}
	out.put("synced_observers", len(observers))
	out.put("observers", observers)
}

// adminStats is srvr's (withConns: stat's, with the connections).
func (s *Server) adminStats(out *jobj, withConns bool) {
	st := s.e.Status()
	nodes, _ := s.e.NodeCount()
	data, logs := s.e.DirSizes()
	lo, mean, hi := s.lat.values()
	last, minResp, maxResp := s.respSizes.Read()
	resp := jobj{{"last_buffer_size", last}, {"min_buffer_size", minResp}, {"max_buffer_size", maxResp}}
	stats := jobj{
		{"packets_sent", s.stats.sent.Load()},
		{"packets_received", s.stats.received.Load()},
		{"fsync_threshold_exceed_count", s.metricValue("fsync_threshold_exceed_count")},
		{"client_response_stats", resp},
		{"data_dir_size", data},
		{"log_dir_size", logs},
		{"provider_null", false},
		{"server_state", mode(st)},
		{"last_processed_zxid", st.Applied},
		{"outstanding_requests", st.Requests},
		{"avg_latency", mean},
		{"max_latency", hi},
		{"min_latency", lo},
		{"num_alive_client_connections", len(s.connList())},
		{"uptime", time.Since(s.started).Milliseconds()},
		{"auth_failed_count", s.stats.authFailed.Load()},
		{"non_mtlsremote_conn_count", s.stats.plainRemote.Load()},
		{"non_mtlslocal_conn_count", s.stats.plainLocal.Load()},
	}
	out.put("version", s.version)
	out.put("read_only", st.Mode == engine.ModeReadOnly)
	out.put("server_stats", stats)
	out.put("client_response", resp)
	if st.Mode == engine.ModeLeading {
		last, lo, hi := s.e.ProposalSizes()
		out.put("proposal_stats", jobj{{"last_buffer_size", last}, {"min_buffer_size", lo}, {"max_buffer_size", hi}})
	}
	out.put("node_count", nodes)
	if withConns {
		s.adminConns(out, true)
	}
}

// metricValue returns the Config.Registerer metric name as a whole
// number, 0 without it.
func (s *Server) metricValue(name string) int64 {
	var v int64
	_ = s.e.MetricValues(func(n string, f float64) {
		if n == name {
			v = int64(f)
		}
	})
	return v
}

// adminSetTraceMask is stmk's, its mask the traceMask argument.
func (s *Server) adminSetTraceMask(args map[string]string, out *jobj) {
	arg, ok := args["traceMask"]
	if !ok {
		out.put("error", "setTraceMask requires long traceMask argument")
		return
	}
	mask, err := strconv.ParseInt(arg, 10, 64)
	if err != nil {
		out.put("error", "setTraceMask requires long traceMask argument, got "+arg)
		return
	}
	s.traceMask.Store(mask)
	out.put("tracemask", mask)
}

// adminVotingView lists the voting members of the configuration in
// effect by id (a standalone peer has none).
func (s *Server) adminVotingView(_ map[string]string, out *jobj) {
	view := jobj{}
	if len(s.cfg.Servers) > 0 {
		servers := s.ens.ClusterConfig().Servers
		sort.Slice(servers, func(i, j int) bool { return servers[i].ID < servers[j].ID })
		for _, srv := range servers {
			if srv.Observer {
				continue
			}
			client := clientAddrOf(srv.ClientAddr)
			if srv.ID == s.cfg.ID {
				client = javaAddr(s.ens.ClientAddr())
			}
			view = append(view, jfield{strconv.FormatInt(srv.ID, 10), jobj{
				{"server_addresses", []string{srv.QuorumAddr()}},
				{"election_addresses", []string{electionAddr(srv)}},
				{"client_address", client},
				{"learner_type", "participant"},
			}})
		}
	}
	out.put("current_config", view)
}

// clientAddrOf is a server line's client address ("[host:]port") as
// ZooKeeper prints it: host:port, 0.0.0.0 when the line names no host; ""
// for none.
func clientAddrOf(addr string) string {
	if addr == "" || strings.Contains(addr, ":") {
		return addr
	}
	return "0.0.0.0:" + addr
}

func electionAddr(srv engine.Server) string {
	return net.JoinHostPort(srv.Host, strconv.Itoa(srv.ElectionPort))
}

// javaAddr writes a listener's address as Java prints a wildcard one:
// 0.0.0.0:port.
func javaAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "" && !net.ParseIP(host).IsUnspecified() {
		return addr
	}
	return "0.0.0.0:" + port
}

// multiAddress is ZooKeeper's MultipleAddresses as its AdminServer
// serializes one: a server's quorum or election address (zk has one
// address per server).
func multiAddress(host string, port int) jobj {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	wildcard := fmt.Sprintf("0.0.0.0:%d", port)
	return jobj{
		{"empty", false},
		{"all_addresses", []string{addr}},
		{"all_reachable_addresses", []string{addr}},
		{"one", addr},
		{"reachable_address", addr},
		{"wildcard_addresses", []string{wildcard}},
		{"all_ports", []int64{int64(port)}},
		{"all_host_strings", []string{host}},
		{"all_reachable_addresses_or_all", []string{addr}},
		{"reachable_or_one", addr},
	}
}

// adminWatchSummary is wchs's.
func (s *Server) adminWatchSummary(_ map[string]string, out *jobj) {
	t := s.e.WatchTables()
	out.put("num_connections", t.DataSessions)
	out.put("num_paths", t.DataPaths)
	out.put("num_total_watches", t.DataPairs)
}

// adminWatches is wchc's (byPath: wchp's): the data watches by session
// or by path.
func (s *Server) adminWatches(out *jobj, byPath bool) {
	pairs := s.e.DataWatches()
	table := jobj{}
	if byPath {
		sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].Path < pairs[j].Path })
		for i, p := range pairs {
			if i == 0 || pairs[i-1].Path != p.Path {
				table = append(table, jfield{p.Path, []int64{}})
			}
			last := &table[len(table)-1]
			last.value = append(last.value.([]int64), p.Session)
		}
		out.put("path_to_session_ids", table)
		return
	}
	for i, p := range pairs {
		if i == 0 || pairs[i-1].Session != p.Session {
			table = append(table, jfield{strconv.FormatInt(p.Session, 10), []string{}})
		}
		last := &table[len(table)-1]
		last.value = append(last.value.([]string), p.Path)
	}
	out.put("session_id_to_watched_paths", table)
}

// adminZabState is where the peer is in ZAB: election, synchronization
// or broadcast (a standalone peer is in none).
func (s *Server) adminZabState(_ map[string]string, out *jobj) {
	me, ok := s.me()
	if len(s.cfg.Servers) == 0 || !ok {
		out.put("voting", false)
		out.put("zabstate", "")
		return
	}
	st := s.e.Status()
	if !st.Serving || st.Mode == engine.ModeReadOnly {
		// ZooKeeper's AdminServer has no server to ask before broadcast.
		out.put("voting", false)
		out.put("zabstate", "")
		return
	}
	applied := st.Applied
	out.put("myid", s.cfg.ID)
	out.put("is_leader", st.Mode == engine.ModeLeading)
	out.put("quorum_address", multiAddress(me.Host, me.QuorumPort))
	out.put("election_address", multiAddress(me.Host, me.ElectionPort))
	out.put("client_address", javaAddr(s.ens.ClientAddr()))
	out.put("voting", !me.Observer && st.RemovedBy == 0 && !st.Removed)
	out.put("last_zxid", fmt.Sprintf("0x%x", applied))
	out.put("zab_epoch", applied>>32)
	out.put("zab_counter", applied&0xffffffff)
	out.put("zabstate", "broadcast")
}
