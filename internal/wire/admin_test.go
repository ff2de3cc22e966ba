package wire_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/engine"
)

// adminJars are ZooKeeper's jars and those its AdminServer needs (Jetty,
// the servlet API, Jackson), all installed with Debian's zookeeper.
var adminJars = append(slices.Clone(zkJars),
	"/usr/share/java/jetty9-server.jar", "/usr/share/java/jetty9-servlet.jar", "/usr/share/java/jetty9-util.jar",
	"/usr/share/java/jetty9-http.jar", "/usr/share/java/jetty9-io.jar", "/usr/share/java/jetty9-security.jar",
	"/usr/share/java/servlet-api.jar", "/usr/share/java/jackson-databind.jar", "/usr/share/java/jackson-core.jar",
	"/usr/share/java/jackson-annotations.jar")

// adminZooCfg is the zoo.cfg both servers of the comparison get, but for
// the directory and the ports.
const adminZooCfg = "tickTime=500\nclientPortAddress=127.0.0.1\nadmin.serverAddress=127.0.0.1\nadmin.commandURL=/commands\n"

// startRealZKAdmin starts a standalone ZooKeeper 3.8 with its AdminServer
// on; it returns the client address and the commands' URL.
func startRealZKAdmin(t *testing.T) (client, commands, zooCfg string) {
	t.Helper()
	for _, p := range append([]string{"/usr/bin/java"}, adminJars...) {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: the AdminServer comparison needs Debian's zookeeper and its dependencies (apt-get install -y zookeeper, as .ci/run does)", p)
		}
	}
	dir := t.TempDir()
	port, aport := freePort(t), freePort(t)
	cfg := fmt.Sprintf("%sdataDir=%s\nclientPort=%d\nadmin.serverPort=%d\n", adminZooCfg, dir, port, aport)
	runZooCfg(t, dir, cfg, adminJars)
	client = fmt.Sprintf("127.0.0.1:%d", port)
	waitZK(t, client)
	commands = fmt.Sprintf("http://127.0.0.1:%d/commands", aport)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := http.Get(commands); err == nil {
			return client, commands, cfg
		}
		if time.Now().After(deadline) {
			t.Fatalf("ZooKeeper's AdminServer at %s does not answer", commands)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startZKAdmin starts a zk peer from the zoo.cfg text zooCfg (on ports of
// its own); it returns the peer and the commands' URL.
func startZKAdmin(t *testing.T, zooCfg string) (*engine.Ensemble, string) {
	t.Helper()
	parsed, ignored, err := engine.ParseZooCfg(strings.NewReader(zooCfg), nil)
	must(t, err)
	if len(ignored) != 0 {
		t.Fatalf("zoo.cfg keys ignored: %v", ignored)
	}
	if parsed.AdminServerPort <= 0 {
		t.Fatalf("zoo.cfg's AdminServer is off: AdminServerPort %d", parsed.AdminServerPort)
	}
	cfg := peerConfig()
	cfg.AdminServerPort, cfg.AdminServerAddress, cfg.AdminCommandURL = -1, parsed.AdminServerAddress, parsed.AdminCommandURL
	cfg.MaxClientCnxns, cfg.InitialConfig = parsed.MaxClientCnxns, parsed.InitialConfig
	e := startPeer(t, cfg)
	if e.AdminAddr() == "" {
		t.Fatal("no AdminServer address")
	}
	return e, "http://" + e.AdminAddr() + parsed.AdminCommandURL
}

// httpGet returns url's answer and its body.
func httpGet(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	must(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp, body
}

// adminGet asks for url and returns the answer's JSON object.
func adminGet(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, body := httpGet(t, url)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %s, %s: %s", url, resp.Status, resp.Header.Get("Content-Type"), body)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, body)
	}
	return m
}

// adminIndex returns the command names the URL lists (as links under
// /commands/).
func adminIndex(t *testing.T, url string) []string {
	t.Helper()
	return adminIndexUnder(t, url, "/commands")
}

// adminIndexUnder returns the command names the URL lists as links under
// path.
func adminIndexUnder(t *testing.T, url, path string) []string {
	t.Helper()
	_, body := httpGet(t, url)
	var names []string
	for _, m := range regexp.MustCompile(`<a href="`+regexp.QuoteMeta(path)+`/([a-z_]+)">`).FindAllStringSubmatch(string(body), -1) {
		names = append(names, m[1])
	}
	sort.Strings(names)
	return names
}

// jsonShape describes v's structure: an object's keys with their shapes,
// an array's first element's, a scalar's kind.
func jsonShape(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = jsonShape(x)
		}
		return out
	case []any:
		if len(v) == 0 {
			return "[]"
		}
		return []any{jsonShape(v[0])}
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			return "double" // as Jackson writes a Java double: 0.0, never 0
		}
		return "integer"
	case string:
		return "string"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// adminAliases are the other names of ZooKeeper 3.8's commands
// (Commands.java).
var adminAliases = []string{"conf", "config", "crst", "cons", "env", "envi", "gtmk", "icfg", "isro", "lsnp", "lead",
	"mntr", "orst", "obsr", "srvr", "stmk", "srst", "stat", "sysp", "wchs", "wchc", "wchp"}

// adminOnlyZooKeeper are ZooKeeper's commands zk does not answer.
var adminOnlyZooKeeper = []string{"system_properties"}

// TestAdminServerLikeZooKeeper asks a real ZooKeeper 3.8's AdminServer and a
// zk peer's, both started from the same zoo.cfg lines and holding the same
// session, node, ephemeral and watch, every command ZooKeeper lists, and
// compares the answers: the same fields, nested the same way, with values
// of the same kinds, and equal values wherever the two servers' states
// agree.
func TestAdminServerLikeZooKeeper(t *testing.T) {
	realClient, realURL, zooCfg := startRealZKAdmin(t)
	e, zkURL := startZKAdmin(t, zooCfg) // the same zoo.cfg; the peer's ports are its own
	for _, addr := range []string{realClient, e.ClientAddr()} {
		c, _ := dial(t, addr)
		_, err := c.Create("/adm", []byte("x"), 0, gozk.WorldACL(gozk.PermAll))
		must(t, err)
		_, err = c.Create("/adm/e", nil, gozk.FlagEphemeral, gozk.WorldACL(gozk.PermAll))
		must(t, err)
		_, _, _, err = c.GetW("/adm")
		must(t, err)
	}

	want := adminIndex(t, realURL)
	got := adminIndex(t, zkURL)
	if exp := slices.DeleteFunc(slices.Clone(want), func(n string) bool { return slices.Contains(adminOnlyZooKeeper, n) }); !slices.Equal(got, exp) {
		t.Fatalf("commands listed: zk %v, ZooKeeper %v (less %v)", got, want, adminOnlyZooKeeper)
	}
	answers := map[string][2]map[string]any{}
	for _, name := range want {
		zkAns, realAns := adminGet(t, zkURL+"/"+name), adminGet(t, realURL+"/"+name)
		answers[name] = [2]map[string]any{zkAns, realAns}
		if slices.Contains(adminOnlyZooKeeper, name) {
			if zkAns["error"] != "Unknown command: "+name {
				t.Errorf("%s: zk answered %v, want an unknown command", name, zkAns)
			}
			continue
		}
		compareAdminShapes(t, name, zkAns, realAns)
	}
	compareAdminValues(t, answers)

	// Where the figures agree, the answers are the same bytes: Jackson's
	// layout.
	for _, cmd := range []string{"ruok", "is_read_only", "watch_summary", "voting_view", "leader", "zabstate", "observers", "get_trace_mask", "nosuch", "initial_configuration"} {
		_, zkBody := httpGet(t, zkURL+"/"+cmd)
		_, realBody := httpGet(t, realURL+"/"+cmd)
		if a, b := string(zkBody), string(realBody); a != b {
			t.Errorf("%s: zk answered\n%s\nZooKeeper\n%s", cmd, a, b)
		}
	}

	// Aliases answer under the primary name; unknown commands and a bad
	// argument the same way on both.
	paths := []string{"/nosuch", "/set_trace_mask", "/set_trace_mask?traceMask=x"}
	for _, alias := range adminAliases {
		if alias != "sysp" { // ZooKeeper's command zk lacks
			paths = append(paths, "/"+alias)
		}
	}
	for _, path := range paths {
		zkAns, realAns := adminGet(t, zkURL+path), adminGet(t, realURL+path)
		for _, key := range []string{"command", "error"} {
			if zkAns[key] != realAns[key] {
				t.Errorf("%s: %s %v, ZooKeeper's %v", path, key, zkAns[key], realAns[key])
			}
		}
	}
}

// compareAdminShapes compares one command's answers field by field; where
// the servers differ by nature (the JVM's environment and metrics, the
// digests' function) only the fields both have are compared.
func compareAdminShapes(t *testing.T, name string, zkAns, realAns map[string]any) {
	t.Helper()
	zkShape, realShape := jsonShape(zkAns).(map[string]any), jsonShape(realAns).(map[string]any)
	switch name {
	case "environment":
		for _, k := range []string{"zookeeper.version", "host.name", "os.name", "os.arch", "user.dir"} {
			if zkShape[k] != "string" || realShape[k] != "string" {
				t.Errorf("environment: %s is %v on zk, %v on ZooKeeper", k, zkShape[k], realShape[k])
			}
		}
		return
	case "monitor":
		for k, v := range zkShape { // ZooKeeper has more: its metrics
			if realShape[k] != v {
				t.Errorf("monitor: %s is %v on zk, %v on ZooKeeper", k, v, realShape[k])
			}
		}
		return
	case "hash": // ZooKeeper's digests serialize as empty objects
		zkShape["digests"], realShape["digests"] = nil, nil
	}
	// Objects keyed by session id, time or path: one entry stands for all.
	for _, field := range []string{"expiry_time_to_session_ids", "session_id_to_ephemeral_paths", "session_id_to_watched_paths", "path_to_session_ids", "current_config"} {
		for _, shape := range []map[string]any{zkShape, realShape} {
			if m, ok := shape[field].(map[string]any); ok && len(m) > 0 {
				var one any = "[]" // an entry with a value, if any has one (a tracker's bucket may be empty)
				for _, v := range m {
					if v != "[]" {
						one = v
					}
				}
				shape[field] = map[string]any{"*": one}
			}
		}
	}
	if !reflectEqual(zkShape, realShape) {
		zj, _ := json.MarshalIndent(zkShape, "", " ")
		rj, _ := json.MarshalIndent(realShape, "", " ")
		t.Errorf("%s: zk's answer has the shape\n%s\nZooKeeper's\n%s", name, zj, rj)
	}
}

func reflectEqual(a, b any) bool {
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	return bytes.Equal(aj, bj)
}

// compareAdminValues compares the values both servers must agree on.
func compareAdminValues(t *testing.T, answers map[string][2]map[string]any) {
	t.Helper()
	same := func(name string, path ...string) {
		t.Helper()
		var vals [2]any
		for i, ans := range answers[name] {
			var v any = ans
			for _, p := range path {
				v = v.(map[string]any)[p]
			}
			vals[i] = v
		}
		if !reflectEqual(vals[0], vals[1]) {
			t.Errorf("%s %v: zk %v, ZooKeeper %v", name, path, vals[0], vals[1])
		}
	}
	for _, k := range []string{"tick_time", "max_client_cnxns", "min_session_timeout", "max_session_timeout", "server_id", "client_port_listen_backlog"} {
		same("configuration", k)
	}
	for _, c := range []string{"ruok", "is_read_only", "watch_summary", "leader", "zabstate", "voting_view", "observers", "dirs"} {
		same(c, "command")
		same(c, "error")
	}
	same("is_read_only", "read_only")
	same("watch_summary", "num_connections")
	same("watch_summary", "num_paths")
	same("watch_summary", "num_total_watches")
	same("zabstate", "zabstate")
	same("voting_view", "current_config")
	same("observers", "synced_observers")
	same("server_stats", "node_count")
	same("server_stats", "server_stats", "server_state")
	same("server_stats", "read_only")
	same("stats", "server_stats", "num_alive_client_connections")
	for _, pair := range [][2]string{{"watches", "session_id_to_watched_paths"}, {"dump", "session_id_to_ephemeral_paths"}} {
		var vals [2][]any // the sessions' ids differ: compare their lists
		for i, ans := range answers[pair[0]] {
			for _, v := range ans[pair[1]].(map[string]any) {
				vals[i] = append(vals[i], v)
			}
		}
		if !reflectEqual(vals[0], vals[1]) {
			t.Errorf("%s: zk %v, ZooKeeper %v", pair[0], vals[0], vals[1])
		}
	}
	for i, ans := range answers["watches_by_path"] {
		if ids, _ := ans["path_to_session_ids"].(map[string]any)["/adm"].([]any); len(ids) != 1 {
			t.Errorf("watches_by_path on %s: %v, want /adm watched by one session", []string{"zk", "ZooKeeper"}[i], ans)
		}
	}
}

// TestAdminServerEnsemble asks a three-peer ensemble's AdminServers about
// its roles, then a follower cut off from the others, which answers only
// the commands that need no serving peer (ZooKeeper's isServerRequired).
func TestAdminServerEnsemble(t *testing.T) {
	peers, network := startClusterNet(t, 3, func(c *engine.Config) { c.AdminServerPort, c.AdminServerAddress = -1, "127.0.0.1" })
	var leader, follower *engine.Ensemble
	for _, e := range peers {
		switch e.Status().Mode {
		case engine.ModeLeading:
			leader = e
		case engine.ModeFollowing:
			follower = e
		}
	}
	url := func(e *engine.Ensemble, cmd string) string {
		return "http://" + e.AdminAddr() + engine.DefaultAdminCommandURL + "/" + cmd
	}
	for _, e := range []*engine.Ensemble{leader, follower} {
		st := e.Status()
		l := adminGet(t, url(e, "leader"))
		if l["is_leader"] != (e == leader) || l["leader_id"] != json.Number(fmt.Sprint(leader.Status().ID)) || l["error"] != nil {
			t.Errorf("peer %d: leader answers %v (leader %d)", st.ID, l, leader.Status().ID)
		}
		z := adminGet(t, url(e, "zabstate"))
		if z["zabstate"] != "broadcast" || z["voting"] != true || z["myid"] != json.Number(fmt.Sprint(st.ID)) {
			t.Errorf("peer %d: zabstate answers %v", st.ID, z)
		}
		if view := adminGet(t, url(e, "voting_view"))["current_config"].(map[string]any); len(view) != 3 {
			t.Errorf("peer %d: voting_view lists %v, want the 3 voters", st.ID, view)
		}
		if s := adminGet(t, url(e, "server_stats")); s["server_stats"].(map[string]any)["server_state"] != map[bool]string{true: "leader", false: "follower"}[e == leader] ||
			(s["proposal_stats"] != nil) != (e == leader) {
			t.Errorf("peer %d: server_stats answers %v", st.ID, s)
		}
	}

	network.Isolate(follower.Status().ID)
	deadline := time.Now().Add(20 * time.Second)
	for follower.Status().Serving {
		if time.Now().After(deadline) {
			t.Fatal("the cut-off follower still serves")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// monitor too: a ZooKeeper quorum peer answers it with an HTTP 500
	// then (its server is null), a standalone one with its figures.
	for _, cmd := range []string{"ruok", "stats", "leader", "dump", "monitor"} {
		if got := adminGet(t, url(follower, cmd)); got["error"] != "This ZooKeeper instance is not currently serving requests" {
			t.Errorf("not serving: %s answers %v", cmd, got)
		}
	}
	for _, cmd := range []string{"environment", "get_trace_mask", "zabstate"} {
		if got := adminGet(t, url(follower, cmd)); got["error"] != nil {
			t.Errorf("not serving: %s answers %v, want it answered", cmd, got)
		}
	}
	// ZooKeeper's AdminServer has no server to ask before broadcast.
	if z := adminGet(t, url(follower, "zabstate")); z["zabstate"] != "" || z["voting"] != false || z["myid"] != nil {
		t.Errorf("not serving: zabstate answers %v", z)
	}
}

// TestAdminServerPortTaken starts a peer whose admin port is taken: it
// serves its clients without the AdminServer, as a ZooKeeper quorum peer
// does, and stops cleanly.
func TestAdminServerPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	cfg := peerConfig()
	cfg.AdminServerPort, cfg.AdminServerAddress = ln.Addr().(*net.TCPAddr).Port, "127.0.0.1"
	e := startPeer(t, cfg)
	if e.AdminAddr() != "" {
		t.Fatalf("AdminAddr %q on a taken port", e.AdminAddr())
	}
	c, _ := dial(t, e.ClientAddr())
	if _, err := c.Create("/p", nil, 0, gozk.WorldACL(gozk.PermAll)); err != nil {
		t.Fatal(err)
	}
}

// TestAdminServerMethods: only GET and HEAD are served, an admin port
// alone (no client port) serves the commands, and Close stops it.
func TestAdminServerMethods(t *testing.T) {
	cfg := peerConfig()
	cfg.ClientPort, cfg.AdminServerPort, cfg.AdminServerAddress, cfg.AdminCommandURL = 0, -1, "127.0.0.1", "/zk/cmds"
	e := startPeer(t, cfg)
	base := "http://" + e.AdminAddr() + "/zk/cmds"
	if got := adminGet(t, base+"/ruok"); got["error"] != nil || got["command"] != "ruok" {
		t.Fatalf("ruok: %v", got)
	}
	resp, err := http.Post(base+"/ruok", "text/plain", strings.NewReader("x"))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s, want 405", resp.Status)
	}
	if names := adminIndexUnder(t, base, "/zk/cmds"); !slices.Contains(names, "monitor") {
		t.Errorf("the index links %v under /zk/cmds", names)
	}
	must(t, e.Close())
	if _, err := http.Get(base + "/ruok"); err == nil {
		t.Error("the AdminServer answers after Close")
	}
}

// startRealZKEnsembleAdmin starts n ZooKeeper 3.8 servers as an ensemble,
// each with its AdminServer, and returns their commands' URLs.
func startRealZKEnsembleAdmin(t *testing.T, n int) []string {
	t.Helper()
	servers := "initLimit=20\nsyncLimit=10\n"
	for i := 1; i <= n; i++ {
		servers += fmt.Sprintf("server.%d=127.0.0.1:%d:%d\n", i, freePort(t), freePort(t))
	}
	var clients, urls []string
	for i := 1; i <= n; i++ {
		dir := t.TempDir()
		port, aport := freePort(t), freePort(t)
		must(t, os.WriteFile(filepath.Join(dir, "myid"), []byte(fmt.Sprint(i)), 0o644))
		cfg := fmt.Sprintf("%sdataDir=%s\nclientPort=%d\nadmin.serverPort=%d\n%s", adminZooCfg, dir, port, aport, servers)
		runZooCfg(t, dir, cfg, adminJars)
		clients = append(clients, fmt.Sprintf("127.0.0.1:%d", port))
		urls = append(urls, fmt.Sprintf("http://127.0.0.1:%d/commands", aport))
	}
	for _, c := range clients {
		waitZK(t, c)
	}
	return urls
}

// TestAdminServerEnsembleLikeZooKeeper compares a three-server ZooKeeper
// 3.8 ensemble's AdminServers with a three-peer zk ensemble's, on a leader
// and a follower of each: the commands about roles and the quorum answer
// with the same fields, and agree on each server's role.
func TestAdminServerEnsembleLikeZooKeeper(t *testing.T) {
	realURLs := startRealZKEnsembleAdmin(t, 3)
	peers, _ := startClusterNet(t, 3, func(c *engine.Config) {
		c.AdminServerPort, c.AdminServerAddress = -1, "127.0.0.1"
		c.InitialConfig = "tickTime=500\n"  // a quorum peer answers null all the same
		c.Servers = slices.Clone(c.Servers) // named as ZooKeeper's are (the transport is in memory)
		for i := range c.Servers {
			c.Servers[i].Host = "127.0.0.1"
		}
	})
	var zkURLs []string
	for _, e := range peers {
		zkURLs = append(zkURLs, "http://"+e.AdminAddr()+engine.DefaultAdminCommandURL)
	}
	roles := func(urls []string) (leader, follower string, leaderID any) {
		for _, u := range urls {
			if l := adminGet(t, u+"/leader"); l["is_leader"] == true {
				leader, leaderID = u, l["leader_id"]
			} else {
				follower = u
			}
		}
		if leader == "" || follower == "" {
			t.Fatalf("no leader and follower among %v", urls)
		}
		return leader, follower, leaderID
	}
	zkLeader, zkFollower, zkLeaderID := roles(zkURLs)
	realLeader, realFollower, realLeaderID := roles(realURLs)
	for _, pair := range [][2]string{{zkLeader, realLeader}, {zkFollower, realFollower}} {
		for _, cmd := range []string{"leader", "zabstate", "voting_view", "observers", "server_stats", "stats", "monitor", "ruok", "is_read_only", "watch_summary", "initial_configuration"} {
			zkAns, realAns := adminGet(t, pair[0]+"/"+cmd), adminGet(t, pair[1]+"/"+cmd)
			compareAdminShapes(t, cmd, zkAns, realAns)
			if cmd == "initial_configuration" && (zkAns[cmd] != nil || realAns[cmd] != nil) { // a quorum peer's is never set
				t.Errorf("initial_configuration: zk %v, ZooKeeper %v", zkAns, realAns)
			}
			if cmd == "leader" && (zkAns["is_leader"] != realAns["is_leader"] || zkAns["leader_ip"] != realAns["leader_ip"]) {
				t.Errorf("leader: zk %v, ZooKeeper %v", zkAns, realAns)
			}
			if cmd == "zabstate" && (zkAns["zabstate"] != realAns["zabstate"] || zkAns["voting"] != realAns["voting"] || zkAns["is_leader"] != realAns["is_leader"]) {
				t.Errorf("zabstate: zk %v, ZooKeeper %v", zkAns, realAns)
			}
			if cmd == "server_stats" && zkAns["server_stats"].(map[string]any)["server_state"] != realAns["server_stats"].(map[string]any)["server_state"] {
				t.Errorf("server_stats: zk %v, ZooKeeper %v", zkAns["server_stats"], realAns["server_stats"])
			}
			if cmd == "voting_view" || cmd == "zabstate" {
				for _, k := range []string{"myid", "last_zxid", "zab_epoch", "zab_counter"} { // the ensembles' own
					delete(zkAns, k)
					delete(realAns, k)
				}
				if cmd == "voting_view" { // by entry, in order: the server asked has another id in each
					zkAns["current_config"], realAns["current_config"] = viewEntries(zkAns), viewEntries(realAns)
				}
				if a, b := maskPorts(zkAns), maskPorts(realAns); !reflectEqual(a, b) {
					t.Errorf("%s, ports masked: zk %v, ZooKeeper %v", cmd, a, b)
				}
			}
		}
		if l := adminGet(t, pair[0]+"/leader"); l["leader_id"] != zkLeaderID {
			t.Errorf("zk's follower names leader %v, the leader says %v", l["leader_id"], zkLeaderID)
		}
		if l := adminGet(t, pair[1]+"/leader"); l["leader_id"] != realLeaderID {
			t.Errorf("ZooKeeper's follower names leader %v, the leader says %v", l["leader_id"], realLeaderID)
		}
	}
}

var portRE = regexp.MustCompile(`:[0-9]+$`)

// maskPorts replaces the ports in v's addresses (and port lists) by P.
func maskPorts(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = maskPorts(x)
			if k == "all_ports" {
				out[k] = "P"
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = maskPorts(x)
		}
		return out
	case string:
		return portRE.ReplaceAllString(v, ":P")
	}
	return v
}

// TestAdminServerCommandURLs: any command URL Validate accepts serves,
// the root and ServeMux's pattern characters among them.
func TestAdminServerCommandURLs(t *testing.T) {
	for _, u := range []string{"/", "/a{b}", "/x/{$}", "/deep/er/"} {
		cfg := peerConfig()
		cfg.ClientPort, cfg.AdminServerPort, cfg.AdminServerAddress, cfg.AdminCommandURL = 0, -1, "127.0.0.1", u
		e := startPeer(t, cfg)
		base := "http://" + e.AdminAddr() + strings.TrimSuffix(u, "/")
		if got := adminGet(t, base+"/ruok"); got["command"] != "ruok" || got["error"] != nil {
			t.Errorf("%s: ruok answers %v", u, got)
		}
		if names := adminIndexUnder(t, base+"/", strings.TrimSuffix(u, "/")); !slices.Contains(names, "ruok") {
			t.Errorf("%s: the index lists %v", u, names)
		}
		if resp, _ := httpGet(t, "http://"+e.AdminAddr()+"/elsewhere/ruok"); u != "/" && resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: a path outside it answers %s", u, resp.Status)
		}
		must(t, e.Close())
	}
}

// viewEntries lists voting_view's entries, ports masked, sorted.
func viewEntries(ans map[string]any) []string {
	var out []string
	for _, v := range ans["current_config"].(map[string]any) {
		b, _ := json.Marshal(maskPorts(v))
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

// TestAdminServerLastSnapshot: last_snapshot answers as ZooKeeper before
// the first snapshot, then names the newest one and when it was written.
func TestAdminServerLastSnapshot(t *testing.T) {
	cfg := peerConfig()
	cfg.AdminServerPort, cfg.AdminServerAddress, cfg.SnapCount = -1, "127.0.0.1", 10
	e := startPeer(t, cfg)
	url := "http://" + e.AdminAddr() + "/commands/last_snapshot"
	if got := adminGet(t, url); got["zxid"] != "ffffffffffffffff" || got["timestamp"] != json.Number("-1") {
		t.Fatalf("before any snapshot: %v", got)
	}
	c, _ := dial(t, e.ClientAddr())
	for i := range 60 {
		if _, err := c.Create(fmt.Sprintf("/s%d", i), nil, 0, gozk.WorldACL(gozk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := adminGet(t, url)
		if got["zxid"] != "ffffffffffffffff" {
			zxid, err := strconv.ParseInt(got["zxid"].(string), 16, 64)
			ts, _ := got["timestamp"].(json.Number).Int64()
			if err != nil || zxid <= 0 || zxid > e.Status().Applied || time.Since(time.Unix(ts, 0)).Abs() > time.Hour {
				t.Fatalf("after a snapshot: %v (applied %#x)", got, e.Status().Applied)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no snapshot after 60 writes with SnapCount 10")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
