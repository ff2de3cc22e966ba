package wire_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/embedzk/zk/recipes"
)

// compressedCache: data compressed by Go (recipes.Compress) and by Curator
// (create().compressed(), its GzipCompressionProvider) on the same peer.
// Curator's TreeCache built with compressed data, and its
// getData().decompressed(), read what Go wrote, empty and large data
// included; a Go cache made WithCompressedData reads what Curator wrote.
func (sp sharedPaths) compressedCache(t *testing.T) {
	const root = "/gz"
	big := strings.Repeat("curator and go ", 10000) // several deflate blocks
	_, err := sp.sess.Create(sp.ctx, root, nil)
	must(t, err)
	for name, data := range map[string]string{"go": "from go", "go-empty": "", "go-big": big} {
		_, err := sp.sess.Create(sp.ctx, root+"/"+name, recipes.Compress([]byte(data)))
		must(t, err)
	}
	lines := runJava(t, true, sp.cp, "CompressedCache", sp.addr, root)
	want := []string{
		"SEEN go 7 from go", "SEEN go-big 150000 " + big[:40], "SEEN go-empty 0 ", "SEEN java 12 from curator", "SEEN java-empty 0 ",
		"READ go from go", "READ go-big " + big[:40], "READ go-empty ", "READ java from curator", "READ java-empty ", "END",
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("Curator read\n%q\nwant\n%q", lines, want)
	}
	c, err := recipes.NewTreeCache(sp.sess, root, recipes.WithCompressedData())
	must(t, err)
	must(t, c.Start(sp.ctx))
	defer c.Close()
	for name, data := range map[string]string{"java": "from curator", "java-empty": "", "go-big": big} {
		n, ok := c.Get(root + "/" + name)
		if !ok || n.DataErr != nil || string(n.Data) != data {
			t.Errorf("the Go cache holds %s as %.40q (%v, %v), want %.40q", name, n.Data, ok, n.DataErr, data)
		}
	}
	raw, _, err := sp.sess.Get(sp.ctx, root+"/java")
	must(t, err)
	if got, err := recipes.Decompress(raw); err != nil || string(got) != "from curator" {
		t.Errorf("Decompress of Curator's bytes: %q, %v", got, err)
	}
}
