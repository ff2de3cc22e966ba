package znode

import (
	"bytes"
	"errors"
	"math"
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

func TestStatOwnerMarkers(t *testing.T) {
	for _, c := range []struct {
		n    node
		want int64
	}{
		{node{}, 0},
		{node{kind: kindEphemeral, owner: 77}, 77},
		{node{kind: kindContainer}, math.MinInt64},
		{node{kind: kindTTL, owner: 1}, -0x0100000000000000 + 1},
	} {
		if got := c.n.stat().EphemeralOwner; got != c.want {
			t.Errorf("%+v: owner %#x, want %#x", c.n, uint64(got), uint64(c.want))
		}
	}
	container, ttl := ContainerOwner, ttlOwnerMask
	if uint64(container) != 0x8000000000000000 || uint64(ttl) != 0xFF00000000000000 {
		t.Fatal("owner markers differ from ZooKeeper's EphemeralType")
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
