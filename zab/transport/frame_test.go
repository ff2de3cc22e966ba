package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// rw joins a reader and a writer into an io.ReadWriter.
type rw struct {
	io.Reader
	io.Writer
}

func readerRW(r io.Reader) *frameRW { return newFrameRW(rw{r, io.Discard}) }

func encodeFrames(t testing.TB, kinds []byte, payloads [][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	f := newFrameRW(rw{nil, &buf})
	for i := range payloads {
		if err := f.writeFrame(kinds[i], payloads[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFrameRoundTrip(t *testing.T) {
	payloads := [][]byte{nil, []byte("x"), bytes.Repeat([]byte("ab"), 40000), make([]byte, 200000)}
	kinds := []byte{kindData, kindPing, kindData, kindData}
	wire := encodeFrames(t, kinds, payloads)
	if got, want := len(wire), 4*headerLen+1+80000+200000; got != want {
		t.Fatalf("encoded %d bytes, want %d", got, want)
	}
	if wire[4] != ProtocolVersion || wire[5] != kindData || binary.BigEndian.Uint32(wire) != 0 {
		t.Fatalf("bad header % x", wire[:headerLen])
	}
	f := readerRW(bytes.NewReader(wire))
	for i, want := range payloads {
		kind, got, err := f.readFrame(1 << 20)
		if err != nil || kind != kinds[i] || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: kind %d, %d bytes, %v", i, kind, len(got), err)
		}
	}
	if _, _, err := f.readFrame(1 << 20); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

// explodingReader fails the test if anyone reads it.
type explodingReader struct{ t *testing.T }

func (r explodingReader) Read([]byte) (int, error) {
	r.t.Fatal("the reader went past the header of an oversized frame")
	return 0, nil
}

func TestFrameTooLargeRejectedBeforeReading(t *testing.T) {
	for _, n := range []uint32{1025, 1 << 31, 1<<32 - 1} {
		hdr := make([]byte, headerLen)
		binary.BigEndian.PutUint32(hdr, n)
		hdr[4], hdr[5] = ProtocolVersion, kindData
		f := readerRW(io.MultiReader(bytes.NewReader(hdr), explodingReader{t}))
		if _, _, err := f.readFrame(1024); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("length %d: %v, want ErrFrameTooLarge", n, err)
		}
	}
	// Exactly the limit is fine.
	wire := encodeFrames(t, []byte{kindData}, [][]byte{make([]byte, 1024)})
	if _, p, err := readerRW(bytes.NewReader(wire)).readFrame(1024); err != nil || len(p) != 1024 {
		t.Fatalf("frame at the limit: %d bytes, %v", len(p), err)
	}
}

func TestFrameMalformed(t *testing.T) {
	good := encodeFrames(t, []byte{kindData}, [][]byte{[]byte("hello")})
	badVersion := bytes.Clone(good)
	badVersion[4] = ProtocolVersion + 1
	cases := []struct {
		name string
		wire []byte
		want error
	}{
		{"empty", nil, io.EOF},
		{"truncated header", good[:3], io.ErrUnexpectedEOF},
		{"truncated payload", good[:len(good)-1], io.ErrUnexpectedEOF},
		{"other version", badVersion, ErrProtocol},
	}
	for _, c := range cases {
		_, _, err := readerRW(bytes.NewReader(c.wire)).readFrame(1 << 10)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestPreamble(t *testing.T) {
	var buf bytes.Buffer
	f := newFrameRW(rw{nil, &buf})
	if err := f.writePreamble(); err != nil || f.w.Flush() != nil {
		t.Fatal(err)
	}
	if v, err := readerRW(bytes.NewReader(buf.Bytes())).readPreamble(); err != nil || v != ProtocolVersion {
		t.Fatalf("own preamble: version %d, %v", v, err)
	}
	if _, err := readerRW(bytes.NewReader([]byte("GET / HTTP/1.1\r\n"))).readPreamble(); !errors.Is(err, ErrProtocol) {
		t.Fatalf("HTTP request: %v, want ErrProtocol", err)
	}
	if _, err := readerRW(bytes.NewReader([]byte(magic))).readPreamble(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("magic without a version: %v, want io.ErrUnexpectedEOF", err)
	}
}
