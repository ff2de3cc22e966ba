package wire

import (
	"fmt"
	"math"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/embedzk/zk/internal/engine"
)

// Version is the server's version as the four-letter words report it
// before ", built on": the ZooKeeper protocol version zk speaks, marked as
// zk's.
const Version = "3.8.0-zk"

// FullVersion is the version line's value in ZooKeeper 3.8's shape,
// "<version>, built on <yyyy-MM-dd HH:mm> UTC", for tools that parse it.
// zk's build time is the running executable's modification time, or the
// Unix epoch when it cannot be read.
func FullVersion() string {
	built := time.Unix(0, 0)
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			built = fi.ModTime()
		}
	}
	return Version + ", built on " + built.UTC().Format("2006-01-02 15:04") + " UTC"
}

// words are the four-letter words zk answers.
var words = map[string]func(s *Server) string{
	"ruok": func(*Server) string { return "imok" },
	"srvr": func(s *Server) string { return s.srvr(false) },
	"stat": func(s *Server) string { return s.srvr(true) },
	"mntr": (*Server).mntr,
	"conf": (*Server).conf,
	"cons": (*Server).cons,
	"envi": (*Server).envi,
	"isro": (*Server).isro,
	"wchs": (*Server).wchs,
	"wchc": func(s *Server) string { return s.wchDump(false) },
	"wchp": func(s *Server) string { return s.wchDump(true) },
	"crst": (*Server).crst,
	"srst": (*Server).srst,
	"dirs": (*Server).dirs,
	"dump": (*Server).dump,
	"hash": (*Server).hash,
	"gtmk": (*Server).traceMaskWord,
	"stmk": (*Server).traceMaskWord, // after the handshake set it (readTraceMask)
}

func isWord(w string) bool { _, ok := words[w]; return ok }

// whitelist turns Config.FourLetterWords into a set; srvr is always there,
// and isro with read-only mode (as ZooKeeper adds it: clients look for a
// read-write peer with it).
func whitelist(list []string, readOnlyMode bool) map[string]bool {
	m := map[string]bool{"srvr": true, "isro": readOnlyMode}
	for _, w := range list {
		if w == "*" {
			for k := range words {
				m[k] = true
			}
			continue
		}
		m[w] = true
	}
	return m
}

// serverless are the words ZooKeeper answers alike whether or not a
// server is behind its client port.
var serverless = map[string]bool{"ruok": true, "envi": true, "gtmk": true, "stmk": true}

// fourLetter answers a four-letter word on c, then the connection ends.
func (s *Server) fourLetter(c *conn, word string) {
	var text string
	switch {
	case s.words[word] && !serverless[word] && s.e.RefusesClients():
		text = withoutServer(word)
	case s.words[word]:
		text = words[word](s)
	default:
		text = word + " is not executed because it is not in the whitelist.\n"
	}
	c.queueRaw(func(b []byte) []byte { return append(b, text...) })
}

// withoutServer answers word as ZooKeeper's leader with leaderServes=no
// does: its client port has no server behind it, so a word that asks the
// server answers that none serves, as while it elects (isro "null", hash
// without a newline).
func withoutServer(word string) string {
	switch word {
	case "isro":
		return "null"
	case "hash":
		return notServingMsg
	}
	return notServingMsg + "\n"
}

// mode names the peer's mode as ZooKeeper's srvr does.
func mode(st engine.Status) string {
	switch st.Mode {
	case engine.ModeLeading:
		return "leader"
	case engine.ModeFollowing:
		return "follower"
	case engine.ModeObserving:
		return "observer"
	case engine.ModeStandalone:
		return "standalone"
	}
	return st.Mode.String()
}

// serving reports whether the peer answers requests; a peer that does not
// answers "This ZooKeeper instance is not currently serving requests".
func (s *Server) notServing() (string, bool) {
	if st := s.e.Status(); !st.Serving && st.Mode != engine.ModeReadOnly {
		return notServingMsg + "\n", true
	}
	return "", false
}

func (s *Server) srvr(clients bool) string {
	if msg, no := s.notServing(); no {
		return msg
	}
	st := s.e.Status()
	nodes, _ := s.e.NodeCount()
	var b strings.Builder
	fmt.Fprintf(&b, "Zookeeper version: %s\n", s.version)
	if st.Mode == engine.ModeReadOnly {
		b.WriteString("READ-ONLY mode; serving only read-only clients\n")
	}
	if clients {
		b.WriteString("Clients:\n")
		for _, line := range s.consLines(true) {
			b.WriteString(line)
		}
		b.WriteString("\n")
	}
	lo, mean, hi := s.lat.read()
	fmt.Fprintf(&b, "Latency min/avg/max: %s/%s/%s\n", lo, mean, hi)
	fmt.Fprintf(&b, "Received: %d\nSent: %d\n", s.stats.received.Load(), s.stats.sent.Load())
	fmt.Fprintf(&b, "Connections: %d\nOutstanding: %d\n", len(s.connList()), st.Requests)
	fmt.Fprintf(&b, "Zxid: 0x%x\nMode: %s\nNode count: %d\n", st.Applied, mode(st), nodes)
	if st.Mode == engine.ModeLeading {
		last, min, max := s.e.ProposalSizes()
		fmt.Fprintf(&b, "Proposal sizes last/min/max: %d/%d/%d\n", last, min, max)
	}
	return b.String()
}

func (s *Server) mntr() string {
	if msg, no := s.notServing(); no {
		return msg
	}
	var b strings.Builder
	s.mntrLines(func(key, value string) { fmt.Fprintf(&b, "%s\t%s\n", key, value) })
	return b.String()
}

// mntrLines gives emit mntr's keys and values in order.
func (s *Server) mntrLines(emit func(key, value string)) {
	st := s.e.Status()
	nodes, _ := s.e.NodeCount()
	lines := [][2]string{
		{"zk_version", s.version},
		{"zk_server_state", mode(st)},
		{"zk_znode_count", fmt.Sprint(nodes)},
		{"zk_watch_count", fmt.Sprint(s.e.WatchTables().Total())},
		{"zk_num_alive_connections", fmt.Sprint(len(s.connList()))},
		{"zk_outstanding_requests", fmt.Sprint(st.Requests)},
		{"zk_packets_received", fmt.Sprint(s.stats.received.Load())},
		{"zk_packets_sent", fmt.Sprint(s.stats.sent.Load())},
	}
	lo, mean, hi := s.lat.read()
	lines = append(lines, [][2]string{
		{"zk_avg_latency", mean}, {"zk_max_latency", hi}, {"zk_min_latency", lo},
		{"zk_uptime", fmt.Sprint(time.Since(s.started).Milliseconds())},
	}...)
	global, _ := s.e.GlobalSessions()
	lastResp, minResp, maxResp := s.respSizes.Read()
	lines = append(lines, [][2]string{
		{"zk_ephemerals_count", fmt.Sprint(st.Ephemerals)},
		{"zk_approximate_data_size", fmt.Sprint(st.DataSize)},
		{"zk_global_sessions", fmt.Sprint(global)},
		{"zk_local_sessions", fmt.Sprint(s.e.LocalSessions())},
		{"zk_connection_drop_probability", "0.0"},
		{"zk_last_client_response_size", fmt.Sprint(lastResp)},
		{"zk_max_client_response_size", fmt.Sprint(maxResp)},
		{"zk_min_client_response_size", fmt.Sprint(minResp)},
		// ZooKeeper counts handshakes in flight only when it limits them
		// (zookeeper.netty.server.outstandingHandshake.limit); zk does not.
		{"zk_outstanding_tls_handshake", "0"},
		{"zk_auth_failed_count", fmt.Sprint(s.stats.authFailed.Load())},
		{"zk_non_mtls_remote_conn_count", fmt.Sprint(s.stats.plainRemote.Load())},
		{"zk_non_mtls_local_conn_count", fmt.Sprint(s.stats.plainLocal.Load())},
	}...)
	if open, limit, ok := fileDescriptors(); ok {
		lines = append(lines, [][2]string{
			{"zk_open_file_descriptor_count", fmt.Sprint(open)}, {"zk_max_file_descriptor_count", fmt.Sprint(limit)},
		}...)
	}
	if st.Mode == engine.ModeLeading {
		lines = append(lines, [2]string{"zk_synced_followers", fmt.Sprint(max(0, len(st.Peers)-1))})
	}
	printed := map[string]bool{}
	for _, l := range lines {
		emit(l[0], l[1])
		printed[l[0]] = true
	}
	// Then the metrics (with Config.Registerer), as ZooKeeper's
	// Prometheus provider adds them: each sample, its value a Java double.
	_ = s.e.MetricValues(func(name string, v float64) {
		if key := "zk_" + name; !printed[key] {
			emit(key, javaDouble(v))
		}
	})
}

// javaDouble formats v as Java's Double.toString does (near enough for
// mntr's readers): 5.0, 0.25, NaN, and 4.294967298E9 from 10^7 up or
// below 10^-3.
func javaDouble(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case v == 0 || (a >= 1e-3 && a < 1e7):
		out := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(out, ".") {
			out += ".0"
		}
		return out
	}
	mant, exp, _ := strings.Cut(strconv.FormatFloat(v, 'e', -1, 64), "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// conf prints the configuration as ZooKeeper's dumpConf does, in its
// order, then zk's own keys (clientPortAddress, zk.clientIO), then for an
// ensemble the quorum's keys and its membership (the configuration in
// effect, as /zookeeper/config holds it). A port that is off is -1; zk
// leaves the listen backlog to the system (-1,
// as ZooKeeper's default); a standalone peer is server 0, as ZooKeeper's.
func (s *Server) conf() string {
	if msg, no := s.notServing(); no {
		return msg
	}
	c := s.cfg
	data, logs := s.e.DirSizes()
	id := c.ID
	if len(c.Servers) == 0 {
		id = 0
	}
	var b strings.Builder
	fmt.Fprintf(&b, "clientPort=%d\nsecureClientPort=%d\n", port(s.ln), port(s.sln))
	fmt.Fprintf(&b, "dataDir=%s\ndataDirSize=%d\ndataLogDir=%s\ndataLogSize=%d\n", c.DataDir, data, c.DataLogDir, logs)
	fmt.Fprintf(&b, "tickTime=%d\nmaxClientCnxns=%d\n", c.TickTime.Milliseconds(), c.MaxClientCnxns)
	fmt.Fprintf(&b, "minSessionTimeout=%d\nmaxSessionTimeout=%d\n", c.MinSessionTimeout.Milliseconds(), c.MaxSessionTimeout.Milliseconds())
	fmt.Fprintf(&b, "clientPortListenBacklog=-1\nserverId=%d\n", id)
	if c.ClientPortAddress != "" {
		fmt.Fprintf(&b, "clientPortAddress=%s\n", c.ClientPortAddress)
	}
	fmt.Fprintf(&b, "zk.clientIO=%s\n", s.clientIO())
	if len(c.Servers) > 0 {
		peerType := 0 // ZooKeeper's LearnerType: PARTICIPANT, OBSERVER
		var me engine.Server
		for _, srv := range c.Servers {
			if srv.ID == c.ID {
				me = srv
			}
		}
		if me.Observer {
			peerType = 1
		}
		fmt.Fprintf(&b, "initLimit=%d\nsyncLimit=%d\nelectionAlg=3\n", c.InitLimit, c.SyncLimit)
		fmt.Fprintf(&b, "electionPort=%d\nquorumPort=%d\npeerType=%d\n", me.ElectionPort, me.QuorumPort, peerType)
		fmt.Fprintf(&b, "membership: \n%s", s.ens.ClusterConfig().Text()) // no newline after version=, as ZooKeeper
	}
	return b.String()
}

// clientIO names the I/O layer the client port uses (Config.ClientIO).
func (s *Server) clientIO() string {
	if s.ring != nil {
		return engine.ClientIOUring
	}
	return engine.ClientIOGoroutines
}

// port is the listener's port, -1 for none (as ZooKeeper's conf prints a
// port that is not set).
func port(ln net.Listener) int {
	if ln == nil {
		return -1
	}
	addr := ln.Addr().String()
	var port int
	fmt.Sscanf(addr[strings.LastIndex(addr, ":")+1:], "%d", &port)
	return port
}

// consLines describes each connection as ZooKeeper's cons does (brief:
// as stat does).
func (s *Server) consLines(brief bool) []string {
	var out []string
	for _, c := range s.connList() {
		out = append(out, c.consLine(brief))
	}
	sort.Strings(out)
	return out
}

func (s *Server) cons() string { return strings.Join(s.consLines(false), "") + "\n" }

func (s *Server) envi() string {
	host, _ := os.Hostname()
	wd, _ := os.Getwd()
	lines := []string{
		"Environment:",
		"zookeeper.version=" + s.version,
		"host.name=" + host,
		"go.version=" + runtime.Version(),
		"os.name=" + runtime.GOOS,
		"os.arch=" + runtime.GOARCH,
		"user.dir=" + wd,
		fmt.Sprintf("os.procs=%d", runtime.NumCPU()),
	}
	return strings.Join(lines, "\n") + "\n"
}

// wchs summarizes the data watch table as ZooKeeper's does: its sessions,
// paths and (session, path) pairs (child watches are not in it).
func (s *Server) wchs() string {
	if msg, no := s.notServing(); no {
		return msg
	}
	t := s.e.WatchTables()
	return fmt.Sprintf("%d connections watching %d paths\nTotal watches:%d\n", t.DataSessions, t.DataPaths, t.DataPairs)
}

// wchDump lists the data watch table by session (wchc) or by path (wchp),
// as ZooKeeper's dumpWatches does.
func (s *Server) wchDump(byPath bool) string {
	if msg, no := s.notServing(); no {
		return msg
	}
	pairs := s.e.DataWatches()
	var b strings.Builder
	if byPath {
		sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].Path < pairs[j].Path })
		for i, p := range pairs {
			if i == 0 || pairs[i-1].Path != p.Path {
				fmt.Fprintf(&b, "%s\n", p.Path)
			}
			fmt.Fprintf(&b, "\t0x%x\n", uint64(p.Session))
		}
	} else {
		for i, p := range pairs {
			if i == 0 || pairs[i-1].Session != p.Session {
				fmt.Fprintf(&b, "0x%x\n", uint64(p.Session))
			}
			fmt.Fprintf(&b, "\t%s\n", p.Path)
		}
	}
	b.WriteString("\n")
	return b.String()
}

// crst resets every connection's statistics (cons).
func (s *Server) crst() string {
	if msg, no := s.notServing(); no {
		return msg
	}
	for _, c := range s.connList() {
		c.resetStats()
	}
	return "Connection stats reset.\n"
}

// srst resets the server's latency and packet counts (srvr, mntr), and a
// leader's proposal sizes (srvr). The
// metrics of Config.Registerer are Prometheus counters and summaries, which
// never go back; ZooKeeper resets its own metrics here too.
func (s *Server) srst() string {
	if msg, no := s.notServing(); no {
		return msg
	}
	s.lat.reset()
	s.respSizes.Reset()
	s.stats.received.Store(0)
	s.stats.sent.Store(0)
	s.e.ResetProposalSizes()
	return "Server stats reset.\n"
}

// dirs reports the bytes of the snapshots and of the transaction log, as
// ZooKeeper's datadir_size and logdir_size.
func (s *Server) dirs() string {
	if msg, no := s.notServing(); no {
		return msg
	}
	snaps, logs := s.e.DirSizes()
	return fmt.Sprintf("datadir_size: %d\nlogdir_size: %d\n", snaps, logs)
}

// isro answers as ZooKeeper's: "ro" in read-only mode, "rw" while serving,
// "null" otherwise (a client looking for a read-write peer skips it).
func (s *Server) isro() string {
	switch st := s.e.Status(); {
	case st.Mode == engine.ModeReadOnly:
		return "ro"
	case st.Serving:
		return "rw"
	}
	return "null"
}
