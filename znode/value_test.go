package znode

import (
	"bytes"
	"errors"
	"hash/crc64"
	"math"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sampleNodes() []node {
	return []node{
		{acl: OpenACLUnsafe()},
		{kind: kindEphemeral, owner: 0x0100000000000042, czxid: 1, mzxid: 2, pzxid: 3, ctime: 4, mtime: 5,
			version: 6, cversion: 7, aversion: 8, numChildren: 0, data: []byte("hello"), acl: ReadACLUnsafe()},
		{kind: kindContainer, version: -1, cversion: math.MinInt32, numChildren: math.MaxInt32,
			acl: []ACL{{PermAll, SchemeDigest, DigestID("u", "p")}, {PermRead, SchemeIP, "10.0.0.0/8"}}},
		{kind: kindTTL, owner: MaxTTL, czxid: math.MaxInt64, mtime: math.MinInt64, data: bytes.Repeat([]byte{0}, 300)},
	}
}

var nodeComparer = cmp.Comparer(func(a, b node) bool {
	return a.kind == b.kind && a.owner == b.owner && a.czxid == b.czxid && a.mzxid == b.mzxid &&
		a.pzxid == b.pzxid && a.ctime == b.ctime && a.mtime == b.mtime && a.version == b.version &&
		a.cversion == b.cversion && a.aversion == b.aversion && a.numChildren == b.numChildren &&
		a.dataHash == b.dataHash && cmp.Equal(a.acl, b.acl, cmpEmpty) && bytes.Equal(a.data, b.data)
})

var cmpEmpty = cmp.FilterValues(func(a, b []ACL) bool { return len(a) == 0 && len(b) == 0 }, cmp.Comparer(func(_, _ []ACL) bool { return true }))

func TestNodeValueRoundTrip(t *testing.T) {
	for _, n := range sampleNodes() {
		n.dataHash = dataHash(n.data)
		b := encodeNode(&n)
		got, err := decodeNode(b)
		if err != nil {
			t.Fatalf("decode %+v: %v", n, err)
		}
		if !cmp.Equal(n, got, nodeComparer) {
			t.Fatalf("round trip:\n%+v\n%+v", n, got)
		}
		for i := 0; i < len(b) && i < valueFixedSize+1; i++ {
			if _, err := decodeNode(b[:i]); err == nil {
				t.Fatalf("truncated value of %d bytes decoded", i)
			}
		}
	}
}

// TestACLStringsDecodeShared: the ACL strings nearly every node holds
// (the schemes, world's "anyone") decode without allocating, and every
// string, those or others, decodes to itself; a node with the open ACL
// decodes without allocating (the shared openACL), and a read hands out a
// copy of it.
func TestACLStringsDecodeShared(t *testing.T) {
	for _, s := range []string{"world", "anyone", "digest", "ip", "auth", "x509", "sasl", "", "worl", "worlds", "Anyone", "super", "u:Zm9v"} {
		if got := aclString([]byte(s)); got != s {
			t.Fatalf("aclString(%q) = %q", s, got)
		}
	}
	for _, s := range []string{"world", "anyone", "digest", "ip", "auth", "x509", "sasl"} {
		b := []byte(s)
		if n := testing.AllocsPerRun(100, func() { _ = aclString(b) }); n != 0 {
			t.Fatalf("aclString(%q): %v allocations", s, n)
		}
	}
	n := node{acl: OpenACLUnsafe(), data: []byte("x")}
	v := encodeNode(&n)
	if got := testing.AllocsPerRun(100, func() { _, _ = decodeNode(v) }); got != 0 {
		t.Fatalf("decoding a node with the open ACL: %v allocations, want 0", got)
	}
	out, err := nodeFromValue("/a", v, true)
	if err != nil || !reflect.DeepEqual(out.ACL, OpenACLUnsafe()) || isOpenACL(out.ACL) {
		t.Fatalf("read a node with the open ACL: %v, %v: want a copy of it", out.ACL, err)
	}
	other := node{acl: []ACL{{Perms: PermRead, Scheme: SchemeWorld, ID: IDAnyone}}}
	if d, err := decodeNode(encodeNode(&other)); err != nil || isOpenACL(d.acl) || !reflect.DeepEqual(d.acl, other.acl) {
		t.Fatalf("decoding another ACL: %v, %v", d.acl, err)
	}
}

func TestNodeValueRejects(t *testing.T) {
	good := node{acl: OpenACLUnsafe()}
	enc := func(n node) []byte { return encodeNode(&n) }
	cases := map[string][]byte{
		"version":              append([]byte{2}, enc(good)[1:]...),
		"kind":                 func() []byte { b := enc(good); b[1] = 9; return b }(),
		"persistent owner":     enc(node{owner: 5}),
		"ephemeral no owner":   enc(node{kind: kindEphemeral}),
		"ttl zero":             enc(node{kind: kindTTL}),
		"ttl too big":          enc(node{kind: kindTTL, owner: MaxTTL + 1}),
		"negative numChildren": enc(node{numChildren: -1}),
		"acl count too big":    append(enc(node{})[:valueFixedSize], 0xff, 0xff, 0xff, 0xff, 0x0f),
		"acl string overrun":   append(enc(node{})[:valueFixedSize], 1, 1, 200, 'w'),
	}
	for name, b := range cases {
		if _, err := decodeNode(b); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: decode = %v, want errCorrupt", name, err)
		}
	}
}

// TestStatAsZooKeeperReportsIt states DataNode.copyStat's rules: the
// EphemeralOwner of container and TTL nodes is 0 for clients
// (getClientEphemeralOwner), and Cversion is 2 x creates - NumChildren, in
// wrapping int32 arithmetic as Java computes it.
func TestStatAsZooKeeperReportsIt(t *testing.T) {
	for _, c := range []struct {
		n              node
		owner          int64
		cversion, kids int32
	}{
		{node{}, 0, 0, 0},
		{node{kind: kindEphemeral, owner: 77}, 77, 0, 0},
		{node{kind: kindContainer, cversion: 3, numChildren: 1}, 0, 5, 1},
		{node{kind: kindTTL, owner: 1, cversion: 1}, 0, 2, 0},
		{node{kind: kindTTL, owner: MaxTTL}, 0, 0, 0},
		{node{numChildren: 1}, 0, -1, 1},                                           // / on a fresh tree
		{node{numChildren: 2}, 0, -2, 2},                                           // /zookeeper on a fresh tree
		{node{cversion: math.MaxInt32}, 0, -2, 0},                                  // Java: 2147483647*2 = -2
		{node{cversion: math.MinInt32, numChildren: 1}, 0, -1, 1},                  // wrapped: MinInt32*2 = 0
		{node{cversion: 1 << 30, numChildren: math.MaxInt32}, 0, 1, math.MaxInt32}, // MinInt32 - MaxInt32 wraps to 1
	} {
		st := c.n.stat()
		if st.EphemeralOwner != c.owner || st.Cversion != c.cversion || st.NumChildren != c.kids {
			t.Errorf("%+v: owner %#x cversion %d children %d, want %#x %d %d",
				c.n, uint64(st.EphemeralOwner), st.Cversion, st.NumChildren, uint64(c.owner), c.cversion, c.kids)
		}
	}
}

func FuzzDecodeNode(f *testing.F) {
	for _, n := range sampleNodes() {
		n.dataHash = dataHash(n.data)
		f.Add(encodeNode(&n))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := decodeNode(b)
		if err != nil {
			return
		}
		// A decoded value re-encodes to something that decodes the same.
		again, err := decodeNode(encodeNode(&n))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !cmp.Equal(n, again, nodeComparer) {
			t.Fatalf("round trip differs:\n%+v\n%+v", n, again)
		}
		_ = n.stat()
		_ = nodeDigest("/x", &n)
	})
}

// TestDataHashIsCRC64ECMA pins the data checksum that values, snapshots and
// digests hold to hash/crc64's ECMA value: trees written by earlier builds
// carry it, and a peer that computed another would stop on a digest
// mismatch.
func TestDataHashIsCRC64ECMA(t *testing.T) {
	tab := crc64.MakeTable(crc64.ECMA)
	for _, n := range []int{0, 1, 63, 64, 100, 1024, 4097} {
		data := bytes.Repeat([]byte{byte(n), 0x5a, 0xc3}, n)[:n]
		if got, want := dataHash(data), crc64.Checksum(data, tab); got != want {
			t.Fatalf("dataHash of %d bytes = %#x, want %#x", n, got, want)
		}
	}
}
