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
