package wal

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// snapContent is the deterministic content of the test snapshot at zxid.
func snapContent(zxid int64, size int) []byte {
	rng := rand.New(rand.NewPCG(uint64(zxid), 99))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// writeSnap writes and commits a snapshot, in uneven pieces.
func writeSnap(t testing.TB, l *Log, zxid int64, content []byte) {
	t.Helper()
	w, err := l.CreateSnapshot(zxid)
	if err != nil {
		t.Fatal(err)
	}
	for p := content; len(p) > 0; {
		k := min(len(p), 1+len(p)/3)
		if n, err := w.Write(p[:k]); err != nil || n != k {
			t.Fatalf("Write = %d, %v", n, err)
		}
		p = p[k:]
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

func readSnap(l *Log, zxid int64) ([]byte, error) {
	r, err := l.OpenSnapshot(zxid)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func TestSnapshots(t *testing.T) {
	fs := vfs.NewMem()
	o := testOpts(fs)
	l := mustOpen(t, o)
	sizes := map[int64]int{10: 0, 20: 1, 30: 300 << 10, 40: 5000, 50: 1 << 20}
	for _, z := range []int64{10, 20, 30, 40, 50} {
		writeSnap(t, l, z, snapContent(z, sizes[z]))
	}
	if got := l.Snapshots(); !slices.Equal(got, []int64{50, 40, 30}) {
		t.Fatalf("Snapshots = %v", got)
	}
	for _, z := range []int64{50, 40, 30} {
		got, err := readSnap(l, z)
		if err != nil || !bytes.Equal(got, snapContent(z, sizes[z])) {
			t.Fatalf("snapshot %d: %d bytes, %v", z, len(got), err)
		}
	}
	if _, err := l.OpenSnapshot(20); !errors.Is(err, ErrNotFound) {
		t.Fatalf("retention kept snapshot 20: %v", err)
	}
	// An older snapshot than those kept survives its own commit.
	writeSnap(t, l, 5, []byte("old"))
	if got := l.Snapshots(); !slices.Equal(got, []int64{50, 40, 30, 5}) {
		t.Fatalf("Snapshots = %v", got)
	}
	// Abort leaves nothing; an unfinished writer leaves a temp file that
	// Open removes.
	w, _ := l.CreateSnapshot(60)
	w.Write([]byte("partial"))
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	w, _ = l.CreateSnapshot(70)
	w.Write([]byte("never committed"))
	l.Close()
	l = mustOpen(t, o)
	defer l.Close()
	if got := l.Snapshots(); !slices.Equal(got, []int64{50, 40, 30, 5}) {
		t.Fatalf("reopened: Snapshots = %v", got)
	}
	names, _ := fs.List(o.SnapDir)
	if len(names) != 4 {
		t.Fatalf("snapshot dir holds %v", names)
	}
	writeSnap(t, l, 80, []byte("new"))
	if got := l.Snapshots(); !slices.Equal(got, []int64{80, 50, 40}) {
		t.Fatalf("Snapshots = %v", got)
	}
}

func TestSnapshotDamage(t *testing.T) {
	fs := vfs.NewMem()
	o := testOpts(fs)
	l := mustOpen(t, o)
	content := snapContent(7, 10000)
	writeSnap(t, l, 7, content)
	l.Close()
	path := fs.PathJoin(o.SnapDir, snapshotName(7))
	good := fileBytes(t, fs, path)
	rng := rand.New(rand.NewPCG(8, 8))
	damage := map[string]func([]byte) []byte{
		"content bit": func(b []byte) []byte { b[snapHeaderSize+rng.IntN(len(content))] ^= 1 << rng.IntN(8); return b },
		"last byte":   func(b []byte) []byte { b[snapHeaderSize+len(content)-1] ^= 0x80; return b },
		"header bit":  func(b []byte) []byte { b[rng.IntN(snapHeaderSize)] ^= 1 << rng.IntN(8); return b },
		"trailer bit": func(b []byte) []byte { b[len(b)-1-rng.IntN(snapTrailerSize)] ^= 1 << rng.IntN(8); return b },
		"cut":         func(b []byte) []byte { return b[:rng.IntN(len(b))] },
		"zero block":  func(b []byte) []byte { clear(b[4096:8192]); return b },
	}
	for name, edit := range damage {
		for range 20 {
			dfs := copyFS(t, fs, []string{o.Dir, o.SnapDir}, func(p string, b []byte) []byte {
				if p == path {
					return edit(b)
				}
				return b
			})
			o2 := o
			o2.FS = dfs
			l := mustOpen(t, o2)
			r, err := l.OpenSnapshot(7)
			if err == nil {
				// A consumer that reads exactly the content length still
				// gets the error with the last bytes.
				buf := make([]byte, len(content))
				_, err = io.ReadFull(r, buf)
				r.Close()
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s: got %v, want ErrCorrupt", name, err)
			}
			l.Close()
		}
	}
	// The intact file reads back; under another name it is rejected.
	dfs := copyFS(t, fs, []string{o.Dir, o.SnapDir}, nil)
	f, _ := dfs.Create(fs.PathJoin(o.SnapDir, snapshotName(8)), vfs.WriteCategoryUnspecified)
	f.Write(slices.Clone(good))
	f.Close()
	o.FS = dfs
	l = mustOpen(t, o)
	defer l.Close()
	if got, err := readSnap(l, 7); err != nil || !bytes.Equal(got, content) {
		t.Fatalf("intact snapshot: %v", err)
	}
	if _, err := readSnap(l, 8); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("renamed snapshot: %v", err)
	}
}
