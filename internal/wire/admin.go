package wire

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/embedzk/zk/internal/engine"
)

// ZooKeeper's AdminServer (3.5 and later): its commands over HTTP, each
// answered as a JSON object, at Config.AdminCommandURL + "/" + name (or
// one of the name's aliases, such as a four-letter word). As in ZooKeeper
// 3.8 every command's answer is 200 OK, to GET (and HEAD) only, with no
// authentication; the object's "command" is the command's primary name
// (the name asked for when it did not run) and "error" is null or says
// why it did not run (an unknown command, a peer that does not serve, a
// bad argument). The command URL alone lists the commands as HTML links.

// adminCommand is one command: its names (the primary first), whether it
// needs a serving peer (ZooKeeper's isServerRequired), and what it adds
// to the answer.
type adminCommand struct {
	names   []string
	serving bool
	run     func(s *Server, args map[string]string, out *jobj)
}

// adminCommands are the commands zk answers, in the order of ZooKeeper's
// list (by primary name). ZooKeeper's system_properties (the JVM's) has no
// counterpart here and is an unknown command.
var adminCommands = []adminCommand{
	{[]string{"configuration", "conf", "config"}, true, (*Server).adminConf},
	{[]string{"connection_stat_reset", "crst"}, true, func(s *Server, _ map[string]string, _ *jobj) { s.crst() }},
	{[]string{"connections", "cons"}, true, func(s *Server, _ map[string]string, out *jobj) { s.adminConns(out, false) }},
	{[]string{"dirs"}, true, func(s *Server, _ map[string]string, out *jobj) {
		data, logs := s.e.DirSizes()
		out.put("datadir_size", data)
		out.put("logdir_size", logs)
	}},
	{[]string{"dump"}, true, (*Server).adminDump},
	{[]string{"environment", "env", "envi"}, false, (*Server).adminEnv},
	{[]string{"get_trace_mask", "gtmk"}, false, func(s *Server, _ map[string]string, out *jobj) {
		out.put("tracemask", s.traceMask.Load())
	}},
	{[]string{"hash"}, true, (*Server).adminHash},
	{[]string{"initial_configuration", "icfg"}, true, func(s *Server, _ map[string]string, out *jobj) {
		var text any = s.cfg.InitialConfig
		if len(s.cfg.Servers) > 0 || s.cfg.InitialConfig == "" {
			text = nil // a ZooKeeper quorum peer never sets it
		}
		out.put("initial_configuration", text)
	}},
	{[]string{"is_read_only", "isro"}, true, func(s *Server, _ map[string]string, out *jobj) {
		out.put("read_only", s.e.Status().Mode == engine.ModeReadOnly)
	}},
	{[]string{"last_snapshot", "lsnp"}, true, (*Server).adminLastSnapshot},
	{[]string{"leader", "lead"}, true, (*Server).adminLeader},
	{[]string{"monitor", "mntr"}, false, (*Server).adminMonitor},
	{[]string{"observer_connection_stat_reset", "orst"}, true, func(*Server, map[string]string, *jobj) {}},
	{[]string{"observers", "obsr"}, true, (*Server).adminObservers},
	{[]string{"ruok"}, true, func(*Server, map[string]string, *jobj) {}},
	{[]string{"server_stats", "srvr"}, true, func(s *Server, _ map[string]string, out *jobj) { s.adminStats(out, false) }},
	{[]string{"set_trace_mask", "stmk"}, false, (*Server).adminSetTraceMask},
	{[]string{"stat_reset", "srst"}, true, func(s *Server, _ map[string]string, _ *jobj) { s.srst() }},
	{[]string{"stats", "stat"}, true, func(s *Server, _ map[string]string, out *jobj) { s.adminStats(out, true) }},
	{[]string{"voting_view"}, true, (*Server).adminVotingView},
	{[]string{"watch_summary", "wchs"}, true, (*Server).adminWatchSummary},
	{[]string{"watches", "wchc"}, true, func(s *Server, _ map[string]string, out *jobj) { s.adminWatches(out, false) }},
	{[]string{"watches_by_path", "wchp"}, true, func(s *Server, _ map[string]string, out *jobj) { s.adminWatches(out, true) }},
	{[]string{"zabstate"}, false, (*Server).adminZabState},
}

// findAdminCommand returns the command one of whose names is name.
func findAdminCommand(name string) *adminCommand {
	for i := range adminCommands {
		for _, n := range adminCommands[i].names {
			if n == name {
				return &adminCommands[i]
			}
		}
	}
	return nil
}

// adminIdle is how long an idle HTTP connection of the admin port stays
// open when Config.AdminIdleTimeout is unset (ZooKeeper's
// admin.idleTimeout default).
const adminIdle = 30 * time.Second

// adminMaxConns bounds the admin port's open connections; more wait in
// the listen backlog. (ZooKeeper's Jetty bounds the requests being served
// with its thread pool instead; an idle connection holds no thread
// there.)
const adminMaxConns = 32

// limitListener accepts at most n connections open at once.
type limitListener struct {
	net.Listener
	sem chan struct{}
}

func newLimitListener(ln net.Listener, n int) net.Listener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n)}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.sem <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: sync.OnceFunc(func() { <-l.sem })}, nil
}

// limitConn gives its slot back when it closes.
type limitConn struct {
	net.Conn
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// listenAdmin binds the admin port of cfg, or returns nil when it is off
// or cannot be bound: as a ZooKeeper quorum peer, the peer then runs
// without it and says so in its log.
func listenAdmin(cfg engine.Config) net.Listener {
	if cfg.AdminServerPort == 0 {
		return nil
	}
	ln, err := listen(cfg.AdminServerAddress, cfg.AdminServerPort)
	if err != nil {
		cfg.Logger.Warn("zk: admin server not started", "err", err)
		return nil
	}
	return ln
}

// serveAdmin serves the admin port until the server shuts down. Every
// read and write of a connection is bounded by the idle timeout (as
// Jetty's idle timeout bounds them), so a client that sends half a request
// or never reads its answer gives its slot back; each connection counts
// in the server's WaitGroup until it is closed, so Close returns only once
// no handler runs.
func (s *Server) serveAdmin() {
	idle := s.cfg.AdminIdleTimeout
	if idle <= 0 {
		idle = adminIdle
	}
	hs := &http.Server{Handler: s.AdminHandler(s.cfg.AdminCommandURL),
		ReadHeaderTimeout: idle, ReadTimeout: idle, WriteTimeout: idle, IdleTimeout: idle,
		MaxHeaderBytes: 64 << 10, ConnContext: withConn,
		ConnState: func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew: // on the Serve goroutine, which the WaitGroup counts
				s.wg.Add(1)
			case http.StateClosed, http.StateHijacked:
				s.wg.Done()
			}
		},
		ErrorLog: slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug)} // bad input's errors, handshakes' among them
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		<-s.ctx.Done()
		hs.Close()
	}()
	go func() {
		defer s.wg.Done()
		if err := hs.Serve(s.adminListener(newLimitListener(s.aln, adminMaxConns))); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Logger.Warn("zk: admin server stopped", "err", err)
		}
	}()
}

// AdminHandler answers ZooKeeper's AdminServer commands under prefix
// (default "/commands"): prefix/<command> as JSON, prefix itself with the
// list of commands. Paths are matched as they are (no patterns), so any
// prefix Config.Validate accepts works.
func (s *Server) AdminHandler(prefix string) http.Handler {
	if prefix == "" {
		prefix = engine.DefaultAdminCommandURL
	}
	prefix = strings.TrimSuffix(prefix, "/") // "/" serves the commands at the root
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if overTLS(r) {
			w.Header().Set("Strict-Transport-Security", hstsValue)
		}
		name, under := strings.CutPrefix(r.URL.Path, prefix+"/")
		switch {
		case !under && r.URL.Path != prefix:
			http.NotFound(w, r)
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "only GET is served", http.StatusMethodNotAllowed)
		case !under || name == "":
			s.adminIndex(w, prefix)
		default:
			args := map[string]string{}
			for k, v := range r.URL.Query() {
				args[k] = v[0]
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(appendJSON(nil, s.runAdmin(name, args), 0)) // as Jackson writes it: no newline after
		}
	})
}

// adminIndex lists the commands as links, as ZooKeeper's command URL does.
func (s *Server) adminIndex(w http.ResponseWriter, prefix string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	names := make([]string, 0, len(adminCommands))
	for _, c := range adminCommands {
		names = append(names, c.names[0])
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(`<a href="` + prefix + "/" + n + `">` + n + "</a>\n<br/>\n")
	}
	w.Write([]byte(b.String()))
}

// notServingMsg is ZooKeeper's error for a command that needs a serving
// peer.
const notServingMsg = "This ZooKeeper instance is not currently serving requests"

// runAdmin runs the command name with args and returns its answer: the
// command's fields, then "command" and "error" (which keeps its place when
// the command set it), as ZooKeeper's CommandResponse orders them.
func (s *Server) runAdmin(name string, args map[string]string) jobj {
	var out jobj
	var msg any // the error, nil when the command ran
	cmd := findAdminCommand(name)
	switch {
	case cmd == nil:
		msg = "Unknown command: " + name
	case cmd.serving && !s.adminServing():
		msg = notServingMsg
	default:
		cmd.run(s, args, &out)
		name = cmd.names[0] // a command that ran answers under its primary name
	}
	out = append(out, jfield{"command", name})
	if !out.has("error") {
		out = append(out, jfield{"error", msg})
	}
	return out
}

// adminServing reports whether the peer serves requests (read-only ones
// included), as ZooKeeper's zkServer.isRunning.
func (s *Server) adminServing() bool {
	_, no := s.notServing()
	return !no
}
