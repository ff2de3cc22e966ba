package jute_test

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/embedzk/zk/internal/jute"
)

// seedCaptured adds every captured frame to the corpus.
func seedCaptured(f *testing.F) {
	for _, name := range []string{"gozk.frames", "zkcli.frames", "kazoo.frames"} {
		for _, fr := range loadFrames(f, name) {
			f.Add(fr.body)
		}
	}
}

// FuzzRequest decodes arbitrary bytes as a request frame the way the server
// does (header, then the body its op selects). It must never panic, and
// whatever decodes must re-encode to the same bytes, except that a null
// string (length -1, which no client sends where a string is due) decodes
// as the empty string and a vector count below -1 as an empty vector: the
// re-encoded bytes differ only there (zeroedNegatives), and must decode to
// the same record.
func FuzzRequest(f *testing.F) {
	seedCaptured(f)
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 101, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0}) // setWatches, data count -2
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff})                                                   // getACL of a null path
	f.Fuzz(func(t *testing.T, b []byte) {
		d := jute.NewDecoder(b)
		var h jute.RequestHeader
		h.Decode(d)
		rec, ok := jute.NewRequest(h.Type)
		if !ok || rec == nil || d.Err() != nil {
			return
		}
		rec.Decode(d)
		if d.Err() != nil || d.Remaining() != 0 {
			return
		}
		got := jute.Marshal(nil, &h, rec)
		if !canonical(h.Type, b) {
			return
		}
		if bytes.Equal(got, b) {
			return
		}
		d2 := jute.NewDecoder(got)
		var h2 jute.RequestHeader
		h2.Decode(d2)
		rec2, _ := jute.NewRequest(h2.Type)
		rec2.Decode(d2)
		if !zeroedNegatives(b, got) || d2.Err() != nil || h2 != h || !reflect.DeepEqual(rec2, rec) {
			t.Fatalf("op %d: re-encoded %x, want %x", h.Type, got, b)
		}
	})
}

// zeroedNegatives reports whether got is b with some of its negative ints
// (a null string's length, a vector count below -1) made 0, and nothing
// else changed.
func zeroedNegatives(b, got []byte) bool {
	if len(got) != len(b) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i] == got[i] {
			continue
		}
		// The first byte that differs starts a negative int (its top bit
		// set, where 0 has none), which must read 0 now.
		if i+4 > len(b) || b[i]&0x80 == 0 || binary.BigEndian.Uint32(got[i:]) != 0 {
			return false
		}
		i += 3
	}
	return true
}

// canonical reports whether b can be expected to re-encode byte for byte:
// booleans other than 0 and 1 decode as true and re-encode as 1.
func canonical(op int32, b []byte) bool {
	switch op {
	case jute.OpExists, jute.OpGetData, jute.OpGetChildren, jute.OpGetChildren2, jute.OpMulti, jute.OpMultiRead:
		return false
	}
	return true
}

// FuzzConnect decodes arbitrary bytes as a ConnectRequest.
func FuzzConnect(f *testing.F) {
	seedCaptured(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r jute.ConnectRequest
		if err := jute.Unmarshal(b, &r); err != nil {
			return
		}
		if len(b) > 0 && b[len(b)-1] > 1 && r.HasReadOnly {
			return // a non-canonical boolean
		}
		if got := jute.Marshal(nil, &r); !bytes.Equal(got, b) {
			t.Fatalf("re-encoded %x, want %x", got, b)
		}
	})
}

// FuzzReply decodes arbitrary bytes as any reply body: a client-side decoder
// (used by zk's tests) must not panic either.
func FuzzReply(f *testing.F) {
	seedCaptured(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 4 {
			return
		}
		op := int32(binary.BigEndian.Uint32(b))
		rec, ok := jute.NewResponse(op)
		if !ok || rec == nil {
			return
		}
		_ = jute.Unmarshal(b[4:], rec)
	})
}

// FuzzReadFrame feeds arbitrary bytes to the frame reader with a small
// limit: it never allocates past the limit and never panics.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 4, 1, 2, 3, 4})
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		body, err := jute.ReadFrame(bytes.NewReader(b), nil, 64)
		if err == nil && len(body) > 64 {
			t.Fatalf("a %d-byte frame passed a 64-byte limit", len(body))
		}
	})
}
