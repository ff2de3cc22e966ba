package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/zab/transport"
)

// TestRemoteReadOnlyFindsRWPeer: zkcli -r on two peers of a 3-peer
// ensemble (read-only mode on) that is split into three: the session is
// read-only on the first peer of its list; when the second regains its
// quorum (with the third; the first stays cut off and read-only), the
// client's isro probes find it read-write and the session moves there, as
// zkCli's: Disconnected, then SyncConnected on a new session, and writes
// go through.
func TestRemoteReadOnlyFindsRWPeer(t *testing.T) {
	nw := transport.NewNetwork(transport.NetworkOptions{Peers: []int64{1, 2, 3}})
	t.Cleanup(nw.Close)
	var servers []zk.Server
	for id := int64(1); id <= 3; id++ {
		servers = append(servers, testServer(id))
	}
	peers := map[int64]*zk.Ensemble{}
	for id := int64(1); id <= 3; id++ {
		e, err := zk.NewEnsemble(zk.Config{
			ID: id, Servers: servers, Transport: nw.Restart(id), DataDir: t.TempDir(),
			TickTime: 50 * time.Millisecond, ClientPort: -1, ClientPortAddress: "127.0.0.1", ReadOnlyMode: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		peers[id] = e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, e := range peers {
		if err := e.WaitServing(ctx); err != nil {
			t.Fatal(err)
		}
	}
	nw.Partition([]int64{1}, []int64{2}, []int64{3})
	for _, id := range []int64{1, 2} {
		waitMode(t, peers[id], zk.ModeReadOnly)
	}
	backend, err := remoteDialer{readOnly: true}.dial(peers[1].ClientAddr() + "," + peers[2].ClientAddr())
	if err != nil {
		t.Fatal(err)
	}
	sh, out := shellOn(t, backend)
	if p := sh.Prompt(); !strings.Contains(p, "(CONNECTEDREADONLY)") {
		t.Fatalf("prompt %q, want CONNECTEDREADONLY", p)
	}
	if got := run1(sh, out, "create /x d"); got != "KeeperErrorCode = Not a read-only call for /x\n" {
		t.Errorf("create on the read-only peer: %q, want zkCli's NOTREADONLY message", got)
	}
	ro := sh.conn.(*remoteConn).cl.SessionID()

	nw.Partition([]int64{1}, []int64{2, 3}) // 2 and 3 regain their quorum
	if err := peers[2].WaitServing(ctx); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	waitEvents(t, sh, out, "state:Disconnected", "state:SyncConnected")
	cl := sh.conn.(*remoteConn).cl
	if p := sh.Prompt(); !strings.Contains(p, "(CONNECTED)") || cl.Addr() != peers[2].ClientAddr() {
		t.Errorf("prompt %q on %s, want CONNECTED on %s", p, cl.Addr(), peers[2].ClientAddr())
	}
	if cl.SessionID() == ro {
		t.Errorf("session 0x%x kept, want a new one (no read-write server took it before)", ro)
	}
	if got := run1(sh, out, "create /x d"); got != "Created /x\n" {
		t.Errorf("create on the read-write peer: %q", got)
	}
	if st := peers[1].Status(); st.Mode != zk.ModeReadOnly {
		t.Errorf("peer 1 in mode %v, want still read-only (the move is the search's)", st.Mode)
	}
}

// waitMode waits (up to 20 s) for e to be in mode m.
func waitMode(t *testing.T, e *zk.Ensemble, m zk.Mode) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); e.Status().Mode != m; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("mode %v, want %v", e.Status().Mode, m)
		}
	}
}
