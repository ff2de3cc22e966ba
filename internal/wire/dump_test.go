package wire_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/wire"
)

// javaDateRE matches Java's Date.toString.
const javaDateRE = `[A-Z][a-z]{2} [A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [A-Za-z0-9+-]+ [0-9]{4}`

// TestDumpWord: dump shows, in ZooKeeper 3.8's layout, the leader's
// session expiry buckets, the ephemeral nodes by session, and the
// connections by when they would expire (the word's own connection among
// them, without a session).
func TestDumpWord(t *testing.T) {
	e := startPeer(t, peerConfig())
	addr := e.ClientAddr()
	before := time.Now()
	a, b := rawDial(t, addr), rawDial(t, addr)
	ra, rb := a.connect(jute.ConnectRequest{}), b.connect(jute.ConnectRequest{})
	createRaw(a, "/e2", 1)
	createRaw(a, "/e1", 1)
	createRaw(a, "/p", 0)
	createRaw(b, "/eb", 1)
	after := time.Now()
	got := fourLetter(t, addr, "dump")

	first, second := ra.SessionID, rb.SessionID
	firstPaths, secondPaths := "\t/e1\n\t/e2\n", "\t/eb\n"
	if second < first {
		first, second, firstPaths, secondPaths = second, first, secondPaths, firstPaths
	}
	sets := `(?:[12] expire at ` + javaDateRE + `:\n(?:\t0x[0-9a-f]+\n)+){1,2}`
	want := regexp.MustCompile(`^SessionTracker dump:\nSession Sets \([12]\)/\(2\):\n` + sets +
		`ephemeral nodes dump:\nSessions with Ephemerals \(2\):\n` +
		regexp.QuoteMeta(fmt.Sprintf("0x%x:\n%s0x%x:\n%s", first, firstPaths, second, secondPaths)) +
		`Connections dump:\nConnections Sets \([1-3]\)/\(3\):\n(?:[1-3] expire at ` + javaDateRE + `:\n(?:\tip: /127\.0\.0\.1:[0-9]+ sessionId: 0x[0-9a-f]+\n)+){1,3}$`)
	if !want.MatchString(got) {
		t.Fatalf("dump:\n%s", got)
	}
	for _, id := range []int64{ra.SessionID, rb.SessionID} {
		if !strings.Contains(got, fmt.Sprintf("\n\t0x%x\n", id)) {
			t.Errorf("session 0x%x is in no expiry bucket:\n%s", id, got)
		}
		if !strings.Contains(got, fmt.Sprintf(" sessionId: 0x%x\n", id)) {
			t.Errorf("the connection of session 0x%x is not listed:\n%s", id, got)
		}
	}
	if !strings.Contains(got, " sessionId: 0x0\n") {
		t.Errorf("the word's own connection is not listed:\n%s", got)
	}
	// A session expires its timeout after its last touch, at the leader's
	// next tick boundary; the buckets are TickTimes apart.
	tick := peerConfig().TickTime
	timeout := time.Duration(ra.TimeOut) * time.Millisecond
	for _, m := range regexp.MustCompile(`\n[12] expire at (`+javaDateRE+`):\n\t0x`).FindAllStringSubmatch(got, -1) {
		at, err := time.ParseInLocation("Mon Jan 02 15:04:05 MST 2006", m[1], time.Local)
		if err != nil {
			t.Fatal(err)
		}
		if lo, hi := before.Add(timeout-time.Second), after.Add(timeout+2*tick+time.Second); at.Before(lo) || at.After(hi) {
			t.Errorf("a session bucket expires at %v, want within [%v, %v]", at, lo, hi)
		}
	}
}

// TestDumpWordOnFollower: a follower lists the ensemble's sessions with
// their timeouts, as ZooKeeper's learners do, and the same ephemerals.
func TestDumpWordOnFollower(t *testing.T) {
	peers := startCluster(t, 3)
	var follower *engine.Ensemble
	for _, p := range peers {
		if p.Status().Mode == engine.ModeFollowing {
			follower = p
		}
	}
	if follower == nil {
		t.Fatal("no follower")
	}
	r := rawDial(t, follower.ClientAddr())
	resp := r.connect(jute.ConnectRequest{})
	createRaw(r, "/e", 1)
	got := fourLetter(t, follower.ClientAddr(), "dump")
	want := fmt.Sprintf("SessionTracker dump:\nGlobal Sessions(1):\n0x%x\t%dms\nephemeral nodes dump:\nSessions with Ephemerals (1):\n0x%x:\n\t/e\nConnections dump:\n",
		resp.SessionID, resp.TimeOut, resp.SessionID)
	if !strings.HasPrefix(got, want) {
		t.Errorf("a follower's dump:\n%s\nwant it to start with:\n%s", got, want)
	}
}

// TestHashWord: every peer keeps the tree digest after each txn whose zxid
// is a multiple of 128, and the peers of an ensemble agree on them, as
// ZooKeeper's hash lets an operator check.
func TestHashWord(t *testing.T) {
	peers := startCluster(t, 3)
	r := rawDial(t, peers[0].ClientAddr())
	r.connect(jute.ConnectRequest{}) // a txn
	for i := range 300 {
		createRaw(r, fmt.Sprintf("/n%03d", i), 0)
	}
	last := peers[0].Status().Applied
	lines := regexp.MustCompile(`^([0-9a-f]+): (-?[0-9]+)\n([0-9a-f]+): (-?[0-9]+)\n$`)
	var first string
	for i, p := range peers {
		deadline := time.Now().Add(10 * time.Second)
		for p.Status().Applied < last && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		got := fourLetter(t, p.ClientAddr(), "hash")
		m := lines.FindStringSubmatch(got)
		if m == nil || m[1] != fmt.Sprintf("%x", last&^0xffffffff|128) || m[3] != fmt.Sprintf("%x", last&^0xffffffff|256) || m[2] == m[4] {
			t.Fatalf("peer %d's hash (last zxid %#x):\n%s", i+1, last, got)
		}
		if i == 0 {
			first = got
		} else if got != first {
			t.Errorf("peer %d's hash:\n%s\npeer 1's:\n%s", i+1, got, first)
		}
	}
}

// TestTraceMask: gtmk shows ZooKeeper's default trace mask; stmk reads the
// 8-byte mask after the word and sets it. The mask decides which requests
// the client port logs at the trace level (requests: bit 2, pings: bit 8).
func TestTraceMask(t *testing.T) {
	logs := &wire.LogBuffer{}
	cfg := peerConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug - 4}))
	e := startPeer(t, cfg)
	addr := e.ClientAddr()
	if got := fourLetter(t, addr, "gtmk"); got != "306" {
		t.Fatalf("gtmk: %q, want ZooKeeper's default 306", got)
	}
	r := rawDial(t, addr)
	r.connect(jute.ConnectRequest{})
	createRaw(r, "/traced", 0)
	r.ok(jute.OpPing, nil, nil)
	if n := strings.Count(logs.String(), `msg="zk: client request"`); n != 1 || !strings.Contains(logs.String(), "op=CREA") {
		t.Fatalf("with the default mask, %d requests traced, want the create only:\n%s", n, logs)
	}
	if got := setTraceMask(t, addr, 1<<1|1<<3); got != "10" {
		t.Fatalf("stmk answered %q", got)
	}
	r.ok(jute.OpPing, nil, nil)
	if n := strings.Count(logs.String(), `msg="zk: client request"`); n != 2 || !strings.Contains(logs.String(), "op=PING") {
		t.Fatalf("with pings in the mask, %d traced:\n%s", n, logs)
	}
	setTraceMask(t, addr, 0)
	createRaw(r, "/quiet", 0)
	if n := strings.Count(logs.String(), `msg="zk: client request"`); n != 2 {
		t.Fatalf("with a zero mask, a request was traced:\n%s", logs)
	}
	if got := fourLetter(t, addr, "gtmk"); got != "0" {
		t.Fatalf("gtmk after stmk 0: %q", got)
	}
	// A mask cut short: no answer, the mask unchanged.
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write([]byte("stmk\x00\x00\x01")); err != nil {
		t.Fatal(err)
	}
	nc.(*net.TCPConn).CloseWrite()
	if b, _ := io.ReadAll(nc); len(b) != 0 {
		t.Errorf("a short stmk was answered %q", b)
	}
	nc.Close()
	if got := fourLetter(t, addr, "gtmk"); got != "0" {
		t.Fatalf("gtmk after a short stmk: %q", got)
	}
}

// setTraceMask sends stmk with its 8-byte mask and returns the answer.
func setTraceMask(t *testing.T, addr string, mask int64) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	msg := binary.BigEndian.AppendUint64([]byte("stmk"), uint64(mask))
	if _, err := nc.Write(msg); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(nc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
