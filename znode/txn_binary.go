package znode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Txn format 2: the txn written field by field, without reflection, into
// one buffer sized in advance (format 1, msgpack, is still read). After the
// format byte:
//
//	type (1 byte), session, time (varint), path (uvarint length + bytes),
//	data (uvarint: 0 for null, else length+1; then the bytes), ACL count
//	(uvarint), per entry perms (varint), scheme, id (uvarint length +
//	bytes), mode, TTL, version, timeout (varint), password (uvarint length
//	+ bytes), op count (uvarint), then each op in the same layout (ops
//	never hold ops).
//
// The Data of a create or a setData keeps null (nil) apart from empty; the
// Data of other txns and an empty Password read as nil, as in format 1.
const txnFormatBinary = 2

// minTxnBytes is the smallest encoded txn (every field one byte): a count
// above the bytes left divided by it is a lie.
const minTxnBytes = 12

var errTxnShort = errors.New("truncated")

// AppendTxn appends t's encoding (format byte included) to dst.
func AppendTxn(dst []byte, t *Txn) ([]byte, error) {
	if err := validateTxnShape(t); err != nil {
		return dst, err
	}
	if need := AppendTxnBound(t); cap(dst)-len(dst) < need {
		dst = append(make([]byte, 0, len(dst)+need), dst...)
	}
	dst = append(dst, txnFormatBinary)
	return appendTxnFields(dst, t), nil
}

// AppendTxnBound bounds the bytes AppendTxn appends for t: when dst has
// that much spare capacity, AppendTxn does not allocate.
func AppendTxnBound(t *Txn) int { return 1 + txnSize(t) }

// txnSize bounds the encoded size of t's fields.
func txnSize(t *Txn) int {
	const v = binary.MaxVarintLen64
	n := 1 + 9*v + len(t.Path) + len(t.Data) + len(t.Password)
	for _, a := range t.ACL {
		n += 3*v + len(a.Scheme) + len(a.ID)
	}
	for i := range t.Ops {
		n += txnSize(&t.Ops[i])
	}
	return n
}

func appendTxnFields(b []byte, t *Txn) []byte {
	b = append(b, byte(t.Type))
	b = binary.AppendVarint(b, t.Session)
	b = binary.AppendVarint(b, t.Time)
	b = appendBytes(b, []byte(t.Path))
	b = appendData(b, t)
	b = binary.AppendUvarint(b, uint64(len(t.ACL)))
	for _, a := range t.ACL {
		b = binary.AppendVarint(b, int64(a.Perms))
		b = appendBytes(b, []byte(a.Scheme))
		b = appendBytes(b, []byte(a.ID))
	}
	b = binary.AppendVarint(b, int64(t.Mode))
	b = binary.AppendVarint(b, t.TTL)
	b = binary.AppendVarint(b, int64(t.Version))
	b = binary.AppendVarint(b, int64(t.Timeout))
	b = appendBytes(b, t.Password)
	b = binary.AppendUvarint(b, uint64(len(t.Ops)))
	for i := range t.Ops {
		b = appendTxnFields(b, &t.Ops[i])
	}
	return b
}

// appendData appends t.Data: 0 for null (or for empty data outside a
// create or setData), else its length plus one, then the bytes.
func appendData(b []byte, t *Txn) []byte {
	if t.Data == nil || len(t.Data) == 0 && !carriesData(t.Type) {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(t.Data))+1)
	return append(b, t.Data...)
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// txnReader decodes format 2; the first error sticks.
type txnReader struct {
	b   []byte
	err error
}

func (r *txnReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %w", what, errTxnShort)
	}
}

func (r *txnReader) varint(what string) int64 {
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *txnReader) int32(what string) int32 {
	v := r.varint(what)
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail(what)
		return 0
	}
	return int32(v)
}

// count reads a uvarint count of items of at least min bytes each.
func (r *txnReader) count(what string, min int) int {
	v, k := binary.Uvarint(r.b)
	if k <= 0 || v > uint64(len(r.b)-k)/uint64(min) {
		r.fail(what)
		return 0
	}
	r.b = r.b[k:]
	return int(v)
}

// bytes reads a length-prefixed field; the result is a copy (nil if empty).
func (r *txnReader) bytes(what string) []byte {
	n := r.count(what, 1)
	if r.err != nil || n == 0 {
		return nil
	}
	out := append([]byte(nil), r.b[:n]...)
	r.b = r.b[n:]
	return out
}

// data reads what appendData wrote for a txn of type ty: nil for null (or
// empty outside a create or setData), else a non-nil copy.
func (r *txnReader) data(ty TxnType) []byte {
	v, k := binary.Uvarint(r.b)
	if k <= 0 || v > uint64(len(r.b)-k)+1 {
		r.fail("data")
		return nil
	}
	r.b = r.b[k:]
	if v == 0 || v == 1 && !carriesData(ty) {
		return nil
	}
	out := make([]byte, v-1)
	r.b = r.b[copy(out, r.b):]
	return out
}

func (r *txnReader) string(what string) string {
	n := r.count(what, 1)
	if r.err != nil {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// txn reads one txn's fields; ops (depth 0 only) are read recursively.
func (r *txnReader) txn(t *Txn, depth int) {
	if len(r.b) == 0 {
		r.fail("type")
		return
	}
	t.Type, r.b = TxnType(r.b[0]), r.b[1:]
	t.Session = r.varint("session")
	t.Time = r.varint("time")
	t.Path = r.string("path")
	t.Data = r.data(t.Type)
	if n := r.count("ACL count", 3); n > 0 {
		t.ACL = make([]ACL, n)
		for i := range t.ACL {
			t.ACL[i] = ACL{Perms: Perm(r.int32("perms")), Scheme: r.string("scheme"), ID: r.string("id")}
		}
	}
	t.Mode = CreateMode(r.int32("mode"))
	t.TTL = r.varint("ttl")
	t.Version = r.int32("version")
	t.Timeout = r.int32("timeout")
	t.Password = r.bytes("password")
	n := r.count("op count", minTxnBytes)
	if n > 0 && depth > 0 && r.err == nil {
		r.err = errors.New("ops inside an op")
		return
	}
	if n > 0 {
		t.Ops = make([]Txn, n)
		for i := range t.Ops {
			r.txn(&t.Ops[i], depth+1)
		}
	}
}

// decodeTxnBinary decodes format 2 (b without the format byte).
func decodeTxnBinary(b []byte) (Txn, error) {
	r := txnReader{b: b}
	var t Txn
	r.txn(&t, 0)
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return t, r.err
}
