// Package codec is the one place zk configures msgpack
// (github.com/hashicorp/go-msgpack/v2): every package that encodes a record
// or a message for the log or the wire goes through Marshal and Unmarshal, so
// all of them agree on the format.
//
// Unmarshal is meant for untrusted input: it never provisions a collection
// larger than the input could hold, so a lying length prefix cannot make it
// allocate. Decoded byte slices never alias the input.
//
// Encoders, decoders and encoding buffers are reused (sync.Pool): Marshal
// returns a slice of exactly the encoded length, allocated once, and a
// pooled decoder keeps no reference to its last input.
package codec

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// ErrDecode wraps every decoding failure.
var ErrDecode = errors.New("codec: malformed msgpack")

// maxInitLen bounds the length a decoder provisions for a collection before
// it has read that many elements. The decoder grows a longer collection
// by at most this many elements a step, copying it each time: at 4096, a
// 2 MiB byte slice (a request at zk's largest jute.maxbuffer) took a
// second to decode, about 1700 times its copy (BenchmarkUnmarshalBlob);
// at 256 Ki it takes a few milliseconds, and a lying length provisions no
// more than an honest request of that size decodes into.
const maxInitLen = 256 << 10

func newHandle() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{}
	h.WriteExt = true
	h.RawToString = true
	h.MaxInitLen = maxInitLen
	h.SignedInteger = true
	return h
}

// handle is immutable once built; go-msgpack handles are safe for concurrent
// use by many encoders and decoders.
var handle = newHandle()

// maxPooledBuf is the largest encoding buffer kept for reuse.
const maxPooledBuf = 64 << 10

var (
	encoders = sync.Pool{New: func() any {
		var b []byte
		return codec.NewEncoderBytes(&b, handle)
	}}
	decoders = sync.Pool{New: func() any { return codec.NewDecoderBytes(none, handle) }}
	buffers  = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}
	none     = []byte{} // a non-nil empty input: ResetBytes ignores nil
)

// Marshal encodes v.
func Marshal(v any) ([]byte, error) {
	return Append(nil, v)
}

// Append encodes v onto the end of dst and returns the extended slice
// (dst itself on error).
func Append(dst []byte, v any) ([]byte, error) {
	bp := buffers.Get().(*[]byte)
	buf := (*bp)[:0]
	e := encoders.Get().(*codec.Encoder)
	e.ResetBytes(&buf)
	err := e.Encode(v)
	e.ResetBytes(&none) // keep no reference to buf in the pool
	encoders.Put(e)
	if err == nil {
		if dst == nil {
			dst = make([]byte, 0, len(buf))
		}
		dst = append(dst, buf...)
	}
	if cap(buf) <= maxPooledBuf {
		*bp = buf[:0]
		buffers.Put(bp)
	}
	if err != nil {
		return dst, fmt.Errorf("codec: encode %T: %w", v, err)
	}
	return dst, nil
}

// Unmarshal decodes b into v, which must be a pointer. Trailing bytes after
// one value are an error.
func Unmarshal(b []byte, v any) (err error) {
	if b == nil {
		b = none
	}
	d := decoders.Get().(*codec.Decoder)
	defer func() {
		// The decoder reports most problems as errors, but be safe against a
		// panic on hostile input: a peer must never crash on a bad frame. A
		// decoder that panicked is not reused.
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrDecode, r)
			return
		}
		d.ResetBytes(none) // keep no reference to b in the pool
		decoders.Put(d)
	}()
	d.ResetBytes(b)
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%w: %T: %v", ErrDecode, v, err)
	}
	if n := d.NumBytesRead(); n != len(b) {
		return fmt.Errorf("%w: %T: %d trailing bytes", ErrDecode, v, len(b)-n)
	}
	return nil
}
