package znode

import (
	"bytes"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Names chosen to sit around '/' (0x2f) and NUL in byte order, so that
// prefix isolation ("/a" vs "/a-b" vs "/a/b" vs "/ab") is exercised.
var keyNames = []string{"a", "ab", "a-b", "a.b", "a b", "a!", "b", "0", "~", "é", "a0", "aa"}

// randomTree returns a random set of paths closed under Parent, with "/".
func randomTree(rng *rand.Rand, n int) map[string]bool {
	paths := map[string]bool{"/": true}
	list := []string{"/"}
	for len(list) < n {
		parent := list[rng.IntN(len(list))]
		if strings.Count(parent, "/") >= 4 {
			continue
		}
		p := Join(parent, keyNames[rng.IntN(len(keyNames))])
		if !paths[p] {
			paths[p] = true
			list = append(list, p)
		}
	}
	return paths
}

// sortedKeys is a model of Pebble: the node keys of paths, sorted.
func sortedKeys(paths map[string]bool) [][]byte {
	var keys [][]byte
	for p := range paths {
		keys = append(keys, nodeKey(p))
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
	return keys
}

func scanPrefix(keys [][]byte, prefix []byte) [][]byte {
	var out [][]byte
	for _, k := range keys {
		if bytes.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

func TestKeyEncodingAgainstMapModel(t *testing.T) {
	seed := uint64(0x5eed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for round := 0; round < 200; round++ {
		paths := randomTree(rng, 2+rng.IntN(60))
		keys := sortedKeys(paths)
		seen := map[string]string{}
		for p := range paths {
			k := nodeKey(p)
			if other, dup := seen[string(k)]; dup {
				t.Fatalf("seed %#x: %q and %q share key %q", seed, p, other, k)
			}
			seen[string(k)] = p
			if got, ok := pathFromNodeKey(k); !ok || got != p {
				t.Fatalf("seed %#x: pathFromNodeKey(nodeKey(%q)) = %q, %v", seed, p, got, ok)
			}
			if p != "/" && bytes.Compare(nodeKey(Parent(p)), k) >= 0 {
				t.Fatalf("seed %#x: parent of %q does not sort first", seed, p)
			}
			checkChildren(t, seed, paths, keys, p)
			checkDescendants(t, seed, paths, keys, p)
		}
	}
}

func checkChildren(t *testing.T, seed uint64, paths map[string]bool, keys [][]byte, p string) {
	t.Helper()
	var want []string
	for q := range paths {
		if q != "/" && Parent(q) == p {
			want = append(want, Base(q))
		}
	}
	sort.Strings(want)
	prefix := childPrefix(p)
	var got []string
	for _, k := range scanPrefix(keys, prefix) {
		got = append(got, nameFromChildKey(k, prefix))
	}
	if !cmp.Equal(want, got) {
		t.Fatalf("seed %#x: children of %q: model %q, keys %q", seed, p, want, got)
	}
}

func checkDescendants(t *testing.T, seed uint64, paths map[string]bool, keys [][]byte, p string) {
	t.Helper()
	var want []string
	for q := range paths {
		if q != p && (p == "/" || strings.HasPrefix(q, p+"/")) {
			want = append(want, q)
		}
	}
	var got []string
	for _, prefix := range descendantPrefixes(p) {
		for _, k := range scanPrefix(keys, prefix) {
			q, _ := pathFromNodeKey(k)
			got = append(got, q)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if !cmp.Equal(want, got) {
		t.Fatalf("seed %#x: descendants of %q: model %q, keys %q", seed, p, want, got)
	}
}

func TestIndexKeysIsolate(t *testing.T) {
	keys := [][]byte{
		ephemeralKey(1, "/a"), ephemeralKey(1, "/ab"), ephemeralKey(1, "/a/b"),
		ephemeralKey(2, "/a"), ephemeralKey(-1, "/a"), reapKey("/a"), sessionKey(1), metaKey,
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
	if got := len(scanPrefix(keys, ephemeralPrefix(1, "/a"))); got != 3 {
		t.Fatalf("session 1 prefix /a: %d keys, want 3 (string prefix, as getEphemerals)", got)
	}
	if got := len(scanPrefix(keys, ephemeralPrefix(1, "/a/"))); got != 1 {
		t.Fatalf("session 1 prefix /a/: %d keys", got)
	}
	if got := len(scanPrefix(keys, ephemeralPrefix(2, ""))); got != 1 {
		t.Fatalf("session 2: %d keys", got)
	}
	for _, k := range keys {
		if _, ok := pathFromNodeKey(k); ok {
			t.Fatalf("index key %q decodes as a node key", k)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct{ in, want []byte }{
		{[]byte("a"), []byte("b")},
		{[]byte{'a', 0xff}, []byte("b")},
		{[]byte{0xff, 0xff}, nil},
		{[]byte{'n', '/', 0}, []byte{'n', '/', 1}},
	} {
		if got := prefixEnd(c.in); !bytes.Equal(got, c.want) {
			t.Errorf("prefixEnd(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
