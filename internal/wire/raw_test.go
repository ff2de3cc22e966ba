package wire_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
)

var openACL = []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "world", ID: "anyone"}}}

func createRaw(r *rawConn, path string, flags int32) {
	r.t.Helper()
	r.ok(jute.OpCreate, &jute.CreateRequest{Path: path, Data: []byte("d"), ACL: openACL, Flags: flags}, nil)
}

// TestRawRequests drives the requests go-zookeeper does not send, as the
// Java client and kazoo send them: create2, getEphemerals,
// getAllChildrenNumber, multiRead, whoAmI, reconfig, check.
func TestRawRequests(t *testing.T) {
	e := startPeer(t, peerConfig())
	r := rawDial(t, e.ClientAddr())
	resp := r.connect(jute.ConnectRequest{})
	if resp.SessionID == 0 || resp.TimeOut == 0 || len(resp.Passwd) != 16 || !resp.HasReadOnly {
		t.Fatalf("connect response %+v", resp)
	}
	var c2 jute.Create2Response
	r.ok(jute.OpCreate2, &jute.CreateRequest{Path: "/r", Data: []byte("xy"), ACL: openACL}, &c2)
	if c2.Path != "/r" || c2.Stat.DataLength != 2 || c2.Stat.Czxid == 0 {
		t.Fatalf("create2 %+v", c2)
	}
	createRaw(r, "/r/e1", 1)
	createRaw(r, "/r/e2", 1)
	createRaw(r, "/r/p", 0)
	var eph jute.StringsResponse
	r.ok(jute.OpGetEphemerals, &jute.PathRequest{Path: "/r"}, &eph)
	if !slices.Equal(eph.Strings, []string{"/r/e1", "/r/e2"}) {
		t.Fatalf("getEphemerals %v", eph.Strings)
	}
	var n jute.IntResponse
	r.ok(jute.OpGetAllChildrenNumber, &jute.PathRequest{Path: "/r"}, &n)
	if n.N != 3 {
		t.Fatalf("getAllChildrenNumber %d", n.N)
	}
	var mr jute.MultiResponse
	r.ok(jute.OpMultiRead, &jute.MultiRequest{Ops: []jute.MultiOp{
		{Type: jute.OpGetData, Path: "/r"}, {Type: jute.OpGetChildren, Path: "/r"}, {Type: jute.OpGetData, Path: "/none"},
	}}, &mr)
	if len(mr.Results) != 3 || string(mr.Results[0].Data) != "xy" || len(mr.Results[1].Children) != 3 ||
		mr.Results[2].Type != jute.OpError || mr.Results[2].Err != int32(zkerr.CodeNoNode) {
		t.Fatalf("multiRead %+v", mr.Results)
	}
	r.ok(jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte("bob:pw")}, nil)
	var who jute.WhoAmIResponse
	r.ok(jute.OpWhoAmI, nil, &who)
	want := []jute.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "digest", User: "bob"}}
	if !slices.Equal(who.ClientInfo, want) {
		t.Fatalf("whoAmI %+v", who.ClientInfo)
	}
	if h, _, _ := r.call(jute.OpReconfig, &jute.ReconfigRequest{CurConfigID: -1}); h.Err != int32(zkerr.CodeReconfigDisabled) {
		t.Fatalf("reconfig: error %d", h.Err)
	}
	if h, _, _ := r.call(jute.OpCheck, &jute.PathVersionRequest{Path: "/r", Version: 3}); h.Err != int32(zkerr.CodeBadVersion) {
		t.Fatalf("check: error %d", h.Err)
	}
	r.ok(jute.OpPing, nil, nil)
}

// TestRawWatchTable: one event per session, path and kind however many
// times the watch was set; persistent and recursive watches; check and
// remove.
func TestRawWatchTable(t *testing.T) {
	_, r, _ := rawSession(t)
	createRaw(r, "/w", 0)
	for i := 0; i < 3; i++ { // the same data watch, three times
		r.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/w", Watch: true}, nil)
	}
	r.ok(jute.OpExists, &jute.PathWatchRequest{Path: "/w", Watch: true}, nil) // same table
	r.ok(jute.OpGetChildren, &jute.PathWatchRequest{Path: "/w", Watch: true}, nil)
	r.ok(jute.OpAddWatch, &jute.AddWatchRequest{Path: "/w", Mode: jute.AddWatchPersistentRecursive}, nil)
	r.ok(jute.OpCheckWatches, &jute.WatchesRequest{Path: "/w", Type: 1}, nil)
	// setData: one NodeDataChanged although data, exist and recursive
	// registrations all fire.
	_, _, evs := r.call(jute.OpSetData, &jute.SetDataRequest{Path: "/w", Data: []byte("2"), Version: -1})
	if len(evs) != 1 || evs[0].Type != 3 || evs[0].Path != "/w" {
		t.Fatalf("events before setData's reply: %+v", evs)
	}
	// The data watch fired; setting it again is a new registration.
	_, _, evs = r.call(jute.OpSetData, &jute.SetDataRequest{Path: "/w", Data: []byte("3"), Version: -1})
	if len(evs) != 1 || evs[0].Type != 3 { // the recursive watch only
		t.Fatalf("events before the second setData's reply: %+v", evs)
	}
	// A child: NodeChildrenChanged for the child watch, NodeCreated for the
	// recursive one.
	h, _, evs := r.call(jute.OpCreate, &jute.CreateRequest{Path: "/w/k", ACL: openACL})
	if h.Err != 0 || len(evs) != 2 {
		t.Fatalf("create /w/k: %d %+v", h.Err, evs)
	}
	if h, _, _ := r.call(jute.OpCheckWatches, &jute.WatchesRequest{Path: "/w", Type: 1}); h.Err != int32(zkerr.CodeNoWatcher) {
		t.Fatalf("checkWatches after the child watch fired: %d", h.Err)
	}
	r.ok(jute.OpRemoveWatches, &jute.WatchesRequest{Path: "/w", Type: 3}, nil)
	if h, _, _ := r.call(jute.OpRemoveWatches, &jute.WatchesRequest{Path: "/w", Type: 3}); h.Err != int32(zkerr.CodeNoWatcher) {
		t.Fatalf("second removeWatches: %d", h.Err)
	}
	_, _, evs = r.call(jute.OpSetData, &jute.SetDataRequest{Path: "/w/k", Data: []byte("x"), Version: -1})
	if len(evs) != 0 {
		t.Fatalf("events after removal: %+v", evs)
	}
}

// TestRawMultiEventsPerChange: as ZooKeeper's watch tables, a connection
// gets one event per change, path and type however many of its
// registrations fire, and each change of a multi (one zxid) sends its own:
// zkCli's deleteall deletes a subtree in one multi, and a persistent watch
// on its root hears every child go.
func TestRawMultiEventsPerChange(t *testing.T) {
	_, r, _ := rawSession(t)
	createRaw(r, "/p", 0)
	createRaw(r, "/p/a", 0)
	createRaw(r, "/p/b", 0)
	r.ok(jute.OpAddWatch, &jute.AddWatchRequest{Path: "/p", Mode: jute.AddWatchPersistent}, nil)
	r.ok(jute.OpGetChildren, &jute.PathWatchRequest{Path: "/p", Watch: true}, nil) // merged with the persistent one
	r.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/p/a", Watch: true}, nil)
	r.ok(jute.OpExists, &jute.PathWatchRequest{Path: "/p/a", Watch: true}, nil) // the same table: one event
	_, _, evs := r.call(jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{
		{Type: jute.OpSetData, Path: "/p/a", Data: []byte("1"), Version: -1},
		{Type: jute.OpDelete, Path: "/p/a", Version: -1},
		{Type: jute.OpDelete, Path: "/p/b", Version: -1},
		{Type: jute.OpDelete, Path: "/p", Version: -1},
	}})
	var got []string
	for _, ev := range evs {
		got = append(got, fmt.Sprintf("%d %s", ev.Type, ev.Path))
	}
	// NodeDataChanged /p/a (its one-shot watches, then gone); one
	// NodeChildrenChanged /p per deleted child; NodeDeleted /p.
	want := []string{"3 /p/a", "4 /p", "4 /p", "2 /p"}
	if !slices.Equal(got, want) {
		t.Fatalf("events of the multi: %v, want %v", got, want)
	}
}

// TestRawSetWatches: a reconnecting client's watches come back; a watch
// whose node changed after relativeZxid fires at once, before the reply.
func TestRawSetWatches(t *testing.T) {
	_, r, _ := rawSession(t)
	createRaw(r, "/s", 0)
	createRaw(r, "/s/a", 0)
	h, _, _ := r.call(jute.OpExists, &jute.PathWatchRequest{Path: "/s"})
	seen := h.Zxid
	r.ok(jute.OpSetData, &jute.SetDataRequest{Path: "/s/a", Data: []byte("changed"), Version: -1}, nil)
	createRaw(r, "/s/b", 0)
	_, _, evs := r.call(jute.OpSetWatches2, &jute.SetWatches{
		RelativeZxid: seen, V2: true,
		DataWatches: []string{"/s", "/s/a", "/gone"}, ExistWatches: []string{"/s/b", "/later"},
		ChildWatches: []string{"/s"}, PersistentRecursive: []string{"/s"},
	})
	type ev struct {
		typ  int32
		path string
	}
	var got []ev
	for _, x := range evs {
		got = append(got, ev{x.Type, x.Path})
	}
	want := []ev{{3, "/s/a"}, {2, "/gone"}, {1, "/s/b"}, {4, "/s"}}
	if !slices.EqualFunc(got, want, func(a, b ev) bool { return a == b }) {
		t.Fatalf("missed events %+v, want %+v", got, want)
	}
	// /s's data watch and /later's exist watch are registered.
	_, _, evs = r.call(jute.OpCreate, &jute.CreateRequest{Path: "/later", ACL: openACL})
	if len(evs) != 1 || evs[0].Type != 1 || evs[0].Path != "/later" {
		t.Fatalf("exist watch after setWatches: %+v", evs)
	}
}

// TestRawMultiBadOp: a multi with an op refused before it runs (a bad path)
// is answered as ZooKeeper answers it: error results, that op's code in its
// place, nothing applied.
func TestRawMultiBadOp(t *testing.T) {
	_, r, _ := rawSession(t)
	var mr jute.MultiResponse
	r.ok(jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{
		{Type: jute.OpCreate, Path: "/ok", ACL: openACL},
		{Type: jute.OpCreate, Path: "no-slash", ACL: openACL},
		{Type: jute.OpDelete, Path: "/x", Version: -1},
	}}, &mr)
	want := []int32{0, int32(zkerr.CodeBadArguments), int32(zkerr.CodeRuntimeInconsistency)}
	for i, res := range mr.Results {
		if res.Type != jute.OpError || res.Err != want[i] {
			t.Fatalf("results %+v, want errors %v", mr.Results, want)
		}
	}
	if h, _, _ := r.call(jute.OpExists, &jute.PathWatchRequest{Path: "/ok"}); h.Err != int32(zkerr.CodeNoNode) {
		t.Fatalf("a refused multi created /ok (exists: %d)", h.Err)
	}
}

// TestRawSuperAndIP: the super digest passes every ACL and whoAmI says so;
// the ip identity is the socket's address, whatever the auth packet says.
func TestRawSuperAndIP(t *testing.T) {
	cfg := peerConfig()
	cfg.SuperDigest = engine.DigestAuth("super", "boss")
	e := startPeer(t, cfg)
	owner := rawDial(t, e.ClientAddr())
	owner.connect(jute.ConnectRequest{})
	owner.ok(jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte("alice:pw")}, nil)
	owner.ok(jute.OpCreate, &jute.CreateRequest{Path: "/locked", ACL: []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "auth"}}}}, nil)
	r := rawDial(t, e.ClientAddr())
	r.connect(jute.ConnectRequest{})
	if h, _, _ := r.call(jute.OpGetData, &jute.PathWatchRequest{Path: "/locked"}); h.Err != int32(zkerr.CodeNoAuth) {
		t.Fatalf("getData without auth: %d", h.Err)
	}
	r.ok(jute.OpAuth, &jute.AuthPacket{Scheme: "ip", Auth: []byte("10.9.9.9")}, nil)
	r.ok(jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte("super:boss")}, nil)
	r.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/locked"}, nil)
	var who jute.WhoAmIResponse
	r.ok(jute.OpWhoAmI, nil, &who)
	want := []jute.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "digest", User: "super"}, {AuthScheme: "super"}}
	if !slices.Equal(who.ClientInfo, want) {
		t.Fatalf("whoAmI %+v", who.ClientInfo)
	}
	bad := rawDial(t, e.ClientAddr())
	bad.connect(jute.ConnectRequest{})
	if h, _, _ := bad.call(jute.OpAuth, &jute.AuthPacket{Scheme: "kerberos", Auth: []byte("x")}); h.Err != int32(zkerr.CodeAuthFailed) {
		t.Fatalf("unknown scheme: %d", h.Err)
	}
	if !bad.closed() {
		t.Fatal("a failed auth left the connection open")
	}
}
