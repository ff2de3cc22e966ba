package znode

import (
	"fmt"

	"github.com/embedzk/zk/internal/codec"
	"github.com/embedzk/zk/internal/zkerr"
)

// Txn encoding, for the log and the wire: one format-version byte, then the
// txn. Format 2 (txn_binary.go) is written. Format 1, still read, is the
// txn as a msgpack map with short keys (internal/codec). Zero fields are
// left out, so an empty Password decodes as nil. The Data of a create or a
// setData is null (nil) only with the "nd" flag, and otherwise a non-nil
// slice, empty when "d" is missing: txns logged before null data was kept
// apart have no flag and replay as empty data, as they were served.
const txnFormat = 1

type wireACL struct {
	Perms  int32  `codec:"p"`
	Scheme string `codec:"s"`
	ID     string `codec:"i"`
}

type wireTxn struct {
	Type     uint8     `codec:"t"`
	Session  int64     `codec:"s,omitempty"`
	Time     int64     `codec:"tm,omitempty"`
	Path     string    `codec:"p,omitempty"`
	Data     []byte    `codec:"d,omitempty"`
	NullData bool      `codec:"nd,omitempty"`
	ACL      []wireACL `codec:"a,omitempty"`
	Mode     int32     `codec:"m,omitempty"`
	TTL      int64     `codec:"ttl,omitempty"`
	Version  int32     `codec:"v,omitempty"`
	Timeout  int32     `codec:"to,omitempty"`
	Password []byte    `codec:"pw,omitempty"`
	Ops      []wireTxn `codec:"o,omitempty"`
}

func toWire(t *Txn) wireTxn {
	w := wireTxn{
		Type: uint8(t.Type), Session: t.Session, Time: t.Time, Path: t.Path, Data: t.Data,
		Mode: int32(t.Mode), TTL: t.TTL, Version: t.Version, Timeout: t.Timeout, Password: t.Password,
		NullData: carriesData(t.Type) && t.Data == nil,
	}
	if len(t.ACL) > 0 {
		w.ACL = make([]wireACL, len(t.ACL))
		for i, a := range t.ACL {
			w.ACL[i] = wireACL{Perms: int32(a.Perms), Scheme: a.Scheme, ID: a.ID}
		}
	}
	if len(t.Ops) > 0 {
		w.Ops = make([]wireTxn, len(t.Ops))
		for i := range t.Ops {
			w.Ops[i] = toWire(&t.Ops[i])
		}
	}
	return w
}

func fromWire(w *wireTxn) Txn {
	t := Txn{
		Type: TxnType(w.Type), Session: w.Session, Time: w.Time, Path: w.Path, Data: w.Data,
		Mode: CreateMode(w.Mode), TTL: w.TTL, Version: w.Version, Timeout: w.Timeout, Password: w.Password,
	}
	if carriesData(t.Type) {
		switch {
		case w.NullData:
			t.Data = nil
		case t.Data == nil:
			t.Data = []byte{}
		}
	}
	if len(w.ACL) > 0 {
		t.ACL = make([]ACL, len(w.ACL))
		for i, a := range w.ACL {
			t.ACL[i] = ACL{Perms: Perm(a.Perms), Scheme: a.Scheme, ID: a.ID}
		}
	}
	if len(w.Ops) > 0 {
		t.Ops = make([]Txn, len(w.Ops))
		for i := range w.Ops {
			t.Ops[i] = fromWire(&w.Ops[i])
		}
	}
	return t
}

// carriesData reports whether a txn's Data is a node's data, in which nil
// (null) and empty differ.
func carriesData(t TxnType) bool { return t == TxnCreate || t == TxnSetData }

// EncodeTxn encodes t for the log and the wire (format 2).
func EncodeTxn(t *Txn) ([]byte, error) {
	return AppendTxn(nil, t)
}

// DecodeTxn decodes a txn. It is safe on untrusted bytes: it fails (with an
// error wrapping zkerr.ErrMarshalling) on a bad format byte, malformed
// msgpack, an unknown txn type, ops outside a multi, and multi ops that are
// not create, delete, setData or check (or that nest ops). It checks no
// semantics: Apply does.
func DecodeTxn(b []byte) (*Txn, error) {
	t := new(Txn)
	if err := DecodeTxnInto(t, b); err != nil {
		return nil, err
	}
	return t, nil
}

// DecodeTxnInto decodes a txn into t, as DecodeTxn does, so that a caller
// may keep t on its stack. t is overwritten, also on a failure.
func DecodeTxnInto(t *Txn, b []byte) error {
	switch {
	case len(b) > 0 && b[0] == txnFormatBinary:
		var err error
		if *t, err = decodeTxnBinary(b[1:]); err != nil {
			return fmt.Errorf("%w: txn: %w", zkerr.ErrMarshalling, err)
		}
	case len(b) > 0 && b[0] == txnFormat:
		var w wireTxn
		if err := codec.Unmarshal(b[1:], &w); err != nil {
			return fmt.Errorf("%w: %w", zkerr.ErrMarshalling, err)
		}
		*t = fromWire(&w)
	default:
		return fmt.Errorf("%w: txn format byte", zkerr.ErrMarshalling)
	}
	return validateTxnShape(t)
}

func validateTxnShape(t *Txn) error {
	if t.Type < TxnCreate || t.Type > TxnDeleteQuota {
		return fmt.Errorf("%w: txn type %d", zkerr.ErrMarshalling, t.Type)
	}
	if t.Type != TxnMulti && len(t.Ops) > 0 {
		return fmt.Errorf("%w: ops in a txn of type %d", zkerr.ErrMarshalling, t.Type)
	}
	for i := range t.Ops {
		op := &t.Ops[i]
		switch op.Type {
		case TxnCreate, TxnDelete, TxnSetData, TxnCheck:
		default:
			return fmt.Errorf("%w: multi op %d has type %d", zkerr.ErrMarshalling, i, op.Type)
		}
		if len(op.Ops) > 0 {
			return fmt.Errorf("%w: multi op %d has ops", zkerr.ErrMarshalling, i)
		}
	}
	return nil
}
