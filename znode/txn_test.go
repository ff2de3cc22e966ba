package znode

import (
	"errors"
	"testing"

	"github.com/embedzk/zk/internal/codec"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func sampleTxns() []Txn {
	return []Txn{
		{Type: TxnCreate, Session: 9, Time: 1700000000000, Path: "/a/b", Data: []byte("x"), ACL: OpenACLUnsafe(), Mode: ModeEphemeralSequential},
		{Type: TxnCreate, Path: "/t", Mode: ModePersistentWithTTL, TTL: MaxTTL, ACL: []ACL{{PermRead, SchemeIP, "::1"}}},
		{Type: TxnDelete, Path: "/a", Version: -1},
		{Type: TxnSetData, Path: "/a", Data: make([]byte, 1000), Version: 3, Time: -1},
		{Type: TxnSetACL, Path: "/a", ACL: CreatorAllACL(), Version: -1},
		{Type: TxnMulti, Session: -4, Time: 3, Ops: []Txn{
			{Type: TxnCheck, Path: "/a", Version: 1},
			{Type: TxnCreate, Path: "/b", ACL: OpenACLUnsafe()},
			{Type: TxnSetData, Path: "/b", Data: []byte("y"), Version: -1},
			{Type: TxnDelete, Path: "/c", Version: 0},
		}},
		{Type: TxnCreateSession, Session: 1 << 56, Timeout: 30000, Password: []byte{1, 2, 3}},
		{Type: TxnCloseSession, Session: 1 << 56},
		{Type: TxnDeleteContainer, Path: "/c", Time: 99},
		{Type: TxnNoop},
		*SetQuotaTxn("/q", QuotaLimits{Count: -1, Bytes: 10, CountHard: 5, BytesHard: -1}),
		*DeleteQuotaTxn("/q", QuotaFieldCount|QuotaFieldBytesHard),
	}
}

var txnOpts = cmpopts.EquateEmpty()

func TestTxnRoundTrip(t *testing.T) {
	for _, txn := range sampleTxns() {
		b, err := EncodeTxn(&txn)
		if err != nil {
			t.Fatalf("encode %+v: %v", txn, err)
		}
		got, err := DecodeTxn(b)
		if err != nil {
			t.Fatalf("decode %+v: %v", txn, err)
		}
		if diff := cmp.Diff(txn, *got, txnOpts); diff != "" {
			t.Fatalf("round trip (-in +out):\n%s", diff)
		}
	}
}

func TestDecodeTxnRejects(t *testing.T) {
	enc := func(txn Txn) []byte {
		// Encode the wire form directly, bypassing EncodeTxn's own checks.
		w := toWire(&txn)
		b, err := codec.Append([]byte{txnFormat}, &w)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good, _ := EncodeTxn(&Txn{Type: TxnNoop})
	cases := map[string][]byte{
		"empty":             nil,
		"format":            append([]byte{3}, good[1:]...),
		"garbage":           {1, 0xc1},
		"trailing":          append(append([]byte{}, good...), 0),
		"type 0":            enc(Txn{}),
		"type 13":           enc(Txn{Type: 13}),
		"ops outside multi": enc(Txn{Type: TxnCreate, Ops: []Txn{{Type: TxnCheck}}}),
		"nested multi":      enc(Txn{Type: TxnMulti, Ops: []Txn{{Type: TxnMulti}}}),
		"session op":        enc(Txn{Type: TxnMulti, Ops: []Txn{{Type: TxnCloseSession}}}),
		"op with ops":       enc(Txn{Type: TxnMulti, Ops: []Txn{{Type: TxnCheck, Ops: []Txn{{Type: TxnCheck}}}}}),
	}
	for name, b := range cases {
		if _, err := DecodeTxn(b); !errors.Is(err, zkerr.ErrMarshalling) {
			t.Errorf("%s: DecodeTxn = %v, want ErrMarshalling", name, err)
		}
	}
	if _, err := EncodeTxn(&Txn{Type: 42}); !errors.Is(err, zkerr.ErrMarshalling) {
		t.Errorf("EncodeTxn of a bad type = %v", err)
	}
}

// TestTxnFormat1StillDecodes: logs written with the msgpack format read
// back as they were written.
func TestTxnFormat1StillDecodes(t *testing.T) {
	for _, txn := range sampleTxns() {
		w := toWire(&txn)
		b, err := codec.Append([]byte{txnFormat}, &w)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeTxn(b)
		if err != nil {
			t.Fatalf("decode %+v: %v", txn, err)
		}
		if diff := cmp.Diff(txn, *got, txnOpts); diff != "" {
			t.Fatalf("format 1 (-in +out):\n%s", diff)
		}
	}
}

// TestDecodeTxnBinaryRejects: format 2 refuses what format 1 refuses,
// every truncation of a valid txn, and counts larger than the bytes left.
func TestDecodeTxnBinaryRejects(t *testing.T) {
	enc := func(txn Txn) []byte {
		return appendTxnFields([]byte{txnFormatBinary}, &txn) // no shape checks
	}
	cases := map[string][]byte{
		"type 0":            enc(Txn{}),
		"type 13":           enc(Txn{Type: 13}),
		"ops outside multi": enc(Txn{Type: TxnCreate, Ops: []Txn{{Type: TxnCheck}}}),
		"nested multi":      enc(Txn{Type: TxnMulti, Ops: []Txn{{Type: TxnMulti}}}),
		"session op":        enc(Txn{Type: TxnMulti, Ops: []Txn{{Type: TxnCloseSession}}}),
		"op with ops":       enc(Txn{Type: TxnMulti, Ops: []Txn{{Type: TxnCheck, Ops: []Txn{{Type: TxnCheck}}}}}),
		"trailing":          append(enc(Txn{Type: TxnNoop}), 0),
		"lying ACL count":   {txnFormatBinary, byte(TxnCreate), 0, 0, 0, 0, 0x7f},
		"lying data length": {txnFormatBinary, byte(TxnCreate), 0, 0, 0, 0x7f},
		"lying op count":    {txnFormatBinary, byte(TxnMulti), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1},
		"version overflow":  {txnFormatBinary, byte(TxnDelete), 0, 0, 0, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10},
	}
	for name, b := range cases {
		if _, err := DecodeTxn(b); !errors.Is(err, zkerr.ErrMarshalling) {
			t.Errorf("%s: DecodeTxn = %v, want ErrMarshalling", name, err)
		}
	}
	for _, txn := range sampleTxns() {
		b, err := EncodeTxn(&txn)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(b); n++ {
			if _, err := DecodeTxn(b[:n]); !errors.Is(err, zkerr.ErrMarshalling) {
				t.Fatalf("%+v cut at %d of %d bytes: DecodeTxn = %v, want ErrMarshalling", txn, n, len(b), err)
			}
		}
	}
}

func FuzzDecodeTxn(f *testing.F) {
	for _, txn := range sampleTxns() {
		b, _ := EncodeTxn(&txn)
		f.Add(b)
		w := toWire(&txn)
		if b, err := codec.Append([]byte{txnFormat}, &w); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		txn, err := DecodeTxn(b)
		if err != nil {
			return
		}
		again, err := EncodeTxn(txn)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		txn2, err := DecodeTxn(again)
		if err != nil {
			t.Fatalf("decode re-encoded: %v", err)
		}
		if diff := cmp.Diff(*txn, *txn2, txnOpts); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
