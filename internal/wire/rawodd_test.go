package wire_test

import (
	"testing"

	"github.com/embedzk/zk/internal/jute"
)

// TestRawOddRequestsAsZooKeeper: requests no ZooKeeper client library
// sends, answered as ZooKeeper 3.8 answers them (the raw differential test
// draws them too): an addWatch mode or a watcher type it does not know is
// MARSHALLINGERROR (AddWatchMode.fromZooDef and WatcherType.fromInt throw
// in FinalRequestProcessor); a multi with a read op among its ops fails
// whole with MARSHALLINGERROR and applies nothing (MultiOperationRecord
// refuses to mix reads and writes; PrepRequestProcessor makes no txn of a
// read); a multi's createTTL op with a mode that is not a TTL one makes a
// node of that mode (Op.create with a TTL makes a plain Create then). The
// connection stays open through all of them.
func TestRawOddRequestsAsZooKeeper(t *testing.T) {
	_, r, _ := rawSession(t)
	createRaw(r, "/d", 0)
	for _, c := range []struct {
		name string
		op   int32
		req  jute.Record
	}{
		{"addWatch mode 2", jute.OpAddWatch, &jute.AddWatchRequest{Path: "/d", Mode: 2}},
		{"addWatch mode -1", jute.OpAddWatch, &jute.AddWatchRequest{Path: "/d", Mode: -1}},
		{"checkWatches type 0", jute.OpCheckWatches, &jute.WatchesRequest{Path: "/d", Type: 0}},
		{"removeWatches type 6", jute.OpRemoveWatches, &jute.WatchesRequest{Path: "/d", Type: 6}},
		{"multi of a getData", jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{{Type: jute.OpGetData, Path: "/d"}}}},
		{"multi of a getChildren", jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{{Type: jute.OpGetChildren, Path: "/d"}}}},
		{"multi of a create and a getData", jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{
			{Type: jute.OpCreate, Path: "/d/m", ACL: openACL}, {Type: jute.OpGetData, Path: "/d"}}}},
	} {
		h, body, _ := r.call(c.op, c.req)
		if h.Err != -5 || len(body) != 0 {
			t.Errorf("%s: error %d with a %d-byte body, want MARSHALLINGERROR alone", c.name, h.Err, len(body))
		}
	}
	if h, _, _ := r.call(jute.OpExists, &jute.PathWatchRequest{Path: "/d/m"}); h.Err != -101 {
		t.Fatalf("the refused multi created /d/m (exists: error %d)", h.Err)
	}
	var mr jute.MultiResponse
	r.ok(jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{
		{Type: jute.OpCreateTTL, Path: "/d/p", ACL: openACL, Flags: 0, TTL: 100},
		{Type: jute.OpCreateTTL, Path: "/d/e", ACL: openACL, Flags: 1, TTL: 100},
		{Type: jute.OpCreateTTL, Path: "/d/s", ACL: openACL, Flags: 2, TTL: 100},
		{Type: jute.OpCreateTTL, Path: "/d/t", ACL: openACL, Flags: 5, TTL: 100},
	}}, &mr)
	want := []jute.MultiResult{{Type: jute.OpCreate, Path: "/d/p"}, {Type: jute.OpCreate, Path: "/d/e"},
		{Type: jute.OpCreate, Path: "/d/s0000000002"}, {Type: jute.OpCreate2, Path: "/d/t"}}
	if len(mr.Results) != len(want) {
		t.Fatalf("multi of createTTL ops: %+v", mr.Results)
	}
	for i, w := range want {
		if got := mr.Results[i]; got.Type != w.Type || got.Path != w.Path {
			t.Errorf("multi's op %d: %+v, want type %d path %s", i, got, w.Type, w.Path)
		}
	}
	var eph jute.StringsResponse
	r.ok(jute.OpGetEphemerals, &jute.PathRequest{Path: "/d"}, &eph)
	if len(eph.Strings) != 1 || eph.Strings[0] != "/d/e" {
		t.Fatalf("ephemerals %q, want [/d/e]", eph.Strings)
	}
}
