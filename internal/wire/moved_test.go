package wire_test

import (
	"fmt"
	"testing"

	"github.com/embedzk/zk/internal/jute"
)

// TestMovedSessionOldConnections: a session re-attached on another peer
// while its old connection stays open, as ZooKeeper 3.8 treats it. On the
// leader every request of the old connection (a read, a ping) closes it
// unanswered, as the leader's PrepRequestProcessor checks the owner of
// every request; on a follower a read is answered, and a write closes it
// (the leader refuses it with SESSIONMOVED) and changes nothing. The
// session goes on on its new connection. (TestDifferentialRawEnsemble
// compares the same with three ZooKeeper servers.)
func TestMovedSessionOldConnections(t *testing.T) {
	peers := startCluster(t, 3)
	var leader string
	var followers []string
	for _, e := range peers {
		if modeOf(e.ClientAddr()) == "leader" {
			leader = e.ClientAddr()
		} else {
			followers = append(followers, e.ClientAddr())
		}
	}
	if leader == "" || len(followers) != 2 {
		t.Fatalf("modes: leader %q, followers %v", leader, followers)
	}
	open := func(addr string) (*rawConn, jute.ConnectResponse) {
		r := rawDial(t, addr)
		return r, r.connect(jute.ConnectRequest{TimeOut: 10000})
	}
	move := func(s jute.ConnectResponse, addr string) *rawConn {
		r := rawDial(t, addr)
		resp := r.connect(jute.ConnectRequest{TimeOut: 10000, SessionID: s.SessionID, Passwd: s.Passwd})
		if resp.SessionID != s.SessionID {
			t.Fatalf("the session did not re-attach on %s", addr)
		}
		return r
	}
	exists := &jute.PathWatchRequest{Path: "/"}
	setRoot := &jute.SetDataRequest{Path: "/", Data: []byte("moved"), Version: -1}

	// Away from the leader: a read, then a ping, on the old connection.
	for _, op := range []int32{jute.OpExists, jute.OpPing} {
		old, s := open(leader)
		r := move(s, followers[0])
		var req jute.Record = exists
		if op == jute.OpPing {
			req = nil
		}
		if got := probe(old, op, req); got != "closed" {
			t.Fatalf("op %d on the leader's old connection: %s, want closed", op, got)
		}
		r.ok(jute.OpExists, exists, nil)
	}

	// Away from a follower: a read is answered, a write closes.
	old, s := open(followers[0])
	r := move(s, followers[1])
	if got := probe(old, jute.OpExists, exists); got != "err=0" {
		t.Fatalf("a read on the follower's old connection: %s, want err=0", got)
	}
	if got := probe(old, jute.OpSetData, setRoot); got != "closed" {
		t.Fatalf("a write on the follower's old connection: %s, want closed", got)
	}
	var st jute.GetDataResponse
	r.ok(jute.OpSync, &jute.PathRequest{Path: "/"}, nil)
	r.ok(jute.OpGetData, exists, &st)
	if st.Stat.Version != 0 {
		t.Fatalf("the refused write changed /: %+v", st.Stat)
	}

	// Back on the leader, the session is the leader's again.
	back := move(s, leader)
	back.ok(jute.OpSetData, setRoot, nil)
}

// probe sends one request and reports "closed" if the connection ends
// before its reply, or the reply's error code.
func probe(r *rawConn, op int32, req jute.Record) string {
	h, _, _, err := r.tryCall(op, req)
	if err != nil {
		return "closed"
	}
	return fmt.Sprintf("err=%d", h.Err)
}
