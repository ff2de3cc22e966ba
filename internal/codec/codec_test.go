package codec

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type sample struct {
	A int64
	B string
	C []byte
	D []int32
	E map[string]uint64
}

func TestRoundTrip(t *testing.T) {
	in := sample{A: -5, B: "héllo", C: []byte{0, 1, 2}, D: []int32{1, -2}, E: map[string]uint64{"x": 1 << 63}}
	b, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out sample
	if err := Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Fatalf("round trip (-in +out):\n%s", diff)
	}
	// Decoded bytes must not alias the input buffer.
	for i := range b {
		b[i] = 0xff
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Fatalf("decoded value aliases its input (-in +out):\n%s", diff)
	}
}

func TestAppendKeepsPrefix(t *testing.T) {
	b, err := Append([]byte("hdr"), sample{A: 1})
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:3]) != "hdr" {
		t.Fatalf("prefix lost: %q", b[:3])
	}
	var out sample
	if err := Unmarshal(b[3:], &out); err != nil || out.A != 1 {
		t.Fatalf("got %+v, %v", out, err)
	}
}

func TestRejectsTrailingAndTruncated(t *testing.T) {
	b, _ := Marshal(sample{A: 7, B: "x"})
	var out sample
	if err := Unmarshal(append(b, 0xc0), &out); !errors.Is(err, ErrDecode) {
		t.Fatalf("trailing byte: got %v", err)
	}
	for i := 0; i < len(b); i++ {
		if err := Unmarshal(b[:i], &out); !errors.Is(err, ErrDecode) {
			t.Fatalf("truncated at %d: got %v", i, err)
		}
	}
}

func TestHugeLengthDoesNotAllocate(t *testing.T) {
	// array32 header claiming 2^31 elements, with nothing after it.
	b := []byte{0xdd, 0x7f, 0xff, 0xff, 0xff}
	var out []int64
	if err := Unmarshal(b, &out); !errors.Is(err, ErrDecode) {
		t.Fatalf("got %v", err)
	}
	// bin32 claiming 2 GiB of bytes.
	b = []byte{0xc6, 0x7f, 0xff, 0xff, 0xff, 1}
	var raw []byte
	if err := Unmarshal(b, &raw); !errors.Is(err, ErrDecode) {
		t.Fatalf("got %v", err)
	}
}

func FuzzUnmarshal(f *testing.F) {
	b, _ := Marshal(sample{A: 1, B: "b", C: []byte("c"), D: []int32{4}, E: map[string]uint64{"e": 5}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var out sample
		if Unmarshal(data, &out) != nil {
			return
		}
		again, err := Marshal(out)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var out2 sample
		if err := Unmarshal(again, &out2); err != nil {
			t.Fatalf("decode of re-encoded value: %v", err)
		}
	})
}

// BenchmarkUnmarshalBlob decodes a 2 MiB byte slice (a request at zk's
// largest jute.maxbuffer): the decoder grows a slice by at most maxInitLen
// bytes a step, so its cost is quadratic in len/maxInitLen. Compare with
// BenchmarkCopyBlob, the copy it cannot avoid.
func BenchmarkUnmarshalBlob(b *testing.B) {
	in := sample{C: make([]byte, 2<<20)}
	buf, err := Marshal(in)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	for i := 0; i < b.N; i++ {
		var out sample
		if err := Unmarshal(buf, &out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCopyBlob(b *testing.B) {
	buf := make([]byte, 2<<20)
	b.SetBytes(int64(len(buf)))
	for i := 0; i < b.N; i++ {
		_ = append([]byte(nil), buf...)
	}
}

// TestReuse: the pooled encoders, decoders and buffers carry nothing from
// one call to the next: an encoding stays valid after later ones, a failed
// decode leaves no state behind, an empty or nil input is refused, and
// concurrent calls agree (run with -race).
func TestReuse(t *testing.T) {
	a, _ := Marshal(sample{A: 1, C: make([]byte, 10000)})
	b, _ := Marshal(sample{A: 2, B: "b"})
	var out sample
	if err := Unmarshal(a, &out); err != nil || out.A != 1 || len(out.C) != 10000 {
		t.Fatalf("first encoding after a second one: %+v, %v", out.A, err)
	}
	if cap(b) != len(b) {
		t.Fatalf("Marshal returned %d bytes in a buffer of %d", len(b), cap(b))
	}
	if err := Unmarshal([]byte{0xc1}, &out); !errors.Is(err, ErrDecode) {
		t.Fatalf("bad input: %v", err)
	}
	for _, in := range [][]byte{nil, {}} {
		if err := Unmarshal(in, &out); !errors.Is(err, ErrDecode) {
			t.Fatalf("Unmarshal(%v) = %v, want ErrDecode", in, err)
		}
	}
	var out2 sample
	if err := Unmarshal(b, &out2); err != nil || out2.A != 2 || out2.B != "b" {
		t.Fatalf("after failures: %+v, %v", out2, err)
	}
	done := make(chan error)
	for g := range 8 {
		go func() {
			for i := range 200 {
				in := sample{A: int64(g*1000 + i), C: make([]byte, i*50)}
				enc, err := Marshal(in)
				var got sample
				if err == nil {
					err = Unmarshal(enc, &got)
				}
				if err == nil && (got.A != in.A || len(got.C) != len(in.C)) {
					err = errors.New("concurrent round trip differs")
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
