package engine

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/embedzk/zk/znode"
	"github.com/google/go-cmp/cmp"
)

// TestAppForwardBinary: a forwarded write takes the binary layout and
// comes back whole; the other kinds stay msgpack.
func TestAppForwardBinary(t *testing.T) {
	for _, m := range []*appMsg{
		{Kind: appForward, ReqID: 1<<40 | 7, Txn: []byte{2, 9, 9}},
		{Kind: appForward, ReqID: 3, Txn: []byte("txn"), Super: true,
			Ids: []znode.Identity{{Scheme: "digest", ID: "u:p"}, {Scheme: "ip", ID: ""}}},
		{Kind: appReply, ReqID: 3, Result: &wireResult{Code: -101, Path: "/a"}, Zxid: 9},
		{Kind: appTouch, Sessions: []int64{1, 2}},
	} {
		b, err := encodeApp(m)
		if err != nil {
			t.Fatal(err)
		}
		if binary := b[0] == appBinaryForward; binary != (m.Kind == appForward) {
			t.Errorf("kind %d: binary layout %v", m.Kind, binary)
		}
		got, err := decodeApp(b)
		if err != nil {
			t.Fatalf("kind %d: %v", m.Kind, err)
		}
		if diff := cmp.Diff(m, got); diff != "" {
			t.Errorf("kind %d (-sent +got):\n%s", m.Kind, diff)
		}
	}
}

// TestAppMsgFieldsCovered fails when a field of appMsg is lost by
// encodeApp on a forwarded write (a field added later and not handled by
// the binary layout must make encodeApp fall back to msgpack).
func TestAppMsgFieldsCovered(t *testing.T) {
	typ := reflect.TypeOf(appMsg{})
	for i := 0; i < typ.NumField(); i++ {
		m := appMsg{Kind: appForward, Txn: []byte{1}}
		f := reflect.ValueOf(&m).Elem().Field(i)
		if typ.Field(i).Name == "Kind" {
			continue
		}
		f.Set(reflect.Zero(f.Type()))
		if !fillValue(f) {
			t.Errorf("%s: the test cannot fill a %v: extend it", typ.Field(i).Name, f.Type())
			continue
		}
		b, err := encodeApp(&m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeApp(b)
		if err != nil {
			t.Fatalf("%s: %v", typ.Field(i).Name, err)
		}
		if !reflect.DeepEqual(got, &m) {
			t.Errorf("%s is lost: sent %+v, got %+v", typ.Field(i).Name, m, *got)
		}
	}
}

// fillValue sets v to something other than its zero value.
func fillValue(v reflect.Value) bool { return fillDepth(v, 0) }

// fillDepth leaves recursive types (a result's Multi) empty below depth 2.
func fillDepth(v reflect.Value, depth int) bool {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(-5)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.String:
		v.SetString("x")
	case reflect.Slice:
		if depth > 2 {
			return true
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		if !fillDepth(s.Index(0), depth+1) {
			return false
		}
		v.Set(s)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && !fillDepth(v.Field(i), depth+1) {
				return false
			}
		}
	case reflect.Map:
		m := reflect.MakeMapWithSize(v.Type(), 1)
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		if !fillDepth(k, depth+1) || !fillDepth(e, depth+1) {
			return false
		}
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if !fillDepth(p.Elem(), depth+1) {
			return false
		}
		v.Set(p)
	default:
		return false
	}
	return true
}

// TestEncodeForward: a forwarded write encoded with its txn in place is
// the bytes encodeApp makes of the encoded txn.
func TestEncodeForward(t *testing.T) {
	txn := &znode.Txn{Type: znode.TxnSetData, Session: 7, Path: "/a", Data: []byte("v"), Version: -1}
	ids := []znode.Identity{{Scheme: "digest", ID: "u:p"}, {Scheme: "ip", ID: "127.0.0.1"}}
	enc, err := znode.EncodeTxn(txn)
	if err != nil {
		t.Fatal(err)
	}
	want, err := encodeApp(&appMsg{Kind: appForward, ReqID: 300, Txn: enc, Ids: ids, Super: true, Epoch: 7})
	if err != nil {
		t.Fatal(err)
	}
	got, err := encodeForward(300, 7, true, ids, txn)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("encodeForward = %x, %v; want %x", got, err, want)
	}
	m, err := decodeApp(got)
	if err != nil || m.Epoch != 7 || m.ReqID != 300 || !bytes.Equal(m.Txn, enc) {
		t.Fatalf("decodeApp = %+v, %v", m, err)
	}
}

// TestDecodeForwardScratch: identities decode into the scratch's memory,
// reusing its equal strings, and come back right when they differ.
func TestDecodeForwardScratch(t *testing.T) {
	ids := []znode.Identity{{Scheme: "ip", ID: "127.0.0.1"}, {Scheme: "digest", ID: "u:p"}}
	b := appendForward(&appMsg{Kind: appForward, ReqID: 9, Txn: []byte("t"), Ids: ids})[1:]
	var m appMsg
	if err := decodeForward(&m, b, nil); err != nil || !reflect.DeepEqual(m.Ids, ids) {
		t.Fatalf("decodeForward = %v, %v", m.Ids, err)
	}
	scratch := m.Ids
	var again appMsg
	var err error
	allocs := testing.AllocsPerRun(10, func() { err = decodeForward(&again, b, scratch) })
	if err != nil || !reflect.DeepEqual(again.Ids, ids) {
		t.Fatalf("decodeForward again = %v, %v", again.Ids, err)
	}
	if allocs != 0 {
		t.Errorf("decoding the same identities over the scratch: %v allocations", allocs)
	}
	other := []znode.Identity{{Scheme: "ip", ID: "10.0.0.1"}}
	b = appendForward(&appMsg{Kind: appForward, ReqID: 9, Txn: []byte("t"), Ids: other})[1:]
	if err := decodeForward(&m, b, scratch); err != nil || !reflect.DeepEqual(m.Ids, other) {
		t.Fatalf("decodeForward of other identities = %v, %v", m.Ids, err)
	}
}

// TestDecodeAppRejects: malformed forwarded writes are errors, never a
// panic or an allocation the input cannot back.
func TestDecodeAppRejects(t *testing.T) {
	good := appendForward(&appMsg{Kind: appForward, ReqID: 300, Txn: []byte("t"),
		Ids: []znode.Identity{{Scheme: "s", ID: "i"}}})
	for name, b := range map[string][]byte{
		"tag only":          {appBinaryForward},
		"bad super":         {appBinaryForward, 1, 2, 0},
		"lying id count":    {appBinaryForward, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"lying string":      {appBinaryForward, 1, 0, 1, 0x7f, 's'},
		"truncated":         good[:6],
		"overflowing reqID": {appBinaryForward, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		if _, err := decodeApp(b); !errors.Is(err, errBadWire) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzDecodeApp: any bytes decode with an error or to a message that
// encodes and decodes back to itself.
func FuzzDecodeApp(f *testing.F) {
	f.Add(appendForward(&appMsg{Kind: appForward, ReqID: 3, Txn: []byte("t"), Super: true,
		Ids: []znode.Identity{{Scheme: "s", ID: "i"}}}))
	b, _ := encodeApp(&appMsg{Kind: appReply, ReqID: 3, Result: &wireResult{Code: -101}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeApp(b)
		if err != nil {
			return
		}
		b2, err := encodeApp(m)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		m2, err := decodeApp(b2)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if diff := cmp.Diff(m, m2); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
