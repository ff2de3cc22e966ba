package wire_test

import (
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/embedzk/zk/internal/wire"
)

// fourLetter sends a four-letter word and returns the answer.
func fourLetter(t testing.TB, addr, word string) string {
	t.Helper()
	ans, err := askWord(addr, word)
	must(t, err)
	return ans
}

// askWord sends a four-letter word to addr and returns the whole answer.
func askWord(addr, word string) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write([]byte(word)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(nc)
	return string(b), err
}

func TestFourLetterWords(t *testing.T) {
	e := startPeer(t, peerConfig())
	addr := e.ClientAddr()
	dial(t, addr) // one client, for cons and stat
	want := map[string][]string{
		"ruok": {"imok"},
		"srvr": {"Zookeeper version: " + wire.Version + ", built on ", "Mode: standalone", "Node count: ", "Zxid: 0x"},
		"stat": {"Clients:", "/127.0.0.1:", "Mode: standalone"},
		"mntr": {"zk_server_state\tstandalone", "zk_znode_count\t", "zk_num_alive_connections\t"},
		"conf": {"clientPort=", "dataDir=/zk", "tickTime=500", "zk.clientIO=" + wire.ExpectedClientIO() + "\n"},
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
	// The version in ZooKeeper 3.8's shape, which clients parse
	// ("3.8.0-<rev>, built on 2022-02-25 08:49 UTC"): srvr's line, mntr's
	// zk_version and envi's zookeeper.version.
	version := `3\.8\.0-zk, built on \d{4}-\d\d-\d\d \d\d:\d\d UTC`
	for word, re := range map[string]string{
		"srvr": `(?m)^Zookeeper version: ` + version + `$`,
		"mntr": `(?m)^zk_version\t` + version + `$`,
		"envi": `(?m)^zookeeper\.version=` + version + `$`,
	} {
		if got := fourLetter(t, addr, word); !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("%s: the version is not in ZooKeeper's shape %s:\n%s", word, re, got)
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
	if got := fourLetter(t, e.ClientAddr(), "isro"); got != "isro is not executed because it is not in the whitelist.\n" {
		t.Fatalf("isro without read-only mode: %q", got)
	}
	cfg = peerConfig()
	cfg.FourLetterWords, cfg.ReadOnlyMode = []string{"ruok"}, true
	if got := fourLetter(t, startPeer(t, cfg).ClientAddr(), "isro"); got != "rw" {
		t.Fatalf("isro with read-only mode (allowed, as ZooKeeper adds it): %q", got)
	}
}

// TestMntrMetrics: with Config.Registerer, mntr adds the peer's metrics as
// ZooKeeper's Prometheus provider dumps them (zk_<sample>\t<double>), each
// name once; without, it has none of them.
func TestMntrMetrics(t *testing.T) {
	cfg := peerConfig()
	cfg.Registerer = prometheus.NewRegistry()
	e := startPeer(t, cfg)
	c, _ := dial(t, e.ClientAddr())
	if _, err := c.Create("/a", []byte("x"), 0, gozk.WorldACL(gozk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Get("/a"); err != nil {
		t.Fatal(err)
	}
	got := fourLetter(t, e.ClientAddr(), "mntr")
	for _, p := range []string{"zk_server_state\tstandalone\n", "zk_proposal_count\t2.0\n", // createSession, create
		"zk_updatelatency_count\t2.0\n", // createSession, and the create the client pipelined
		"zk_readlatency_count\t1.0\n",
		"zk_fsynctime{quantile=\"0.5\"}\t", "zk_fsynctime_count\t", "zk_approximate_data_size\t"} {
		if !strings.Contains(got, p) {
			t.Errorf("mntr lacks %q:\n%s", p, got)
		}
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		key, _, _ := strings.Cut(line, "\t")
		if seen[key] {
			t.Errorf("mntr has %s twice", key)
		}
		seen[key] = true
	}

	// The request latency: whole milliseconds for the minimum and maximum,
	// the mean as a Java double.
	if !regexp.MustCompile("\nzk_avg_latency\t[0-9]+\\.[0-9]{1,4}\n").MatchString(got) {
		t.Errorf("mntr's zk_avg_latency:\n%s", got)
	}
	if srvr := fourLetter(t, e.ClientAddr(), "srvr"); !regexp.MustCompile("Latency min/avg/max: [0-9]+/[0-9]+\\.[0-9]{1,4}/[0-9]+\n").MatchString(srvr) {
		t.Errorf("srvr's latency:\n%s", srvr)
	}

	// Without a Registerer: no metrics, but the four-letter words' own
	// statistics, as ZooKeeper keeps them whatever its metrics provider.
	plain := startPeer(t, peerConfig())
	if got := fourLetter(t, plain.ClientAddr(), "mntr"); strings.Contains(got, "zk_proposal_count") || !strings.Contains(got, "zk_avg_latency\t0.0\n") {
		t.Errorf("mntr without a Registerer, before any request:\n%s", got)
	}
	c2, _ := dial(t, plain.ClientAddr())
	if _, _, err := c2.Get("/"); err != nil {
		t.Fatal(err)
	}
	if srvr := fourLetter(t, plain.ClientAddr(), "srvr"); !regexp.MustCompile("Latency min/avg/max: [0-9]+/[0-9]+\\.[0-9]{1,4}/[0-9]+\nReceived: [3-9]\n").MatchString(srvr) {
		t.Errorf("srvr without a Registerer, after a connect and a read:\n%s", srvr)
	}
}
