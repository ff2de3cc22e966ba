package wire_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/wire"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/zab/transport"
)

// roPeers is a 3-peer ensemble with read-only mode on, client ports,
// manual clocks (the test ticks them) and an in-memory network.
type roPeers struct {
	t     *testing.T
	net   *transport.Network
	peers []*engine.Ensemble
}

func startROPeers(t *testing.T) *roPeers {
	ids := []int64{1, 2, 3}
	var servers []engine.Server
	for _, id := range ids {
		servers = append(servers, engine.Server{ID: id, Host: "inmem", QuorumPort: 2000 + int(id), ElectionPort: 3000 + int(id)})
	}
	w := &roPeers{t: t, net: transport.NewNetwork(transport.NetworkOptions{Peers: ids})}
	t.Cleanup(w.net.Close)
	for _, id := range ids {
		cfg := peerConfig()
		cfg.FS, cfg.ID, cfg.Servers, cfg.Transport = vfs.NewMem(), id, servers, w.net.Restart(id)
		cfg.Rand = &seeded{x: uint64(id) * 0x9e3779b97f4a7c15}
		cfg.ReadOnlyMode, cfg.MaxSessionTimeout = true, 1000*cfg.TickTime // sessions outlive the test's partitions
		e, err := wire.NewEnsemble(cfg)
		must(t, err)
		t.Cleanup(func() { e.Close() })
		w.peers = append(w.peers, e)
	}
	w.tickUntil("a serving ensemble", func() bool { return w.leader() != nil && w.allServing() })
	return w
}

// leaderSession opens a session on the leader and creates path with data
// "d", for a peer in read-only mode to serve later.
func (w *roPeers) leaderSession(ctx context.Context, path string) *engine.Session {
	ls, err := w.leader().NewSession(ctx)
	must(w.t, err)
	_, err = ls.Create(ctx, path, []byte("d"))
	must(w.t, err)
	return ls
}

func (w *roPeers) leader() *engine.Ensemble {
	for _, e := range w.peers {
		if st := e.Status(); st.Mode == engine.ModeLeading && st.Serving {
			return e
		}
	}
	return nil
}

func (w *roPeers) allServing() bool {
	for _, e := range w.peers {
		if !e.Status().Serving {
			return false
		}
	}
	return true
}

// tickUntil ticks every peer until cond holds.
func (w *roPeers) tickUntil(what string, cond func() bool) {
	w.t.Helper()
	ctx := testCtx(w.t)
	for i := 0; !cond(); i++ {
		if i == 3000 {
			w.t.Fatalf("3000 ticks without %s", what)
		}
		for _, e := range w.peers {
			must(w.t, e.Tick(ctx))
		}
		for _, e := range w.peers {
			must(w.t, e.Barrier(ctx))
		}
	}
}

// follower returns a peer that follows.
func (w *roPeers) follower() *engine.Ensemble {
	for _, e := range w.peers {
		if e.Status().Mode == engine.ModeFollowing {
			return e
		}
	}
	w.t.Fatal("no follower")
	return nil
}

// isolate cuts f off, once it has applied what the leader has, and ticks
// until it serves read-only.
func (w *roPeers) isolate(f *engine.Ensemble) {
	ld := w.leader()
	w.tickUntil("the follower synced", func() bool { return f.Status().Applied >= ld.Status().Applied })
	w.net.Isolate(f.Status().ID)
	w.tickUntil("read-only mode", func() bool { return f.Status().Mode == engine.ModeReadOnly })
}

// refused sends a connect request and checks the peer closes the
// connection without an answer.
func refused(t *testing.T, addr string, req jute.ConnectRequest) {
	t.Helper()
	r := rawDial(t, addr)
	req.HasReadOnly = true
	if req.TimeOut == 0 {
		req.TimeOut = 4000
	}
	if req.Passwd == nil {
		req.Passwd = make([]byte, 16)
	}
	r.write(jute.AppendFrame(nil, &req))
	if !r.closed() {
		t.Fatalf("connect %+v was not refused", req)
	}
}

// TestWireReadOnly drives read-only mode through ZooKeeper's protocol: the
// connect's readOnly flag, the response's, NOTREADONLY, isro and srvr, and
// the connections the mode's start and end close.
func TestWireReadOnly(t *testing.T) {
	w := startROPeers(t)
	ctx := testCtx(t)
	ls := w.leaderSession(ctx, "/a")
	f := w.follower()
	addr := f.ClientAddr()
	before := rawDial(t, addr) // a read-only client connected while the peer serves
	if resp := before.connect(jute.ConnectRequest{ReadOnly: true}); resp.ReadOnly || resp.SessionID == 0 {
		t.Fatalf("connect to a serving peer: %+v", resp)
	}
	var gd jute.GetDataResponse
	before.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/a"}, &gd)
	if out := fourLetter(t, addr, "isro"); out != "rw" {
		t.Fatalf("isro on a serving peer: %q", out)
	}

	w.isolate(f)
	if !before.closed() {
		t.Fatal("the connection made before read-only mode is still open")
	}
	if out := fourLetter(t, addr, "isro"); out != "ro" {
		t.Fatalf("isro in read-only mode: %q", out)
	}
	if out := fourLetter(t, addr, "srvr"); !strings.Contains(out, "Mode: read-only") {
		t.Fatalf("srvr in read-only mode:\n%s", out)
	}
	refused(t, addr, jute.ConnectRequest{})                                        // not read-only
	refused(t, addr, jute.ConnectRequest{ReadOnly: true, SessionID: ls.ID()})      // renews a session
	refused(t, addr, jute.ConnectRequest{ReadOnly: true, LastZxidSeen: 1<<40 | 5}) // saw newer state

	r := rawDial(t, addr)
	resp := r.connect(jute.ConnectRequest{ReadOnly: true, LastZxidSeen: gd.Stat.Mzxid})
	if !resp.ReadOnly || resp.SessionID == 0 || resp.TimeOut == 0 {
		t.Fatalf("read-only connect: %+v", resp)
	}
	r.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/a"}, &gd)
	if string(gd.Data) != "d" {
		t.Fatalf("read-only getData: %q", gd.Data)
	}
	r.ok(jute.OpPing, nil, nil)
	writes := readOnlyRefusedCalls(r)
	// ZooKeeper's ReadOnlyRequestProcessor refuses each with a bare header:
	// no multi response, whatever the ops.
	for name, call := range writes {
		if h, body, _ := call(); h.Err != int32(zkerr.CodeNotReadOnly) || len(body) != 0 {
			t.Errorf("%s in read-only mode: error %d with %d bytes, want NOTREADONLY (%d) alone", name, h.Err, len(body), zkerr.CodeNotReadOnly)
		}
	}

	w.net.Heal()
	w.tickUntil("the follower serving", func() bool { return f.Status().Serving })
	if !r.closed() {
		t.Fatal("the read-only connection is still open after the quorum came back")
	}
	if out := fourLetter(t, addr, "isro"); out != "rw" {
		t.Fatalf("isro after healing: %q", out)
	}
	// The session the read-only peer made went with its connection: a
	// client that renews it now finds it expired, as ZooKeeper's
	// read-write server answers a read-only server's session id (the Java
	// client asks for a new session instead: ClientCnxn sends id 0 until
	// it has seen a read-write server).
	renew := rawDial(t, addr)
	if got := renew.connect(jute.ConnectRequest{ReadOnly: true, SessionID: resp.SessionID, Passwd: resp.Passwd}); got.SessionID != 0 || got.TimeOut != 0 {
		t.Fatalf("renewing the read-only session after healing: %+v, want it expired", got)
	}
	again := rawDial(t, addr)
	if resp := again.connect(jute.ConnectRequest{ReadOnly: true}); resp.ReadOnly || resp.SessionID == 0 {
		t.Fatalf("connect after healing: %+v", resp)
	}
	again.ok(jute.OpCreate, &jute.CreateRequest{Path: "/b", ACL: openACL}, nil)
}

// readOnlyRefusedCalls are the requests a connection served read-only is
// refused (NOTREADONLY), each sent on r when called: writes, sync and
// reconfig, also with a bad path or a body that does not decode, and a
// createSession on the open session.
func readOnlyRefusedCalls(r *rawConn) map[string]func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
	return map[string]func() (jute.ReplyHeader, []byte, []jute.WatcherEvent){
		"create": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpCreate, &jute.CreateRequest{Path: "/b", ACL: openACL})
		},
		"setData": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpSetData, &jute.SetDataRequest{Path: "/a", Version: -1})
		},
		"delete": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpDelete, &jute.PathVersionRequest{Path: "/a", Version: -1})
		},
		"sync": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpSync, &jute.PathRequest{Path: "/a"})
		},
		"setACL": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpSetACL, &jute.SetACLRequest{Path: "/a", ACL: openACL, Version: -1})
		},
		"multi": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{{Type: jute.OpCheck, Path: "/a", Version: 0}}})
		},
		"empty multi": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpMulti, &jute.MultiRequest{})
		},
		"multi with a bad path": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{{Type: jute.OpDelete, Path: "a//b", Version: -1}}})
		},
		"create with a bad path": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpCreate, &jute.CreateRequest{Path: "a//b", ACL: openACL})
		},
		"create with bad flags": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpCreate, &jute.CreateRequest{Path: "/b", ACL: openACL, Flags: 99})
		},
		"sync with a bad path": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpSync, &jute.PathRequest{Path: "a//b"})
		},
		"create whose body does not decode": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpCreate, rawBody{0, 0, 1, 0, '/'})
		},
		"multi whose body does not decode": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpMulti, rawBody{0, 0, 0, 1, 0})
		},
		"sync whose body does not decode": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpSync, rawBody{0, 0, 1, 0, '/'})
		},
		"createSession on the open session": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpCreateSession, nil)
		},
		"check": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			return r.call(jute.OpCheck, &jute.PathVersionRequest{Path: "/a", Version: 0})
		},
		"reconfig": func() (jute.ReplyHeader, []byte, []jute.WatcherEvent) {
			joining := "server.9=127.0.0.1:1:2;3"
			return r.call(jute.OpReconfig, &jute.ReconfigRequest{JoiningServers: &joining, CurConfigID: -1})
		},
	}
}

// TestWireReadOnlyKazoo: kazoo with read_only=True connects to a peer in
// read-only mode (CONNECTED_RO), reads, gets NotReadOnlyCallError for a
// write; when the quorum is back it finds the peer read-write again
// (isro), reconnects and writes.
func TestWireReadOnlyKazoo(t *testing.T) {
	needTool(t, python, "-c", "import kazoo")
	w := startROPeers(t)
	ctx := testCtx(t)
	ls := w.leaderSession(ctx, "/a")
	f := w.follower()
	w.isolate(f)

	cmd := exec.Command(python, "-c", kazooReadOnlyScript, f.ClientAddr())
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	must(t, cmd.Start())
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stdout)
	expect := func(want string) {
		t.Helper()
		if !lines.Scan() || lines.Text() != want {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("kazoo: got %q, want %q\n%s", lines.Text(), want, stderr.String())
		}
	}
	expect("ro d")
	expect("write refused")
	w.net.Heal()
	w.tickUntil("the follower serving", func() bool { return f.Status().Serving })
	_, err = io.WriteString(stdin, "healed\n")
	must(t, err)
	expect("rw ok")
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("kazoo: %v\n%s", err, stderr.String())
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	must(t, ls.Sync(hctx, "/"))
	if data, _, err := ls.Get(hctx, "/kazoo"); err != nil || string(data) != "rw" {
		t.Fatalf("kazoo's write after healing: %q, %v", data, err)
	}
}

var kazooReadOnlyScript = fmt.Sprintf(`
import sys, threading
from kazoo.client import KazooClient, KazooState
from kazoo.protocol.states import KeeperState
from kazoo.exceptions import NotReadOnlyCallError

zk = KazooClient(hosts=sys.argv[1], read_only=True, timeout=%d)
states = []
rw = threading.Event()
def listen(state):
    if zk.client_state == KeeperState.CONNECTED:
        rw.set()
zk.add_listener(listen)
zk.start(timeout=20)
assert zk.client_state == KeeperState.CONNECTED_RO, zk.client_state
data, _ = zk.get("/a")
print("ro", data.decode(), flush=True)
try:
    zk.create("/kazoo", b"ro")
    print("write accepted", flush=True)
except NotReadOnlyCallError:
    print("write refused", flush=True)
sys.stdin.readline()
if not rw.wait(30):
    print("never read-write:", zk.client_state, flush=True)
    sys.exit(1)
zk.retry(zk.create, "/kazoo", b"rw")
print("rw ok", flush=True)
zk.stop()
`, 10)
