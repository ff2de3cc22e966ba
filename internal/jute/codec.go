package jute

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/embedzk/zk/internal/zkerr"
)

// ErrMalformed wraps every decoding failure; it matches zkerr.ErrMarshalling.
var ErrMalformed = fmt.Errorf("%w: malformed jute record", zkerr.ErrMarshalling)

// Record is one jute record.
type Record interface {
	Encode(e *Encoder)
	Decode(d *Decoder)
}

// Decoder reads jute fields from one byte slice. The first error sticks.
type Decoder struct {
	b   []byte
	off int
	err error
}

// NewDecoder returns a Decoder over b (which it does not copy).
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Reset makes d read b from its start, with no error.
func (d *Decoder) Reset(b []byte) { *d = Decoder{b: b} }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Remaining returns the number of bytes not read yet.
func (d *Decoder) Remaining() int { return len(d.b) - d.off }

// Fail records err (wrapped in ErrMalformed) unless an error is already set.
func (d *Decoder) Fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

func (d *Decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > d.Remaining() {
		d.Fail("%s: %d bytes wanted, %d left", what, n, d.Remaining())
		return nil
	}
	b := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return b
}

// Int reads a jute int (4 bytes, big-endian).
func (d *Decoder) Int() int32 {
	b := d.take(4, "int")
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

// Long reads a jute long (8 bytes, big-endian).
func (d *Decoder) Long() int64 {
	b := d.take(8, "long")
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// Bool reads a jute boolean (one byte; non-zero is true).
func (d *Decoder) Bool() bool {
	b := d.take(1, "boolean")
	return b != nil && b[0] != 0
}

// length reads a length or count: -1 (null) or 0..Remaining()/minSize.
func (d *Decoder) length(what string, minSize int) int { return d.count(d.Int(), what, minSize) }

// count checks a length or count n that length read.
func (d *Decoder) count(n int32, what string, minSize int) int {
	if d.err != nil {
		return 0
	}
	switch {
	case n == -1:
		return -1
	case n < 0:
		d.Fail("%s: negative length %d", what, n)
		return 0
	case int64(n)*int64(minSize) > int64(d.Remaining()):
		d.Fail("%s: length %d exceeds the %d bytes left", what, n, d.Remaining())
		return 0
	}
	return int(n)
}

// Buffer reads a jute buffer; null decodes as nil. The slice aliases the
// decoder's input.
func (d *Decoder) Buffer() []byte {
	n := d.length("buffer", 1)
	if n <= 0 {
		if n == 0 && d.err == nil {
			return []byte{}
		}
		return nil
	}
	return d.take(n, "buffer")
}

// String reads a jute ustring; null decodes as "".
func (d *Decoder) String() string { return string(d.ustring()) }

// ustring reads a jute ustring's bytes (nil for null or empty), which
// alias the decoder's input.
func (d *Decoder) ustring() []byte {
	n := d.length("ustring", 1)
	if n <= 0 {
		return nil
	}
	return d.take(n, "ustring")
}

// knownStrings are the ACL schemes and ids most requests carry (ZooKeeper's
// OPEN_ACL_UNSAFE is world:anyone, CREATOR_ALL_ACL auth:""): knownString
// returns them without allocating.
var knownStrings = [...]string{"world", "anyone", "auth", "digest", "ip", "x509", "sasl", "super"}

// knownString reads a ustring as String does, returning one of knownStrings
// (no allocation) when it is one.
func (d *Decoder) knownString() string {
	b := d.ustring()
	for _, k := range knownStrings {
		if string(b) == k {
			return k
		}
	}
	return string(b)
}

// VectorLen reads a vector's count: -1 for null, 0 for a count below -1 (an
// empty vector, as ZooKeeper's BinaryInputArchive reads one), else a count
// whose elements, at minSize bytes each at least, fit in the bytes left.
func (d *Decoder) VectorLen(minSize int) int {
	n := d.Int()
	if n < -1 {
		return 0
	}
	return d.count(n, "vector", minSize)
}

// Strings reads a vector<ustring>; null decodes as nil.
func (d *Decoder) Strings() []string {
	n := d.VectorLen(4)
	if n < 0 || d.err != nil {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.String()
	}
	if d.err != nil {
		return nil
	}
	return out
}

// Encoder appends jute fields to a byte slice.
type Encoder struct {
	B []byte
}

// Int appends a jute int.
func (e *Encoder) Int(v int32) { e.B = binary.BigEndian.AppendUint32(e.B, uint32(v)) }

// Long appends a jute long.
func (e *Encoder) Long(v int64) { e.B = binary.BigEndian.AppendUint64(e.B, uint64(v)) }

// Bool appends a jute boolean.
func (e *Encoder) Bool(v bool) {
	if v {
		e.B = append(e.B, 1)
	} else {
		e.B = append(e.B, 0)
	}
}

// Buffer appends a jute buffer; nil encodes as null (-1), as ZooKeeper's
// Java serializer writes a null array.
func (e *Encoder) Buffer(b []byte) {
	if b == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(b)))
	e.B = append(e.B, b...)
}

// String appends a jute ustring.
func (e *Encoder) String(s string) {
	e.Int(int32(len(s)))
	e.B = append(e.B, s...)
}

// Strings appends a vector<ustring>; nil encodes as null (-1).
func (e *Encoder) Strings(v []string) {
	if v == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(v)))
	for _, s := range v {
		e.String(s)
	}
}

// Marshal appends the encoding of the records to b.
func Marshal(b []byte, recs ...Record) []byte {
	e := Encoder{B: b}
	for _, r := range recs {
		r.Encode(&e)
	}
	return e.B
}

// Unmarshal decodes b into r; trailing bytes are an error.
func Unmarshal(b []byte, r Record) error {
	d := NewDecoder(b)
	r.Decode(d)
	if d.err == nil && d.Remaining() != 0 {
		d.Fail("%d trailing bytes", d.Remaining())
	}
	return d.err
}

// IsMalformed reports whether err is a decoding failure.
func IsMalformed(err error) bool { return errors.Is(err, ErrMalformed) }
