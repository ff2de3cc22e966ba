package wire_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/jute"
)

// The raw differential test's odd steps: arguments and requests no client
// library sends, or sends rarely (diffraw_gen_test.go draws them).

// rawOddPaths are paths off the test's tree that a step now and then
// draws: ZooKeeper's own nodes, and one a client may make under them.
var rawOddPaths = []string{"/zookeeper", "/zookeeper/config", "/zookeeper/quota", "/zookeeper/x"}

// rawVersion draws the version of a write: mostly -1 to 2, now and then
// one no node has (-2 and below are not "any version").
func rawVersion(rng *rand.Rand) int32 {
	if rng.IntN(12) == 0 {
		return []int32{-2, -100, math.MaxInt32}[rng.IntN(3)]
	}
	return int32(rng.IntN(4)) - 1
}

// rawFlags draws a create mode for create and create2 (0 to 3), now and
// then one ZooKeeper's CreateMode.fromFlag does not know (BADARGUMENTS).
func rawFlags(rng *rand.Rand) int32 {
	if rng.IntN(15) == 0 {
		return []int32{-1, 7, 8, 100}[rng.IntN(4)]
	}
	return []int32{0, 0, 1, 2, 3}[rng.IntN(5)]
}

// rawTTL draws a TTL: mostly an hour (no node expires during a run: the
// servers check an hour apart), now and then ZooKeeper's largest or one
// out of range (0, negative, past 40 bits: BADARGUMENTS).
func rawTTL(rng *rand.Rand) int64 {
	return []int64{3_600_000, 3_600_000, 3_600_000, 1<<40 - 1, 0, -1, 1 << 40}[rng.IntN(7)]
}

func worldACL(perms int32) jute.ACL {
	return jute.ACL{Perms: perms, ID: jute.Id{Scheme: "world", ID: "anyone"}}
}

// rawACL draws the ACL of a create or a setACL: mostly open, else one
// that fixupACL changes (an entry twice, "auth"), one it keeps (digest,
// ip, permission bits past cdrwa), or one it refuses (INVALIDACL: an
// unknown scheme, an id its scheme refuses, none at all). Every ACL that
// passes lets everyone READ: Debian's ZooKeeper 3.8.0 answers exists
// without READ, zk refuses it (README, deliberate).
func rawACL(rng *rand.Rand) []jute.ACL {
	if rng.IntN(3) != 0 {
		return openACL
	}
	entry := func(perms int32, scheme, id string) jute.ACL {
		return jute.ACL{Perms: perms, ID: jute.Id{Scheme: scheme, ID: id}}
	}
	digestUP := gozk.DigestACL(gozk.PermAll, "u", "p")[0].ID
	return [][]jute.ACL{
		{worldACL(gozk.PermRead)},
		{worldACL(gozk.PermAll), worldACL(gozk.PermAll)},
		{worldACL(0x7f)},
		{entry(gozk.PermAll, "digest", digestUP), worldACL(gozk.PermRead)},
		{entry(gozk.PermAll, "auth", ""), worldACL(gozk.PermRead)},
		{entry(gozk.PermAll, "ip", "127.0.0.1"), worldACL(gozk.PermRead)},
		{entry(gozk.PermAll, "ip", "10.0.0.0/8"), worldACL(gozk.PermRead | gozk.PermCreate)},
		{entry(gozk.PermAll, "foo", "x")},
		{entry(gozk.PermAll, "world", "bob")},
		{entry(gozk.PermAll, "digest", "u"), worldACL(gozk.PermRead)},
		{entry(gozk.PermAll, "ip", "1.2.3.4/40")},
		{worldACL(gozk.PermRead), entry(gozk.PermAll, "", "")},
		{},
	}[rng.IntN(13)]
}

// odd draws a step of the requests rarely sent: setACL and getACL, a
// check outside a multi, an addWatch mode or a watcher type ZooKeeper
// does not know, a multiRead with a write, an empty multi.
func (g rawGen) odd(k int) (string, rawRun) {
	rng, p := g.rng, g.p
	switch k {
	case 30:
		acl, version := rawACL(rng), rawVersion(rng)
		if p == "/" || p == "/d" {
			acl = openACL // the whole tree stays writable
		}
		return fmt.Sprintf("setACL %s v=%d %v", p, version, acl), rawCall(jute.OpSetACL, &jute.SetACLRequest{Path: p, ACL: acl, Version: version})
	case 31:
		return "getACL " + p, rawCall(jute.OpGetACL, &jute.PathRequest{Path: p})
	case 32:
		// A check outside a multi, which ZooKeeper 3.8's own client
		// never sends: ZooKeeper logs it as a txn (masked, see
		// refusedEarly), and one that passes closes the connection (its
		// FinalRequestProcessor answers it with a SetDataResponse of no
		// Stat, which fails to serialize), as does one of / or
		// /zookeeper: bugs zk does not copy (it answers the node's
		// Stat). Only checks that fail are drawn.
		if p == "/" || p == "/zookeeper" {
			p = "/d"
		}
		version := []int32{-2, -100, math.MaxInt32}[rng.IntN(3)]
		return fmt.Sprintf("check %s v=%d", p, version), rawCall(jute.OpCheck, &jute.PathVersionRequest{Path: p, Version: version})
	case 33:
		if rng.IntN(2) == 0 {
			mode := []int32{-1, 2, 3}[rng.IntN(3)]
			return fmt.Sprintf("addWatch %s mode=%d", p, mode), rawCall(jute.OpAddWatch, &jute.AddWatchRequest{Path: p, Mode: mode})
		}
		op, typ := []int32{jute.OpRemoveWatches, jute.OpCheckWatches}[rng.IntN(2)], []int32{-1, 0, 6}[rng.IntN(3)]
		return fmt.Sprintf("op%d(watches) %s type=%d", op, p, typ), rawCall(op, &jute.WatchesRequest{Path: p, Type: typ})
	case 34:
		ops := []jute.MultiOp{{Type: jute.OpCheck, Path: p, Version: -1}}
		if rng.IntN(2) == 0 {
			ops = append([]jute.MultiOp{{Type: jute.OpGetData, Path: p}}, ops...)
		}
		return fmt.Sprintf("multiRead with a write %+v", ops), rawCall(jute.OpMultiRead, &jute.MultiRequest{Ops: ops})
	}
	return "empty multi", rawCall(jute.OpMulti, &jute.MultiRequest{})
}

func rawCall(op int32, req jute.Record) rawRun {
	return func(x *rawSys, s *rawSess) string {
		_, _, out := x.call(s, op, req)
		return out
	}
}

// genRawMultiOdd draws an op of a multi that ZooKeeper's client would not
// send: a read (the whole multi fails with MARSHALLINGERROR), a createTTL
// with any mode (without a TTL mode it is a create of that mode) and TTL,
// a create with a mode ZooKeeper does not know or an odd ACL. Not a create,
// create2 or createContainer with a TTL mode: ZooKeeper 3.8 fails the
// whole multi with MARSHALLINGERROR when it reaches one (it casts the op's
// request to a createTTL's) and zk refuses that op alone with
// BADARGUMENTS (README, deliberate).
func genRawMultiOdd(rng *rand.Rand, p string) jute.MultiOp {
	switch rng.IntN(4) {
	case 0:
		return jute.MultiOp{Type: []int32{jute.OpGetData, jute.OpGetChildren}[rng.IntN(2)], Path: p}
	case 1:
		flags := []int32{5, 6, 0, 1, 2, 4}[rng.IntN(6)]
		return jute.MultiOp{Type: jute.OpCreateTTL, Path: p, Data: []byte("t"), ACL: openACL, Flags: flags, TTL: rawTTL(rng)}
	}
	return jute.MultiOp{Type: jute.OpCreate, Path: p, Data: []byte("o"), ACL: rawACL(rng), Flags: rawFlags(rng)}
}

// tameEarly gives an op a TTL and a mode zk takes, for an op after a
// multi's first: zk checks every op's mode and TTL before the multi runs,
// so it refuses a bad one with BADARGUMENTS at that op even where an
// earlier op fails first in ZooKeeper (README, deliberate).
func tameEarly(op *jute.MultiOp) {
	if op.Flags < 0 || op.Flags > 6 {
		op.Flags = 0
	}
	if op.TTL <= 0 || op.TTL >= 1<<40 {
		op.TTL = 3_600_000
	}
}
