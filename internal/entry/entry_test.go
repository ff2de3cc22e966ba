package entry

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/embedzk/zk/znode"
)

func TestRoundTrip(t *testing.T) {
	in := Entry{Digest: 42, Origin: 3, ReqID: 1<<40 | 7, Failure: []byte("failed"), Txn: &znode.Txn{Type: znode.TxnCreate, Path: "/a", Data: []byte("x"), Session: 9, Time: 5,
		ACL: []znode.ACL{{Perms: znode.PermAll, Scheme: "world", ID: "anyone"}}}}
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Fatalf("round trip (-in +out):\n%s", diff)
	}
	for i := 0; i < len(b); i++ {
		if _, err := Decode(b[:i]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated at %d: %v", i, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := Encode(Entry{Txn: &znode.Txn{Type: znode.TxnSetData, Path: "/x", Version: -1}})
	f.Add(b)
	b, _ = Encode(Entry{Failure: []byte{1, 2}, Txn: &znode.Txn{Type: znode.TxnNoop}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Decode(data)
		if err != nil {
			return
		}
		again, err := Encode(e)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if _, err := Decode(again); err != nil {
			t.Fatalf("decode of re-encoded entry: %v", err)
		}
	})
}
