package zab

import (
	"bytes"
	"reflect"
	"testing"
)

// TestCodecCoversEveryField fails when a field of Message or Entry is not
// carried by the codec: for each field (found by reflection, so a field
// added later is checked too), a message with only that field set to a
// non-zero value must come back from appendMessage/decodeMessage with the
// field intact. A field of a type this test cannot fill fails too.
func TestCodecCoversEveryField(t *testing.T) {
	mt := reflect.TypeOf(Message{})
	for i := 0; i < mt.NumField(); i++ {
		f := mt.Field(i)
		if f.Name == "Type" {
			continue // always encoded: the byte after the version
		}
		var m Message
		m.Type = MsgApp
		if !fill(t, reflect.ValueOf(&m).Elem().Field(i), f.Name) {
			continue
		}
		roundTrip(t, f.Name, &m)
	}
	et := reflect.TypeOf(Entry{})
	for i := 0; i < et.NumField(); i++ {
		f := et.Field(i)
		e := Entry{Zxid: 1, Data: []byte{1}} // an entry with both zero does not exist
		ev := reflect.ValueOf(&e).Elem().Field(i)
		ev.Set(reflect.Zero(ev.Type()))
		if !fill(t, ev, "Entry."+f.Name) {
			continue
		}
		roundTrip(t, "Entry."+f.Name, &Message{Type: MsgDiff, Entries: []Entry{e}})
	}
}

// fill sets v to a value that is not its zero, or fails the test.
func fill(t *testing.T, v reflect.Value, name string) bool {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(-0x3f)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(0xa7)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.String:
		v.SetString("s")
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte{9, 8, 7})
			return true
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		el := s.Index(0)
		if el.Kind() == reflect.Struct { // []Entry: every field set
			for j := 0; j < el.NumField(); j++ {
				if !fill(t, el.Field(j), name+"[0]."+el.Type().Field(j).Name) {
					return false
				}
			}
		} else if !fill(t, el, name+"[0]") {
			return false
		}
		v.Set(s)
	default:
		t.Errorf("%s: the test does not know how to fill a %v: extend the codec (wire.go) and this test", name, v.Type())
		return false
	}
	return true
}

func roundTrip(t *testing.T, name string, m *Message) {
	b := appendMessage(nil, m)
	if len(b) != encodedSize(m) {
		t.Errorf("%s: %d bytes, encodedSize says %d", name, len(b), encodedSize(m))
	}
	got, err := decodeMessage(b)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("%s is not carried by the codec: sent %+v, got %+v", name, m, got)
	}
	if b2 := appendMessage(nil, got); !bytes.Equal(b, b2) {
		t.Errorf("%s: encoding not canonical", name)
	}
}

// TestEncodedSize: encodedSize is exact for every sample message and for
// varints of every length.
func TestEncodedSize(t *testing.T) {
	msgs := sampleMessages()
	for _, v := range []int64{1, -1, 63, -64, 64, 1 << 20, -1 << 40, 1<<63 - 1, -1 << 63} {
		msgs = append(msgs, &Message{Type: MsgSnap, Zxid: v, Offset: v, ID: uint64(v), Data: make([]byte, 200)})
	}
	for _, m := range msgs {
		if b := appendMessage(nil, m); len(b) != encodedSize(m) {
			t.Errorf("%v: %d bytes, encodedSize says %d", m.Type, len(b), encodedSize(m))
		}
	}
}

func BenchmarkEncodeProposal(b *testing.B) {
	m := &Message{Type: MsgProposal, From: 3, Epoch: 4, Entries: []Entry{{Zxid: MakeZxid(4, 99), Data: make([]byte, 1100)}}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := EncodeMessage(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeProposal(b *testing.B) {
	m := &Message{Type: MsgProposal, From: 3, Epoch: 4, Entries: []Entry{{Zxid: MakeZxid(4, 99), Data: make([]byte, 1100)}}}
	enc, _ := EncodeMessage(m)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeMessage(enc); err != nil {
			b.Fatal(err)
		}
	}
}
