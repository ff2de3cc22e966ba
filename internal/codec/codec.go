// Package codec is the one place zk configures msgpack
// (github.com/hashicorp/go-msgpack/v2): every package that encodes a record
// or a message for the log or the wire goes through Marshal and Unmarshal, so
// all of them agree on the format.
//
// Unmarshal is meant for untrusted input: it never provisions a collection
// larger than the input could hold, so a lying length prefix cannot make it
// allocate. Decoded byte slices never alias the input.
package codec

import (
	"errors"
	"fmt"

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

// Marshal encodes v.
func Marshal(v any) ([]byte, error) {
	var b []byte
	if err := codec.NewEncoderBytes(&b, handle).Encode(v); err != nil {
		return nil, fmt.Errorf("codec: encode %T: %w", v, err)
	}
	return b, nil
}

// Append encodes v onto the end of dst and returns the extended slice.
func Append(dst []byte, v any) ([]byte, error) {
	b, err := Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// Unmarshal decodes b into v, which must be a pointer. Trailing bytes after
// one value are an error.
func Unmarshal(b []byte, v any) (err error) {
	defer func() {
		// The decoder reports most problems as errors, but be safe against a
		// panic on hostile input: a peer must never crash on a bad frame.
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrDecode, r)
		}
	}()
	d := codec.NewDecoderBytes(b, handle)
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%w: %T: %v", ErrDecode, v, err)
	}
	if n := d.NumBytesRead(); n != len(b) {
		return fmt.Errorf("%w: %T: %d trailing bytes", ErrDecode, v, len(b)-n)
	}
	return nil
}
