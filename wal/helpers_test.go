package wal

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

const testDir = "/data/log"

// testOpts are small-segment options on fs.
func testOpts(fs vfs.FS) Options {
	return Options{FS: fs, Dir: testDir, SnapDir: "/data/snap", SegmentSize: 8 << 10}
}

func mustOpen(t testing.TB, o Options) *Log {
	t.Helper()
	l, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

// readAll returns every entry of l.
func readAll(t testing.TB, l *Log) []Entry {
	t.Helper()
	ents, err := collect(l, l.Base())
	if err != nil {
		t.Fatalf("ReadFrom(%#x): %v", l.Base(), err)
	}
	return ents
}

func collect(l *Log, after int64) ([]Entry, error) {
	var out []Entry
	err := l.ReadFrom(after, func(e Entry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// genEntries makes n entries after zxid with random sizes; sizes straddle
// chunk and block boundaries.
func genEntries(rng *rand.Rand, after int64, n int) []Entry {
	out := make([]Entry, n)
	z := after
	for i := range out {
		if rng.IntN(8) == 0 {
			z = (z>>32 + 1) << 32 // a new epoch: zxids are not contiguous
		}
		z++
		var size int
		switch rng.IntN(10) {
		case 0:
			size = 0
		case 1:
			size = 4000 + rng.IntN(9000)
		default:
			size = rng.IntN(1500)
		}
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		out[i] = Entry{Zxid: z, Data: data}
	}
	return out
}

// cloneEntries deep-copies es (Append owns the Data it is given).
func cloneEntries(es []Entry) []Entry {
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = Entry{Zxid: e.Zxid, Data: slices.Clone(e.Data)}
	}
	return out
}

// diffEntries describes the first difference between got and want.
func diffEntries(got, want []Entry) string {
	for i := range min(len(got), len(want)) {
		if got[i].Zxid != want[i].Zxid || !bytes.Equal(got[i].Data, want[i].Data) {
			return fmt.Sprintf("entry %d: got zxid %#x (%d bytes), want %#x (%d bytes)",
				i, got[i].Zxid, len(got[i].Data), want[i].Zxid, len(want[i].Data))
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("got %d entries, want %d", len(got), len(want))
	}
	return ""
}

func zxidsOf(es []Entry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.Zxid
	}
	return out
}

// segFiles lists the segment paths of dir in sequence order.
func segFiles(t testing.TB, fs vfs.FS, dir string) []string {
	t.Helper()
	names, err := fs.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if _, ok := parseHexName(n, segPrefix); ok {
			out = append(out, fs.PathJoin(dir, n))
		}
	}
	sort.Strings(out)
	return out
}

// fileBytes returns a copy of a file's content.
func fileBytes(t testing.TB, fs vfs.FS, path string) []byte {
	t.Helper()
	b, err := readFile(fs, path, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// copyFS copies every file under the given directories of src into a new
// MemFS, applying edit (if not nil) to each file's content.
func copyFS(t testing.TB, src vfs.FS, dirs []string, edit func(path string, b []byte) []byte) *vfs.MemFS {
	t.Helper()
	dst := vfs.NewMem()
	for _, dir := range dirs {
		if err := dst.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		names, err := src.List(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			p := src.PathJoin(dir, n)
			b := fileBytes(t, src, p)
			if edit != nil {
				b = edit(p, b)
			}
			if b == nil {
				continue
			}
			f, err := dst.Create(p, vfs.WriteCategoryUnspecified)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(slices.Clone(b)); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	return dst
}
