package wire_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
)

// TestRawGetEphemeralsPrefix: getEphemerals' prefix is a string, as in
// ZooKeeper's FinalRequestProcessor, never refused: "/r/a" also lists
// /r/ab, "/r/a/" (no valid path) lists /r/a's descendants, a blank or "/"
// prefix lists them all, and one that starts with a space lists none.
func TestRawGetEphemeralsPrefix(t *testing.T) {
	_, r, _ := rawSession(t)
	createRaw(r, "/r", 0)
	createRaw(r, "/r/a", 0)
	createRaw(r, "/r/a/x", 1)
	createRaw(r, "/r/ab", 1)
	createRaw(r, "/r/b", 1)
	all := []string{"/r/a/x", "/r/ab", "/r/b"}
	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"", all}, {"/", all}, {"  ", all}, {" / ", all},
		{"/r", all}, {"/r/a", []string{"/r/a/x", "/r/ab"}}, {"/r/a/", []string{"/r/a/x"}},
		{"/r/", all}, {"r", nil}, {" /r", nil}, {"/r//", nil}, {"/none", nil},
	} {
		h, body, _ := r.call(jute.OpGetEphemerals, &jute.PathRequest{Path: c.prefix})
		if h.Err != 0 {
			t.Fatalf("getEphemerals %q: error %d", c.prefix, h.Err)
		}
		var got jute.StringsResponse
		must(t, jute.Unmarshal(body, &got))
		slices.Sort(got.Strings)
		if got.Strings == nil || !slices.Equal(got.Strings, c.want) {
			t.Errorf("getEphemerals %q: %q, want %q", c.prefix, got.Strings, c.want)
		}
	}
}

// TestRawCreateModeOp: the create ops take the modes ZooKeeper 3.8 lets
// through: create and create2 with the container flag make a persistent
// node, createContainer with the persistent or ephemeral flag a container;
// in a multi the flags decide (the container flag makes a container,
// answered with its Stat, and createContainer without it a plain create);
// createContainer with a sequential flag makes a sequential container; a
// TTL mode still needs createTTL, and flags that name no mode are refused.
func TestRawCreateModeOp(t *testing.T) {
	_, r, _ := rawSession(t)
	var c2 jute.Create2Response
	r.ok(jute.OpCreate2, &jute.CreateRequest{Path: "/p", ACL: openACL, Flags: 4}, &c2)
	if c2.Path != "/p" || c2.Stat.EphemeralOwner != 0 {
		t.Fatalf("create2 with the container flag: %+v", c2)
	}
	r.ok(jute.OpCreateContainer, &jute.CreateRequest{Path: "/c", ACL: openACL, Flags: 1}, &c2)
	r.ok(jute.OpCreateContainer, &jute.CreateRequest{Path: "/sc-", ACL: openACL, Flags: 2}, &c2)
	if c2.Path != "/sc-0000000002" { // the root had two children made before
		t.Fatalf("createContainer with the sequential flag made %q", c2.Path)
	}
	var mr jute.MultiResponse
	r.ok(jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{
		{Type: jute.OpCreate, Path: "/m", ACL: openACL, Flags: 4},
		{Type: jute.OpCreateContainer, Path: "/mc", ACL: openACL, Flags: 0},
	}}, &mr)
	if len(mr.Results) != 2 || mr.Results[0].Type != jute.OpCreate2 || mr.Results[1].Type != jute.OpCreate {
		t.Fatalf("multi: %+v", mr.Results)
	}
	// createContainer with the ephemeral flag made no ephemeral node.
	var eph jute.StringsResponse
	r.ok(jute.OpGetEphemerals, &jute.PathRequest{Path: "/"}, &eph)
	if len(eph.Strings) != 0 {
		t.Fatalf("ephemerals %q", eph.Strings)
	}
	for _, c := range []struct {
		op    int32
		flags int32
	}{{jute.OpCreate, 5}, {jute.OpCreate2, 6}, {jute.OpCreateContainer, 6}, {jute.OpCreateContainer, 5}, {jute.OpCreate2, 7}} {
		if h, _, _ := r.call(c.op, &jute.CreateRequest{Path: "/x", ACL: openACL, Flags: c.flags}); h.Err != -8 {
			t.Errorf("op %d flags %d: error %d, want BADARGUMENTS", c.op, c.flags, h.Err)
		}
	}
}

// TestRawMultiReadWatch: a multiRead op's watch flag leaves no watch, as
// in ZooKeeper 3.8, whose MultiOperationRecord keeps only the path of a
// getData or getChildren op (Op.getData(path)) and whose
// FinalRequestProcessor reads it through the op's toRequestRecord, which
// asks for no watch. A plain getData's watch in the same session fires.
func TestRawMultiReadWatch(t *testing.T) {
	_, r, _ := rawSession(t)
	for _, p := range []string{"/d", "/c", "/plain"} {
		createRaw(r, p, 0)
	}
	var mr jute.MultiResponse
	r.ok(jute.OpMultiRead, &jute.MultiRequest{Ops: []jute.MultiOp{
		{Type: jute.OpGetData, Path: "/d", Watch: true},
		{Type: jute.OpGetChildren, Path: "/c", Watch: true},
		{Type: jute.OpGetData, Path: "/missing", Watch: true},
	}}, &mr)
	if len(mr.Results) != 3 || mr.Results[0].Type != jute.OpGetData || mr.Results[1].Type != jute.OpGetChildren ||
		mr.Results[2].Type != jute.OpError || mr.Results[2].Err != -101 {
		t.Fatalf("multiRead %+v", mr.Results)
	}
	r.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/plain", Watch: true}, nil)
	var got []string
	for _, step := range []struct {
		op  int32
		req jute.Record
	}{
		{jute.OpSetData, &jute.SetDataRequest{Path: "/d", Data: []byte("x"), Version: -1}},
		{jute.OpCreate, &jute.CreateRequest{Path: "/c/k", ACL: openACL}},
		{jute.OpCreate, &jute.CreateRequest{Path: "/missing", ACL: openACL}},
		{jute.OpSetData, &jute.SetDataRequest{Path: "/plain", Data: []byte("x"), Version: -1}},
		{jute.OpPing, nil},
	} {
		h, _, evs := r.call(step.op, step.req)
		if h.Err != 0 {
			t.Fatalf("op %d: error %d", step.op, h.Err)
		}
		for _, ev := range evs {
			got = append(got, fmt.Sprintf("%d %s", ev.Type, ev.Path))
		}
	}
	// NodeDataChanged is 3: the plain getData's watch only.
	if want := []string{"3 /plain"}; !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

// TestRawReconnectAuthPerConnection: authentication belongs to the
// connection, as in ZooKeeper (ServerCnxn's authInfo): a session that
// reconnects has only its address until its client sends its credentials
// again, whether the peer still had the session attached (the reconnect
// came before the old connection's end was seen) or not. Without that a
// digest-protected node stayed readable from the new connection.
func TestRawReconnectAuthPerConnection(t *testing.T) {
	addr, r, resp := rawSession(t)
	r.ok(jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte("u:p")}, nil)
	acl := []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "digest", ID: engine.DigestAuth("u", "p")}}}
	r.ok(jute.OpCreate, &jute.CreateRequest{Path: "/secret", ACL: acl}, nil)
	if got := whoAmI(r); !slices.Equal(got, []string{"ip 127.0.0.1", "digest u"}) {
		t.Fatalf("whoAmI before the reconnect: %q", got)
	}
	for _, oldOpen := range []bool{true, false} {
		if !oldOpen {
			r.nc.Close()
		}
		n := rawDial(t, addr)
		n.connect(jute.ConnectRequest{SessionID: resp.SessionID, Passwd: resp.Passwd})
		if got := whoAmI(n); !slices.Equal(got, []string{"ip 127.0.0.1"}) {
			t.Fatalf("old connection open %v: whoAmI after the reconnect: %q", oldOpen, got)
		}
		if h, _, _ := n.call(jute.OpGetData, &jute.PathWatchRequest{Path: "/secret"}); h.Err != -102 {
			t.Fatalf("old connection open %v: getData of a digest node: error %d, want NOAUTH", oldOpen, h.Err)
		}
		n.ok(jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte("u:p")}, nil)
		n.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/secret"}, nil)
		r = n
	}
}

// whoAmI returns the connection's identities as "scheme id".
func whoAmI(r *rawConn) []string {
	r.t.Helper()
	var who jute.WhoAmIResponse
	r.ok(jute.OpWhoAmI, nil, &who)
	var out []string
	for _, c := range who.ClientInfo {
		out = append(out, c.AuthScheme+" "+c.User)
	}
	return out
}
