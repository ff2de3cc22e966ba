package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/zab/transport"
)

// reconfigPeers is a 3-peer ensemble on an in-memory network (room for
// peers 4 to 7), with reconfig enabled, a super user (super:pw) and client
// ports.
type reconfigPeers struct {
	t       *testing.T
	net     *transport.Network
	servers []zk.Server
	peers   map[int64]*zk.Ensemble
}

func testServer(id int64) zk.Server {
	return zk.Server{ID: id, Host: "inmem", QuorumPort: 2000 + int(id), ElectionPort: 3000 + int(id),
		ClientAddr: fmt.Sprintf("0.0.0.0:%d", 2180+id)}
}

func startReconfigPeers(t *testing.T) *reconfigPeers {
	c := &reconfigPeers{t: t, peers: map[int64]*zk.Ensemble{}}
	c.net = transport.NewNetwork(transport.NetworkOptions{Peers: []int64{1, 2, 3, 4, 5, 6, 7}})
	t.Cleanup(c.net.Close)
	for id := int64(1); id <= 3; id++ {
		c.servers = append(c.servers, testServer(id))
	}
	for id := int64(1); id <= 3; id++ {
		c.start(id)
	}
	for _, e := range c.peers {
		c.serving(e)
	}
	return c
}

func (c *reconfigPeers) start(id int64) *zk.Ensemble {
	e, err := zk.NewEnsemble(zk.Config{
		ID: id, Servers: slices.Clone(c.servers), Transport: c.net.Restart(id), DataDir: c.t.TempDir(),
		TickTime: 50 * time.Millisecond, ClientPort: -1, ClientPortAddress: "127.0.0.1",
		ReconfigEnabled: true, SuperDigest: zk.DigestAuth("super", "pw"),
	})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { e.Close() })
	c.peers[id] = e
	return e
}

func (c *reconfigPeers) serving(e *zk.Ensemble) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.WaitServing(ctx); err != nil {
		c.t.Fatal(err)
	}
}

// follower returns a peer that does not lead.
func (c *reconfigPeers) follower() int64 {
	for {
		for id, e := range c.peers {
			if st := e.Status(); st.Serving && st.Leader != 0 && st.Leader != id {
				return id
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// shellOn is a connected shell on backend whose output (both streams) is
// the returned buffer.
func shellOn(t *testing.T, backend Backend) (*Shell, *bytes.Buffer) {
	var out bytes.Buffer
	sh := NewShell(ShellConfig{Backend: backend, Out: &out, Err: &out, SessionTimeout: 4 * time.Second})
	t.Cleanup(func() { sh.Close() })
	if err := sh.Connect(); err != nil {
		t.Fatal(err)
	}
	sh.PrintEvents()
	out.Reset()
	return sh, &out
}

// run executes line and returns what it printed.
func run1(sh *Shell, out *bytes.Buffer, line string) string {
	out.Reset()
	sh.ExecuteLine(line)
	return out.String()
}

var versionLine = regexp.MustCompile(`version=([0-9a-f]+)\n`)

// TestShellReconfig drives zkCli's reconfig and config through the shell
// on a 3-peer ensemble, over -server and on an embedded peer: a fourth
// server is added, one removed, the list replaced; each refusal prints
// zkCli's message; a watch set by config -w fires.
func TestShellReconfig(t *testing.T) {
	c := startReconfigPeers(t)
	f := c.follower()
	backend, err := dialRemote(c.peers[f].ClientAddr())
	if err != nil {
		t.Fatal(err)
	}
	sh, out := shellOn(t, backend)
	if got := run1(sh, out, "reconfig -add server.4=inmem:2004:3004;2184"); got != "Insufficient permission : \n" {
		t.Fatalf("reconfig without auth: %q", got)
	}
	run1(sh, out, "addauth digest super:pw")
	// Before any reconfig: the static configuration, versioned by the
	// zxid the first leader wrote it at (ZooKeeper: its NEWLEADER zxid).
	static := "server.1=inmem:2001:3001:participant;0.0.0.0:2181\nserver.2=inmem:2002:3002:participant;0.0.0.0:2182\n" +
		"server.3=inmem:2003:3003:participant;0.0.0.0:2183\nversion="
	if got := run1(sh, out, "config -w"); !strings.HasPrefix(got, static) || versionLine.FindStringSubmatch(got) == nil {
		t.Fatalf("config before any reconfig: %q", got)
	}
	c.servers = append(c.servers, testServer(4))
	c.serving(c.start(4))
	got := run1(sh, out, "reconfig -add SERVER.4=INMEM:2004:3004;2184")
	m := versionLine.FindStringSubmatch(got + "\n")
	if m == nil {
		t.Fatalf("reconfig -add: %q", got)
	}
	v1 := m[1]
	want := "Committed new configuration:\n" +
		"server.1=inmem:2001:3001:participant;0.0.0.0:2181\nserver.2=inmem:2002:3002:participant;0.0.0.0:2182\n" +
		"server.3=inmem:2003:3003:participant;0.0.0.0:2183\nserver.4=inmem:2004:3004:participant;0.0.0.0:2184\n" +
		"version=" + v1 + "\n"
	if !strings.HasPrefix(got, want) {
		t.Fatalf("reconfig -add:\n%s\nwant:\n%s", got, want)
	}
	out.Reset()
	out.WriteString(got)
	waitEvents(t, sh, out, "WatchedEvent state:SyncConnected type:NodeDataChanged path:/zookeeper/config")
	if got := run1(sh, out, "config"); got != strings.TrimPrefix(want, "Committed new configuration:\n") {
		t.Fatalf("config: %q", got)
	}
	if got := run1(sh, out, "config -c"); got != v1+" 0.0.0.0:2181,0.0.0.0:2182,0.0.0.0:2183,0.0.0.0:2184\n" {
		t.Fatalf("config -c: %q", got)
	}
	for _, tc := range []struct{ line, want string }{
		{"reconfig -remove 4 -v 1", "version No is not valid : \n"},
		{"reconfig -add server.5=inmem:2005:3005", "Arguments are not valid : \n"},
		{"reconfig -members " + "server.1=inmem:2001:3001;2181,server.5=inmem:2005:3005;2185,server.6=inmem:2006:3006;2186",
			"No quorum of new config is connected and up-to-date with the leader of last commmitted config - " +
				"try invoking reconfiguration after new servers are connected and synced\n"},
	} {
		if got := run1(sh, out, tc.line); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.line, got, tc.want)
		}
	}

	// Remove a follower other than the shell's, with -v and -s.
	var gone int64
	for id := int64(1); id <= 3 && gone == 0; id++ {
		if st := c.peers[id].Status(); id != f && st.Leader != id {
			gone = id
		}
	}
	got = run1(sh, out, fmt.Sprintf("reconfig -s -v %s -remove %d", v1, gone))
	if !strings.HasPrefix(got, "Committed new configuration:\n") || strings.Contains(got, fmt.Sprintf("server.%d=", gone)) ||
		!strings.Contains(got, "\ncZxid = ") || !strings.Contains(got, "\ndataLength = ") {
		t.Fatalf("reconfig -remove %d -s:\n%s", gone, got)
	}

	// The embedded backend on the leader: the same commands, in process.
	l := c.peers[f].Status().Leader
	esh, eout := shellOn(t, &embedded{ens: c.peers[l], reconfig: true})
	if got := run1(esh, eout, "reconfig -remove 4"); got != "Insufficient permission : \n" {
		t.Fatalf("embedded reconfig without auth: %q", got)
	}
	run1(esh, eout, "addauth digest super:pw")
	a, b := min(l, f), max(l, f)
	members := fmt.Sprintf("server.%d=inmem:%d:%d;%d,server.%d=inmem:%d:%d;%d,server.4=inmem:2004:3004:observer;2184",
		a, 2000+a, 3000+a, 2180+a, b, 2000+b, 3000+b, 2180+b)
	got = run1(esh, eout, "reconfig -members "+members)
	want = fmt.Sprintf("Committed new configuration:\nserver.%d=inmem:%d:%d:participant;0.0.0.0:%d\n", a, 2000+a, 3000+a, 2180+a) +
		fmt.Sprintf("server.%d=inmem:%d:%d:participant;0.0.0.0:%d\n", b, 2000+b, 3000+b, 2180+b) +
		"server.4=inmem:2004:3004:observer;0.0.0.0:2184\nversion="
	if !strings.HasPrefix(got, want) {
		t.Fatalf("embedded reconfig -members:\n%s\nwant:\n%s...", got, want)
	}
	if got := run1(esh, eout, "reconfig -remove 4 -v 0"); got != "version No is not valid : \n" {
		t.Errorf("embedded reconfig -v 0: %q", got)
	}
	// The remote shell's config shows it too, once its peer caught up.
	run1(sh, out, "sync /zookeeper/config")
	if got := run1(sh, out, "config"); !strings.HasPrefix("Committed new configuration:\n"+got, want) {
		t.Errorf("config after -members: %q", got)
	}
}

// TestShellReconfigParse: ReconfigCommand.parse's refusals, with zkCli's
// messages, and RECONFIGDISABLED from the standalone embedded peer.
func TestShellReconfigParse(t *testing.T) {
	backend, err := openEmbedded(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { backend.Close() })
	sh, out := shellOn(t, backend)
	missing := filepath.Join(t.TempDir(), "none.cfg")
	bad := filepath.Join(t.TempDir(), "bad.cfg")
	if err := os.WriteFile(bad, []byte("server.1=nohost\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	usage := "reconfig " + commandUsages["reconfig"] + "\n"
	for _, tc := range []struct{ line, want string }{
		{"reconfig", usage},
		{"reconfig -s", usage},
		{"reconfig -v xyz -remove 1", "-v must be followed by a long (configuration version)\n"},
		{"reconfig -members server.1=a:1:2 -remove 1", "Can't use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)\n"},
		{"reconfig -members server.1=a:1:2 -file x", "Can't use -file and -members together (conflicting non-incremental modes)\n"},
		{"reconfig -file " + missing, "Error processing " + missing + missing + " (No such file or directory)\n"},
		{"reconfig -add", "org.apache.commons.cli.MissingArgumentException: Missing argument for option: add\n"},
		{"reconfig -add server.2=127.0.0.1:2888:3888;2181", "KeeperErrorCode = Reconfig is disabled\n"},
		{"config -c", " \n"},
	} {
		if got := run1(sh, out, tc.line); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.line, got, tc.want)
		}
	}
	if got := run1(sh, out, "reconfig -file "+bad); !strings.HasPrefix(got, "Error processing "+bad) {
		t.Errorf("reconfig -file with a bad file: %q", got)
	}
}
