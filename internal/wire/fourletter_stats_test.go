package wire_test

import (
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
)

// consLineOf returns the cons line of the connection at local address
// addr ("" if it is not listed).
func consLineOf(t *testing.T, server, addr string) string {
	t.Helper()
	for _, line := range strings.Split(fourLetter(t, server, "cons"), "\n") {
		if strings.HasPrefix(line, " /"+addr+"[") {
			return line
		}
	}
	return ""
}

// consUntil asks cons until the line of the connection at addr satisfies
// ok (for 10 seconds at most) and returns the last line seen: a reply
// counts as sent once its write returned, which may be after the client
// read it.
func consUntil(t *testing.T, server, addr string, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		line := consLineOf(t, server, addr)
		if ok(line) || time.Now().After(deadline) {
			return line
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConsAndResets: cons shows each connection as ZooKeeper 3.8's
// dumpConnectionInfo does (the last op as FinalRequestProcessor names it,
// NA for a write that failed, the last real cxid, latencies in ms), the
// four-letter word's own connection in the short form; crst and srst reset
// what ZooKeeper resets. Raw requests: no client pings to move the counts.
func TestConsAndResets(t *testing.T) {
	addr, r, resp := rawSession(t)
	local := r.nc.LocalAddr().String()
	sid := fmt.Sprintf("0x%x", uint64(resp.SessionID))

	want := regexp.MustCompile(`^ /` + regexp.QuoteMeta(local) + `\[1\]\(queued=0,recved=1,sent=1,sid=` + sid +
		`,lop=SESS,est=[0-9]+,to=4000,lcxid=0x0,lzxid=0x[0-9a-f]+,lresp=[0-9]+,llat=[0-9]+,minlat=0,avglat=[0-9]+,maxlat=[0-9]+\)$`)
	if line := consUntil(t, addr, local, want.MatchString); !want.MatchString(line) {
		t.Fatalf("after the connect, cons line %q", line)
	}

	createRaw(r, "/a", 0)                                                           // xid 1
	h, _, _ := r.call(jute.OpCreate, &jute.CreateRequest{Path: "/a", ACL: openACL}) // xid 2: exists
	if h.Err == 0 {
		t.Fatal("a second create of /a succeeded")
	}
	afterFailed := func(line string) bool {
		return strings.Contains(line, ",recved=3,sent=3,") && strings.Contains(line, ",lop=NA,") && strings.Contains(line, ",lcxid=0x2,")
	}
	if line := consUntil(t, addr, local, afterFailed); !afterFailed(line) {
		t.Errorf("after a failed create (ZooKeeper's error txn names no op): %q", line)
	}
	r.call(jute.OpPing, nil)                                         // keeps the last real cxid
	r.call(jute.OpGetData, &jute.PathWatchRequest{Path: "/missing"}) // xid 3, a failed read keeps its name
	afterRead := func(line string) bool {
		return strings.Contains(line, ",recved=5,sent=5,") && strings.Contains(line, ",lop=GETD,") && strings.Contains(line, ",lcxid=0x4,")
	}
	if line := consUntil(t, addr, local, afterRead); !afterRead(line) {
		t.Errorf("after a ping and a failed getData: %q", line)
	}

	// The word's own connection: counted as a packet received, short form.
	if cons := fourLetter(t, addr, "cons"); !regexp.MustCompile(`\[0\]\(queued=0,recved=1,sent=0\)\n`).MatchString(cons) {
		t.Errorf("cons lacks its own connection in the short form:\n%s", cons)
	}
	// stat lists the connections in the short form.
	if stat := fourLetter(t, addr, "stat"); !strings.Contains(stat, " /"+local+"[1](queued=0,recved=5,sent=5)\n") {
		t.Errorf("stat:\n%s", stat)
	}

	if got := fourLetter(t, addr, "crst"); got != "Connection stats reset.\n" {
		t.Fatalf("crst: %q", got)
	}
	want = regexp.MustCompile(`^ /` + regexp.QuoteMeta(local) + `\[1\]\(queued=0,recved=0,sent=0,sid=` + sid +
		`,lop=NA,est=[0-9]+,to=4000,lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=0,maxlat=0\)$`)
	if line := consLineOf(t, addr, local); !want.MatchString(line) {
		t.Errorf("after crst: %q", line)
	}

	// 5 requests and the words so far, each a packet received.
	if srvr := fourLetter(t, addr, "srvr"); !regexp.MustCompile(`\nReceived: ([6-9]|[1-9][0-9]+)\nSent: [1-9][0-9]*\n`).MatchString(srvr) {
		t.Errorf("srvr before srst:\n%s", srvr)
	}
	if got := fourLetter(t, addr, "srst"); got != "Server stats reset.\n" {
		t.Fatalf("srst: %q", got)
	}
	// As ZooKeeper: srst's own reply is sent after the reset, and srvr
	// counts itself.
	if srvr := fourLetter(t, addr, "srvr"); !strings.Contains(srvr, "Latency min/avg/max: 0/0.0/0\nReceived: 1\nSent: 1\n") {
		t.Errorf("srvr after srst:\n%s", srvr)
	}
}

// TestWatchWords: wchs, wchc and wchp describe ZooKeeper's data watch
// table, (session, path) pairs, with child watches left out; mntr's
// zk_watch_count adds the child table's pairs.
func TestWatchWords(t *testing.T) {
	addr, r, resp := rawSession(t)
	sid := fmt.Sprintf("0x%x", uint64(resp.SessionID))
	createRaw(r, "/a", 0)
	r.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/a", Watch: true}, nil)
	r.ok(jute.OpExists, &jute.PathWatchRequest{Path: "/a", Watch: true}, nil) // the same pair
	if h, _, _ := r.call(jute.OpExists, &jute.PathWatchRequest{Path: "/b", Watch: true}); h.Err != int32(zkerr.CodeNoNode) {
		t.Fatalf("exists of a missing node: %d", h.Err) // and its watch is set
	}
	r.ok(jute.OpGetChildren, &jute.PathWatchRequest{Path: "/", Watch: true}, nil)

	if got := fourLetter(t, addr, "wchs"); got != "1 connections watching 2 paths\nTotal watches:2\n" {
		t.Errorf("wchs: %q", got)
	}
	if got, want := fourLetter(t, addr, "wchc"), sid+"\n\t/a\n\t/b\n\n"; got != want {
		t.Errorf("wchc: %q, want %q", got, want)
	}
	if got, want := fourLetter(t, addr, "wchp"), "/a\n\t"+sid+"\n/b\n\t"+sid+"\n\n"; got != want {
		t.Errorf("wchp: %q, want %q", got, want)
	}
	if got := fourLetter(t, addr, "mntr"); !strings.Contains(got, "\nzk_watch_count\t3\n") {
		t.Errorf("mntr's zk_watch_count (2 data pairs, 1 child pair):\n%s", got)
	}
}

// TestDirsAndNodeCount: dirs reports the data and log directories' bytes;
// srvr and mntr count the root twice, as ZooKeeper does; mntr has
// ZooKeeper's gauges without any metrics configured (response sizes, file
// descriptors on Unix).
func TestDirsAndNodeCount(t *testing.T) {
	addr, r, _ := rawSession(t)
	createRaw(r, "/a", 0)
	if got := fourLetter(t, addr, "dirs"); !regexp.MustCompile(`^datadir_size: [1-9][0-9]*\nlogdir_size: [1-9][0-9]*\n$`).MatchString(got) {
		t.Errorf("dirs: %q", got)
	}
	// /, /zookeeper, /zookeeper/quota, /zookeeper/config and /a, and the
	// root once more: what ZooKeeper reports for the same tree.
	if got := fourLetter(t, addr, "srvr"); !strings.Contains(got, "\nNode count: 6\n") {
		t.Errorf("srvr:\n%s", got)
	}
	r.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/a"}, nil)
	mntr := fourLetter(t, addr, "mntr")
	if !strings.Contains(mntr, "\nzk_znode_count\t6\n") {
		t.Errorf("mntr's zk_znode_count:\n%s", mntr)
	}
	// Response frames without their length prefix, as ZooKeeper's
	// BufferStats: the create's reply (a 16-byte header and the path, 6
	// bytes) and the getData's (the header, the data 4+1 bytes, a 68-byte
	// Stat); the connect response does not count.
	for _, kv := range []string{"zk_ephemerals_count\t0", "zk_global_sessions\t1", "zk_local_sessions\t0",
		"zk_last_client_response_size\t89", "zk_max_client_response_size\t89", "zk_min_client_response_size\t22"} {
		if !strings.Contains(mntr, "\n"+kv+"\n") {
			t.Errorf("mntr lacks %q:\n%s", kv, mntr)
		}
	}
	fds := regexp.MustCompile(`\nzk_open_file_descriptor_count\t[1-9][0-9]*\nzk_max_file_descriptor_count\t[1-9][0-9]*\n`)
	if runtime.GOOS != "windows" && !fds.MatchString(mntr) {
		t.Errorf("mntr's file descriptors:\n%s", mntr)
	}
}

// TestConfShape: conf prints ZooKeeper's dumpConf keys in its order, then
// zk's own; a standalone peer is server 0; an ensemble's peer adds the
// quorum's keys and the membership in effect, ending as ZooKeeper's does
// with the version and no newline.
func TestConfShape(t *testing.T) {
	e := startPeer(t, peerConfig())
	got := fourLetter(t, e.ClientAddr(), "conf")
	want := regexp.MustCompile(`^clientPort=[0-9]+\nsecureClientPort=-1\ndataDir=/zk\ndataDirSize=[0-9]+\ndataLogDir=/zk/log\n` +
		`dataLogSize=[1-9][0-9]*\ntickTime=500\nmaxClientCnxns=[0-9]+\nminSessionTimeout=1000\nmaxSessionTimeout=10000\n` +
		`clientPortListenBacklog=-1\nserverId=0\nclientPortAddress=127.0.0.1\nzk.clientIO=[a-z_]+\n$`)
	if !want.MatchString(got) {
		t.Errorf("standalone conf:\n%s", got)
	}

	peers := startCluster(t, 3)
	// The leader's srvr adds its proposal sizes (srst resets them).
	leaders := 0
	for _, p := range peers {
		if p.Status().Mode != engine.ModeLeading {
			continue
		}
		leaders++
		srvr := fourLetter(t, p.ClientAddr(), "srvr")
		if !regexp.MustCompile(`\nMode: leader\nNode count: [0-9]+\nProposal sizes last/min/max: [1-9][0-9]*/[1-9][0-9]*/[1-9][0-9]*\n$`).MatchString(srvr) {
			t.Errorf("the leader's srvr:\n%s", srvr)
		}
		fourLetter(t, p.ClientAddr(), "srst")
		if srvr := fourLetter(t, p.ClientAddr(), "srvr"); !strings.HasSuffix(srvr, "\nProposal sizes last/min/max: -1/-1/-1\n") {
			t.Errorf("the leader's srvr after srst:\n%s", srvr)
		}
	}
	if leaders != 1 {
		t.Fatalf("%d leaders", leaders)
	}
	got = fourLetter(t, peers[1].ClientAddr(), "conf")
	want = regexp.MustCompile(`\nserverId=2\n(.|\n)*\ninitLimit=[0-9]+\nsyncLimit=[0-9]+\nelectionAlg=3\nelectionPort=3002\nquorumPort=2002\npeerType=0\n` +
		`membership: \nserver\.1=inmem:2001:3001:participant\nserver\.2=inmem:2002:3002:participant\nserver\.3=inmem:2003:3003:participant\nversion=[0-9a-f]+$`)
	if !want.MatchString(got) {
		t.Errorf("an ensemble peer's conf:\n%s", got)
	}
}

// TestFourLetterWordsUnderLoad asks every word, resets included, while
// clients write, read and watch: the words' statistics are shared with
// every connection (the race detector watches them), and the traffic goes
// on untouched.
func TestFourLetterWordsUnderLoad(t *testing.T) {
	e := startPeer(t, peerConfig())
	addr := e.ClientAddr()
	const clients, ops = 6, 150
	done := make(chan error, clients)
	for i := range clients {
		c, _ := dial(t, addr)
		go func() {
			var err error
			for j := 0; j < ops && err == nil; j++ {
				p := fmt.Sprintf("/load-%d-%d", i, j/4%10) // created by the first op of its four
				switch j % 4 {
				case 0:
					_, err = c.Create(p, []byte("x"), int32(i%2)*gozk.FlagEphemeral, open) // dump lists half
					if errors.Is(err, gozk.ErrNodeExists) {
						err = nil
					}
				case 1:
					_, err = c.Set(p, []byte("y"), -1)
				case 2:
					_, _, _, err = c.GetW(p)
				case 3:
					_, _, _, err = c.ChildrenW("/")
				}
			}
			done <- err
		}()
	}
	words := []string{"ruok", "srvr", "stat", "mntr", "conf", "cons", "envi", "isro", "wchs", "wchc", "wchp", "crst", "srst", "dirs", "dump", "gtmk"}
	for finished, n := 0, 0; finished < clients; n++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished++
		default:
			if got := fourLetter(t, addr, words[n%len(words)]); got == "" {
				t.Fatalf("%s: no answer under load", words[n%len(words)])
			}
		}
	}
	if srvr := fourLetter(t, addr, "srvr"); !regexp.MustCompile(`Latency min/avg/max: [0-9]+/[0-9.E]+/[0-9]+\nReceived: [0-9]+\nSent: [0-9]+\n`).MatchString(srvr) {
		t.Errorf("srvr after the load:\n%s", srvr)
	}
}
