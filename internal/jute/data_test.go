package jute

import "testing"

// TestIdDecodeKnownStrings: the schemes and ids of common ACLs decode
// without an allocation, and any other string decodes as itself.
func TestIdDecodeKnownStrings(t *testing.T) {
	for _, id := range []Id{
		{Scheme: "world", ID: "anyone"},
		{Scheme: "auth", ID: ""},
		{Scheme: "digest", ID: "alice:XrY0="},
		{Scheme: "ip", ID: "10.0.0.0/8"},
		{Scheme: "worlds", ID: "any"},
		{Scheme: "", ID: "super"},
	} {
		var e Encoder
		id.Encode(&e)
		var got Id
		got.Decode(NewDecoder(e.B))
		if got != id {
			t.Fatalf("decoded %+v, want %+v", got, id)
		}
	}
	var e Encoder
	(&Id{Scheme: "world", ID: "anyone"}).Encode(&e)
	var d Decoder
	var got Id
	if n := testing.AllocsPerRun(100, func() { d.Reset(e.B); got.Decode(&d) }); n != 0 {
		t.Fatalf("decoding world:anyone allocates %v times, want 0", n)
	}
}

// TestVectorCounts: a vector count below -1 reads as an empty vector (not
// null), as ZooKeeper's BinaryInputArchive reads it; -1 is null; a count
// whose elements cannot fit in the bytes left fails before anything is
// allocated for them.
func TestVectorCounts(t *testing.T) {
	for _, c := range []struct {
		count   int32
		null    bool
		failure bool
	}{{-2, false, false}, {-1 << 31, false, false}, {-1, true, false}, {0, false, false}, {1 << 30, false, true}} {
		var e Encoder
		e.String("/p")
		e.Int(c.count)
		e.Int(0)
		var r SetACLRequest
		d := NewDecoder(e.B)
		r.Decode(d)
		var s Encoder
		s.Int(c.count)
		ds := NewDecoder(s.B)
		strs := ds.Strings()
		if (d.Err() != nil) != c.failure || (ds.Err() != nil) != c.failure {
			t.Errorf("count %d: errors %v and %v", c.count, d.Err(), ds.Err())
			continue
		}
		if !c.failure && ((r.ACL == nil) != c.null || len(r.ACL) != 0 || (strs == nil) != c.null || len(strs) != 0) {
			t.Errorf("count %d: ACL %#v, strings %#v; want null %v", c.count, r.ACL, strs, c.null)
		}
	}
}
