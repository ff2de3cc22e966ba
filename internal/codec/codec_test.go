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
