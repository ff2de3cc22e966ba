package wire_test

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/wire"
)

// fourLetter sends a four-letter word and returns the answer.
func fourLetter(t *testing.T, addr, word string) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	must(t, err)
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = nc.Write([]byte(word))
	must(t, err)
	b, err := io.ReadAll(nc)
	must(t, err)
	return string(b)
}

func TestFourLetterWords(t *testing.T) {
	e := startPeer(t, peerConfig())
	addr := e.ClientAddr()
	dial(t, addr) // one client, for cons and stat
	want := map[string][]string{
		"ruok": {"imok"},
		"srvr": {"Zookeeper version: " + wire.Version, "Mode: standalone", "Node count: ", "Zxid: 0x"},
		"stat": {"Clients:", "/127.0.0.1:", "Mode: standalone"},
		"mntr": {"zk_server_state\tstandalone", "zk_znode_count\t", "zk_num_alive_connections\t"},
		"conf": {"clientPort=", "dataDir=/zk", "tickTime=500"},
		"cons": {"/127.0.0.1:", "sid=0x"},
		"envi": {"Environment:", "zookeeper.version="},
		"isro": {"rw"},
		"wchs": {"connections watching", "Total watches:"},
	}
	for word, parts := range want {
		got := fourLetter(t, addr, word)
		for _, p := range parts {
			if !strings.Contains(got, p) {
				t.Errorf("%s: %q lacks %q", word, got, p)
			}
		}
	}
}

func TestFourLetterWhitelist(t *testing.T) {
	cfg := peerConfig()
	cfg.FourLetterWords = []string{"ruok"}
	e := startPeer(t, cfg)
	if got := fourLetter(t, e.ClientAddr(), "ruok"); got != "imok" {
		t.Fatalf("ruok: %q", got)
	}
	if got := fourLetter(t, e.ClientAddr(), "mntr"); got != "mntr is not executed because it is not in the whitelist.\n" {
		t.Fatalf("mntr: %q", got)
	}
	if got := fourLetter(t, e.ClientAddr(), "srvr"); !strings.Contains(got, "Mode: standalone") {
		t.Fatalf("srvr is always allowed: %q", got)
	}
}
