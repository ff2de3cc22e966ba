package wire_test

import (
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
)

// auditRefusals sends, with a raw client (which checks nothing), writes
// that fail in every way a ZooKeeper server refuses them (NoAuth, NoNode,
// NodeExists, BadVersion, NotEmpty, invalid ACLs,
// NoChildrenForEphemerals, built-in nodes, invalid paths), alone and in
// multis, the creates whose flags and op name different modes, and the
// writes zk refuses before its session sees them that ZooKeeper runs and
// logs (a path over MaxPathLength, which ZooKeeper does not limit; a
// create with a TTL mode or a createContainer with a TTL flag;
// multis with a read op, an unknown mode or a TTL out of range), each of
// a node whose parent is missing, so that ZooKeeper fails it too, and
// writes whose body does not decode. It returns the session's id.
func auditRefusals(t *testing.T, addr string) int64 {
	r := rawDial(t, addr)
	id := r.connect(jute.ConnectRequest{}).SessionID
	locked := []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "ip", ID: "10.9.9.9"}}}
	long := "/no/" + strings.Repeat("a", engine.MaxPathLength)
	create := func(op int32, path string, flags int32, acl []jute.ACL) *jute.CreateRequest {
		return &jute.CreateRequest{Path: path, ACL: acl, Flags: flags, HasTTL: op == jute.OpCreateTTL, TTL: 60000}
	}
	mop := func(op int32, path string, flags int32) jute.MultiOp {
		return jute.MultiOp{Type: op, Path: path, ACL: openACL, Flags: flags, TTL: 60000, Version: -1}
	}
	for _, c := range []struct {
		op  int32
		req jute.Record
	}{
		{jute.OpCreate, create(jute.OpCreate, "/p", 0, openACL)},
		{jute.OpCreate, create(jute.OpCreate, "/p/e", 1, openACL)},
		{jute.OpCreate, create(jute.OpCreate, "/p/e/c", 0, openACL)}, // NoChildrenForEphemerals
		{jute.OpCreate, create(jute.OpCreate, "/lk", 0, locked)},
		{jute.OpCreate, create(jute.OpCreate, "/lk/x", 0, openACL)},                  // NoAuth
		{jute.OpSetData, &jute.SetDataRequest{Path: "/lk", Version: -1}},             // NoAuth
		{jute.OpSetACL, &jute.SetACLRequest{Path: "/lk", ACL: openACL, Version: -1}}, // NoAuth
		{jute.OpDelete, &jute.PathVersionRequest{Path: "/lk/none", Version: -1}},     // NoAuth on the parent
		{jute.OpDelete, &jute.PathVersionRequest{Path: "/p", Version: -1}},           // NotEmpty
		{jute.OpDelete, &jute.PathVersionRequest{Path: "/p/e", Version: 5}},          // BadVersion
		{jute.OpSetData, &jute.SetDataRequest{Path: "/nope", Version: -1}},           // NoNode
		{jute.OpCreate, create(jute.OpCreate, "/no/kid", 0, openACL)},                // NoNode
		{jute.OpCreate, create(jute.OpCreate, "/q", 0, []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "ip", ID: "999.1.1.1"}}})},
		{jute.OpCreate, create(jute.OpCreate, "/q", 0, nil)},                                                                              // empty ACL
		{jute.OpSetACL, &jute.SetACLRequest{Path: "/p", ACL: []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "nope", ID: "x"}}}, Version: -1}}, // invalid ACL
		{jute.OpDelete, &jute.PathVersionRequest{Path: "/zookeeper", Version: -1}},                                                        // built-in
		{jute.OpCreate, create(jute.OpCreate, "/a//b", 0, openACL)},                                                                       // invalid paths
		{jute.OpDelete, &jute.PathVersionRequest{Path: "/a/", Version: -1}},
		{jute.OpSetData, &jute.SetDataRequest{Path: "nope", Version: -1}},
		{jute.OpSetACL, &jute.SetACLRequest{Path: "/a/./b", ACL: openACL, Version: -1}},
		{jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{mop(jute.OpCreate, "/m1", 0), mop(jute.OpCreate, "/bad//p", 0)}}},
		{jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{mop(jute.OpCreate, "/m2", 0), mop(jute.OpDelete, "/p", 0)}}},
		{jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{mop(jute.OpSetData, "/lk", 0)}}},
		// The znode_type ZooKeeper takes from the flags, whatever the op.
		{jute.OpCreate, create(jute.OpCreate, "/cflag", 4, openACL)},                // a persistent node
		{jute.OpCreate2, create(jute.OpCreate2, "/cflag2", 4, openACL)},             // a persistent node
		{jute.OpCreateContainer, create(jute.OpCreateContainer, "/c0", 0, openACL)}, // a container
		{jute.OpCreateContainer, create(jute.OpCreateContainer, "/c1", 1, openACL)}, // a container
		{jute.OpCreateContainer, create(jute.OpCreateContainer, "/c4", 4, openACL)},
		{jute.OpCreateContainer, create(jute.OpCreateContainer, "/sc-", 2, openACL)},                    // a sequential container
		{jute.OpCreateContainer, create(jute.OpCreateContainer, "/ec-", 3, openACL)},                    // a sequential container
		{jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{mop(jute.OpCreateContainer, "/ms-", 2)}}}, // a sequential node
		// (ZooKeeper runs without zookeeper.extendedTypesEnabled here:
		// it fails every TTL mode, UNIMPLEMENTED, where zk serves them.)
		{jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{mop(jute.OpCreate, "/mc", 4), mop(jute.OpCreateContainer, "/mp", 0),
			mop(jute.OpCreateContainer, "/mc/e", 1)}}},
		// Over MaxPathLength: ZooKeeper finds no parent, or no node.
		{jute.OpCreate, create(jute.OpCreate, long, 0, openACL)},
		{jute.OpSetData, &jute.SetDataRequest{Path: long, Version: -1}},
		{jute.OpDelete, &jute.PathVersionRequest{Path: long, Version: -1}},
		{jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{mop(jute.OpCreate, "/m3", 0), mop(jute.OpDelete, long, 0)}}},
		// Modes the op does not take: a failed create in ZooKeeper's log.
		{jute.OpCreate, create(jute.OpCreate, "/no/ttl", 5, openACL)},
		{jute.OpCreate2, create(jute.OpCreate2, "/no/ttl2", 6, openACL)},
		{jute.OpCreateContainer, create(jute.OpCreateContainer, "/no/sc", 2, openACL)},
		{jute.OpCreateContainer, create(jute.OpCreateContainer, "/no/ttlc", 5, openACL)},
		// Multis ZooKeeper's prep fails: multiOperation failed.
		{jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{mop(jute.OpCreate, "/m4", 0), {Type: jute.OpGetData, Path: "/p"}}}},
		{jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{{Type: jute.OpGetChildren, Path: "/p"}}}},
		{jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{mop(jute.OpCreate, "/m5", 7)}}},
		{jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{mop(jute.OpCreate, "/m6", 5)}}},
		{jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{{Type: jute.OpCreateTTL, Path: "/m7", ACL: openACL, Flags: 5, TTL: 0}}}},
		// Bodies that do not decode: ZooKeeper logs an error txn, whose
		// audit reads the body again and fails, but a multi's (failed).
		{jute.OpCreate, rawBody{0, 0, 1, 0, '/'}},
		{jute.OpSetData, rawBody{0, 0, 1, 0, '/'}},
		{jute.OpDelete, rawBody{0, 0, 1, 0, '/'}},
		{jute.OpSetACL, rawBody{0, 0, 1, 0, '/'}},
		{jute.OpMulti, rawBody{0, 0, 0, 1, 0}},
	} {
		r.call(c.op, c.req)
	}
	r.call(jute.OpCloseSession, nil)
	return id
}

// TestAuditRefusalsAsRealZK runs auditRefusals on a real ZooKeeper 3.8
// with audit.enable=true and on zk: the events are the same, field for
// field.
func TestAuditRefusalsAsRealZK(t *testing.T) {
	addr, logPath := startAuditZK(t)
	id := auditRefusals(t, addr)
	b, err := os.ReadFile(logPath)
	must(t, err)
	real := realAuditLines(string(b), id, 0)

	sink := &auditSink{}
	cfg := peerConfig()
	cfg.AuditEnabled, cfg.AuditLogger = true, slog.New(sink)
	e := startPeer(t, cfg)
	id = auditRefusals(t, e.ClientAddr())
	ours := renameSessions(slices.DeleteFunc(sink.Take(), func(l string) bool { return strings.Contains(l, "operation=serverStart") }), id, 0)
	real = slices.DeleteFunc(real, func(l string) bool { return strings.Contains(l, "operation=serverStart") })
	if !slices.Equal(ours, real) {
		t.Errorf("zk's audit log\n%s\nZooKeeper's\n%s", strings.Join(ours, "\n"), strings.Join(real, "\n"))
	}
}
