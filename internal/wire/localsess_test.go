package wire_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	gozk "github.com/go-zookeeper/zk"
)

// TestLocalSessionsAsRealZK runs one scenario of local sessions
// (localSessionsEnabled=true) against three real ZooKeeper 3.8 servers
// and three zk peers, with localSessionsUpgradingEnabled on and off, and
// compares the answers step by step: a local session's writes, watch,
// ephemeral creates (alone, in a multi, a container), close, a move to
// another server and a reconnect to its own, mntr's zk_local_sessions.
func TestLocalSessionsAsRealZK(t *testing.T) {
	for _, upgrading := range []bool{true, false} {
		t.Run(fmt.Sprintf("upgrading=%v", upgrading), func(t *testing.T) {
			real, ours := localEnsembles(t, upgrading)
			want := localScenario(t, real)
			t.Logf("ZooKeeper's answers:\n%s", strings.Join(want, "\n"))
			got := localScenario(t, ours)
			for i := range max(len(want), len(got)) {
				w, g := at(want, i), at(got, i)
				if w != g {
					t.Errorf("step %d:\n ZooKeeper %s\n zk        %s", i+1, w, g)
				}
			}
			if upgrading != strings.Contains(strings.Join(got, "\n"), "ephemeral /ls/e: err=0") {
				t.Errorf("upgrading=%v, steps:\n%s", upgrading, strings.Join(got, "\n"))
			}
		})
	}
}

// localEnsembles starts three real ZooKeeper servers and three zk peers
// with local sessions (and upgrading if asked), and returns their client
// addresses, each system's leader last.
func localEnsembles(t *testing.T, upgrading bool) (real, ours []string) {
	extra := fmt.Sprintf("localSessionsEnabled=true\nlocalSessionsUpgradingEnabled=%v\n", upgrading)
	real = leaderLast(t, startRealZKsWith(t, 3, extra))
	keepAwake(t, real)
	peers := startClusterWith(t, 3, func(c *engine.Config) {
		c.TickTime, c.LocalSessions, c.LocalSessionsUpgrading = 500*time.Millisecond, true, upgrading
	})
	for _, e := range peers {
		ours = append(ours, e.ClientAddr())
	}
	ours = leaderLast(t, ours)
	keepAwake(t, ours)
	return real, ours
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}

// localScenario runs the scenario against the servers at addrs (the
// leader's last) and returns its transcript.
func localScenario(t *testing.T, addrs []string) []string {
	var out []string
	step := func(what, got string) { out = append(out, what+": "+got) }
	a, aid, apw, _ := lsConnect(t, addrs[0], 0, nil, 0)
	step("mntr local sessions", localCount(t, addrs[0]))
	step("create /ls", lsCall(a, jute.OpCreate, &jute.CreateRequest{Path: "/ls", Data: []byte("x"), ACL: openACL}))
	step("getData /ls watch", lsCall(a, jute.OpGetData, &jute.PathWatchRequest{Path: "/ls", Watch: true}))
	step("setData /ls", lsCall(a, jute.OpSetData, &jute.SetDataRequest{Path: "/ls", Data: []byte("y"), Version: -1})+
		lsCall(a, jute.OpSync, &jute.PathRequest{Path: "/"}))
	step("ephemeral /ls/e", lsCall(a, jute.OpCreate, &jute.CreateRequest{Path: "/ls/e", ACL: openACL, Flags: 1}))
	step("multi with an ephemeral", lsCall(a, jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{
		{Type: jute.OpCreate, Path: "/m", ACL: openACL}, {Type: jute.OpCreate, Path: "/m/e", ACL: openACL, Flags: 1}}}))
	step("container /c", lsCall(a, jute.OpCreateContainer, &jute.CreateRequest{Path: "/c", ACL: openACL, Flags: 4}))
	h, _, _ := a.call(jute.OpSync, &jute.PathRequest{Path: "/"})
	seen := h.Zxid

	b, _, _, _ := lsConnect(t, addrs[0], 0, nil, 0)
	step("close a local session", lsCall(b, jute.OpCloseSession, nil))
	c, cid, cpw, _ := lsConnect(t, addrs[0], 0, nil, 0)
	c.nc.Close()
	_, _, _, got := lsConnect(t, addrs[1], cid, cpw, 0)
	step("a local session moved to another server", got)
	a.nc.Close()
	a, _, _, got = lsConnect(t, addrs[1], aid, apw, seen)
	step("the first session moved to another server", got)
	d, did, dpw, _ := lsConnect(t, addrs[0], 0, nil, 0)
	step("create /d", lsCall(d, jute.OpCreate, &jute.CreateRequest{Path: "/d", ACL: openACL}))
	d.nc.Close()
	d, _, _, got = lsConnect(t, addrs[0], did, dpw, seen)
	step("a local session back on its server", got)
	step("exists /ls/e", lsCall(d, jute.OpExists, &jute.PathWatchRequest{Path: "/ls/e"}))
	step("exists /m", lsCall(d, jute.OpExists, &jute.PathWatchRequest{Path: "/m"}))
	e, _, _, _ := lsConnect(t, addrs[2], 0, nil, 0)
	step("ephemeral on the leader", lsCall(e, jute.OpCreate, &jute.CreateRequest{Path: "/le", ACL: openACL, Flags: 1}))
	step("mntr local sessions", localCount(t, addrs[0]))
	return out
}

// lsConnect opens a session on addr (id 0) or reattaches one, trying again
// while the server closes the connection unanswered (it is behind seen),
// and says how it went: "ok" or "expired".
func lsConnect(t *testing.T, addr string, id int64, pw []byte, seen int64) (*rawConn, int64, []byte, string) {
	t.Helper()
	if pw == nil {
		pw = make([]byte, 16)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := rawDial(t, addr)
		resp, err := r.tryConnect(jute.ConnectRequest{TimeOut: 10000, SessionID: id, Passwd: pw, LastZxidSeen: seen})
		switch {
		case err == nil && resp.TimeOut <= 0:
			return r, 0, nil, "expired"
		case err == nil:
			return r, resp.SessionID, resp.Passwd, "ok"
		case time.Now().After(deadline):
			t.Fatalf("%s refused session %#x for 20s: %v", addr, id, err)
		}
		r.nc.Close()
		time.Sleep(20 * time.Millisecond)
	}
}

// lsCall sends one request and renders its error, a multi's results and
// the events that came before the reply (no zxid: ZooKeeper's error txns
// take some that zk's refusals do not).
func lsCall(r *rawConn, op int32, req jute.Record) string {
	r.t.Helper()
	h, body, evs, err := r.tryCall(op, req)
	if err != nil {
		r.t.Fatalf("op %d: %v", op, err)
	}
	got := fmt.Sprintf("err=%d", h.Err)
	for _, ev := range evs {
		got += fmt.Sprintf(" event(%d %s)", ev.Type, ev.Path)
	}
	if op == jute.OpMulti && len(body) > 0 {
		var mr jute.MultiResponse
		must(r.t, jute.Unmarshal(body, &mr))
		for _, res := range mr.Results {
			got += fmt.Sprintf(" [%d %d %s]", res.Type, res.Err, res.Path)
		}
	}
	return got
}

// localCount returns mntr's zk_local_sessions of the server at addr.
func localCount(t *testing.T, addr string) string {
	for _, line := range strings.Split(fourLetter(t, addr, "mntr"), "\n") {
		if v, ok := strings.CutPrefix(line, "zk_local_sessions\t"); ok {
			return v
		}
	}
	return "absent"
}

// TestLocalSessionsGoZK: go-zookeeper on zk peers with local sessions. With
// upgrading, a session's ephemeral node lives until it closes, as any
// session's, and the local session counts no more in mntr; without, its
// ephemeral create fails with EPHEMERALONLOCALSESSION (-120, which
// go-zookeeper does not name) while its other requests and watches work,
// and its close leaves no local session behind.
func TestLocalSessionsGoZK(t *testing.T) {
	for _, upgrading := range []bool{true, false} {
		t.Run(fmt.Sprintf("upgrading=%v", upgrading), func(t *testing.T) {
			peers := startClusterWith(t, 3, func(c *engine.Config) {
				c.LocalSessions, c.LocalSessionsUpgrading = true, upgrading
			})
			var addr string
			for _, e := range peers {
				if e.Status().Mode == engine.ModeFollowing {
					addr = e.ClientAddr()
				}
			}
			a, _ := dial(t, addr)
			b, _ := dial(t, addr)
			if got := localCount(t, addr); got != "2" {
				t.Fatalf("mntr zk_local_sessions %s, want 2", got)
			}
			_, err := a.Create("/p", []byte("x"), 0, gozk.WorldACL(gozk.PermAll))
			must(t, err)
			_, _, ch, err := b.GetW("/p")
			must(t, err)
			_, err = a.Set("/p", []byte("y"), -1)
			must(t, err)
			if ev := <-ch; ev.Type != gozk.EventNodeDataChanged {
				t.Fatalf("b's watch: %+v", ev)
			}
			_, err = a.Create("/p/e", nil, gozk.FlagEphemeral, gozk.WorldACL(gozk.PermAll))
			if !upgrading {
				if err == nil || !strings.Contains(err.Error(), "-120") {
					t.Fatalf("ephemeral create of a local session: %v, want error -120", err)
				}
				a.Close()
				waitLocalCount(t, addr, "1")
				return
			}
			must(t, err)
			_, st, err := b.Get("/p/e")
			if err != nil || st.EphemeralOwner != a.SessionID() {
				t.Fatalf("/p/e: owner %#x, %v; want %#x", st.EphemeralOwner, err, a.SessionID())
			}
			if got := localCount(t, addr); got != "1" {
				t.Fatalf("mntr zk_local_sessions %s after an upgrade, want 1", got)
			}
			a.Close()
			if ok, _, err := b.Exists("/p/e"); ok || err != nil {
				t.Fatalf("/p/e after its session closed: %v, %v", ok, err)
			}
		})
	}
}

// waitLocalCount waits (10 s at most) for mntr's zk_local_sessions at addr
// to read want: a session's close is answered before its connection ends.
func waitLocalCount(t *testing.T, addr, want string) {
	deadline := time.Now().Add(10 * time.Second)
	for got := localCount(t, addr); got != want; got = localCount(t, addr) {
		if time.Now().After(deadline) {
			t.Fatalf("mntr zk_local_sessions %s, want %s", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
