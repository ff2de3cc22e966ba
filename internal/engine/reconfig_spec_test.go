package engine

import (
	"errors"
	"reflect"
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
)

// TestParseReconfig: ZooKeeper's server strings, as its leader reads them.
func TestParseReconfig(t *testing.T) {
	got, err := ParseReconfig(" server.4=h4:2004:3004;2184 , 5=[::1]:2005:3005:observer;[::1]:2185", "1, 2,", "")
	if err != nil {
		t.Fatal(err)
	}
	want := ReconfigRequest{
		Add: []Server{
			{ID: 4, Host: "h4", QuorumPort: 2004, ElectionPort: 3004, ClientAddr: "0.0.0.0:2184"},
			{ID: 5, Host: "::1", QuorumPort: 2005, ElectionPort: 3005, Observer: true, ClientAddr: "[::1]:2185"},
		},
		Remove: []int64{1, 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("incremental: %+v, want %+v", got, want)
	}
	got, err = ParseReconfig("ignored", "ignored", "server.1=h1:1:2;2181,server.2=h2:1:2\nserver.3=h3:1:2:observer,group.1=1:2,weight.1=1,weight.2=2,version=100000000")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Members) != 3 || got.Members[0].ClientAddr != "0.0.0.0:2181" || got.Members[1].ClientAddr != "" ||
		!got.Members[2].Observer || !reflect.DeepEqual(got.Groups, [][]int64{{1, 2}}) || got.Weights[2] != 2 || got.Add != nil {
		t.Fatalf("members: %+v", got)
	}
	for _, bad := range []struct{ joining, leaving, members string }{
		{"server.4=h:1:2", "", ""},           // no client port
		{"server.4=h:1:1;3", "", ""},         // same ports
		{"server.4=h:1:2:boss;3", "", ""},    // role
		{"server.4=h:1:2;3;4", "", ""},       // two ';'
		{"server.4=a:1:2|b:1:2;3", "", ""},   // multiple addresses
		{"server.4=h:1:2;x", "", ""},         // client port
		{"server.4=h:1:2;h:99999", "", ""},   // client port range
		{"server.4", "", ""},                 // no '='
		{"server.4=h=1:2;3", "", ""},         // two '='
		{"server.four=h:1:2;3", "", ""},      // id
		{"", "one", ""},                      // leaving id
		{"", "", "server.1=h:1:2,nope=1"},    // unknown key
		{"", "", "server.x=h:1:2"},           // id
		{"", "", "server.1=h:5:5"},           // same ports
		{"", "", "server.1=h:1:2;2181;2182"}, // client part
		{"", "", "version=1"},                // no server
	} {
		if _, err := ParseReconfig(bad.joining, bad.leaving, bad.members); !errors.Is(err, zkerr.ErrBadArguments) {
			t.Errorf("ParseReconfig(%q, %q, %q): %v, want ErrBadArguments", bad.joining, bad.leaving, bad.members, err)
		}
	}
}
