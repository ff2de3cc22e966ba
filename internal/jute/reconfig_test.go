package jute_test

import (
	"bytes"
	"testing"

	"github.com/embedzk/zk/internal/jute"
)

// TestReconfigRequestNulls: a null string (how ZooKeeper tells an
// incremental reconfig from a whole new list) is -1 on the wire and comes
// back nil; an empty one stays empty.
func TestReconfigRequestNulls(t *testing.T) {
	empty, add := "", "server.4=h:1:2;3"
	in := jute.ReconfigRequest{JoiningServers: &add, LeavingServers: &empty, CurConfigID: 0x100000002}
	b := jute.Marshal(nil, &in)
	want := []byte{0, 0, 0, byte(len(add))}
	want = append(append(want, add...), 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 2)
	if !bytes.Equal(b, want) {
		t.Fatalf("encoded % x, want % x", b, want)
	}
	var out jute.ReconfigRequest
	if err := jute.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.JoiningServers == nil || *out.JoiningServers != add || out.LeavingServers == nil || *out.LeavingServers != "" ||
		out.NewMembers != nil || out.CurConfigID != in.CurConfigID {
		t.Fatalf("decoded %+v", out)
	}
	if rec, known := jute.NewRequest(jute.OpReconfig); !known || rec == nil {
		t.Fatal("NewRequest does not know reconfig")
	}
}
