package recipes

import (
	"bytes"
	"compress/gzip"
	"errors"
	"testing"
)

// curatorHeader is the gzip header Curator's GzipCompressionProvider
// writes (its GZIP_HEADER): magic, deflate, no flags, no time, XFL 0, OS 0.
var curatorHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0}

// TestCompressCuratorFormat: Compress writes Curator's header and, for
// empty data, Curator's exact bytes; what it writes, Decompress and Go's
// gzip reader read back.
func TestCompressCuratorFormat(t *testing.T) {
	empty := []byte{31, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0} // GzipCompressionProviderTest.testEmpty
	if got := Compress(nil); !bytes.Equal(got, empty) {
		t.Fatalf("Compress(empty) = % x, want Curator's % x", got, empty)
	}
	for _, data := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("curator "), 5000)} {
		z := Compress(data)
		if !bytes.HasPrefix(z, curatorHeader) {
			t.Fatalf("header % x, want Curator's % x", z[:10], curatorHeader)
		}
		got, err := Decompress(z)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Decompress(Compress(%d bytes)) = %d bytes, %v", len(data), len(got), err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(z))
		chMust(t, err)
		var b bytes.Buffer
		_, err = b.ReadFrom(zr)
		if err != nil || !bytes.Equal(b.Bytes(), data) {
			t.Fatalf("gzip reader: %v", err)
		}
	}
}

// TestDecompressRejects: what Curator's decompress refuses, Decompress
// refuses, with ErrBadCompressedData.
func TestDecompressRejects(t *testing.T) {
	good := Compress([]byte("hello, curator"))
	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-8] ^= 1
	badLen := bytes.Clone(good)
	badLen[len(badLen)-4] ^= 1
	for name, data := range map[string][]byte{
		"plain":         []byte("hello"),
		"empty":         {},
		"truncated":     good[:len(good)-3],
		"trailing byte": append(bytes.Clone(good), 0),
		"two members":   append(bytes.Clone(good), good...),
		"bad crc":       badCRC,
		"bad length":    badLen,
	} {
		if out, err := Decompress(data); !errors.Is(err, ErrBadCompressedData) {
			t.Errorf("%s: %q, %v; want ErrBadCompressedData", name, out, err)
		}
	}
	// Header fields Curator skips (a name, a comment) are read too.
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Name, w.Comment = "n", "c"
	_, _ = w.Write([]byte("named"))
	chMust(t, w.Close())
	if out, err := Decompress(b.Bytes()); err != nil || string(out) != "named" {
		t.Fatalf("named member: %q, %v", out, err)
	}
}

// TestCacheCompressedData: a cache made WithCompressedData holds and
// reports the data decompressed, at load and after; a node whose data is
// not compressed is held with DataErr set, and set right when it is
// rewritten compressed. A cache without the option holds data as stored.
func TestCacheCompressedData(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	chCreate(t, s, "/z", "")
	chCreate(t, s, "/z/a", string(Compress([]byte("alpha"))))
	chCreate(t, s, "/z/plain", "not gzip")
	c, err := NewTreeCache(s, "/z", WithCompressedData())
	chMust(t, err)
	r := chStart(t, c)
	sameStrings(t, "load", r.take(), []string{"NodeCreated /z=", "NodeCreated /z/a=alpha", "NodeCreated /z/plain=", "Initialized"})
	if n, _ := c.Get("/z/plain"); n.Data != nil || !errors.Is(n.DataErr, ErrBadCompressedData) {
		t.Fatalf("/z/plain: data %q, DataErr %v", n.Data, n.DataErr)
	}
	if n, _ := c.Get("/z/a"); n.DataErr != nil || n.Stat.DataLength != int32(len(Compress([]byte("alpha")))) {
		t.Fatalf("/z/a: DataErr %v, DataLength %d (the stored length)", n.DataErr, n.Stat.DataLength)
	}
	var told []error
	c.Listen(func(ev CacheEvent) { told = append(told, ev.Node.DataErr) })
	chSet(t, s, "/z/a", string(Compress([]byte("beta"))))
	chSet(t, s, "/z/plain", string(Compress([]byte("now compressed"))))
	chCreate(t, s, "/z/bad", "\x1f\x8b junk")
	r.waitZxid(t, lastZxid(t, s))
	sameStrings(t, "events", r.take(), []string{"NodeChanged /z/a=beta", "NodeChanged /z/plain=now compressed", "NodeCreated /z/bad="})
	if len(told) != 3 || told[0] != nil || told[1] != nil || !errors.Is(told[2], ErrBadCompressedData) {
		t.Fatalf("listener saw DataErr %v", told)
	}
	if n, _ := c.Get("/z/plain"); n.DataErr != nil || string(n.Data) != "now compressed" {
		t.Fatalf("/z/plain after the rewrite: %q, %v", n.Data, n.DataErr)
	}
	raw, err := NewNodeCache(s, "/z/a")
	chMust(t, err)
	chStart(t, raw)
	if n, _ := raw.Get("/z/a"); !bytes.Equal(n.Data, Compress([]byte("beta"))) || n.DataErr != nil {
		t.Fatalf("a cache without the option holds %q", n.Data)
	}
}
