package wire_test

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/jute"
)

// The null server: the least a server can do for a ZooKeeper client. It
// speaks the handshake and answers every request at once with a reply of
// the right shape (a zero Stat, the request's own path, 1 KiB of zeros for
// getData), and keeps nothing: no tree, no log, no fsync, no session. One
// goroutine per connection reads a request and writes its reply, with no
// hand-off. It runs in its own process (this test binary, started again
// with nullServerEnv set: TestMain), so that the benchmark accounts its CPU
// apart from the clients', as it does for zk's and ZooKeeper's servers.
//
// What it measures is a ceiling: the rate the same 64 go-zookeeper clients
// reach over loopback on this machine when the server costs almost
// nothing. A server built as zk's is (Go's net package, a goroutine per
// connection, a read and a write per request) answers at most that fast,
// whatever else it does; its ratio to ZooKeeper's rate in the same run is
// the most such a server could show. (Most of its CPU is the kernel's
// socket read and write; batching system calls across connections cuts
// it, and -wire.nulluring serves the same answers that way, from one
// io_uring: BenchmarkWireCeiling measures both.)
//
//	go test ./internal/wire -run x -bench WireNull -benchtime 20000x

// nullServerEnv names the file where a test binary started as a null
// server writes its address.
const nullServerEnv = "ZK_WIRE_NULL_SERVER"

// nullUringEnv, set with nullServerEnv, makes the null server serve every
// connection from one io_uring (-wire.nulluring).
const nullUringEnv = "ZK_WIRE_NULL_URING"

var nullUring = flag.Bool("wire.nulluring", false, "benchmarks: the null server serves every connection from one io_uring (Linux) instead of a goroutine each")

func TestMain(m *testing.M) {
	if f := os.Getenv(nullServerEnv); f != "" {
		os.Exit(runNullServer(f))
	}
	os.Exit(m.Run())
}

// runNullServer serves on a free loopback port, writes the address to
// addrFile, and serves until its standard input closes (the benchmark
// closes it, or ends).
func runNullServer(addrFile string) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.WriteFile(addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		io.Copy(io.Discard, os.Stdin)
		ln.Close()
		if os.Getenv(nullUringEnv) != "" {
			os.Exit(0) // the ring's thread waits in the kernel
		}
	}()
	if os.Getenv(nullUringEnv) != "" {
		if err := runUringNull(ln); err != nil {
			fmt.Fprintln(os.Stderr, "null server:", err)
			return 1
		}
		return 0
	}
	var sessions atomic.Int64
	for {
		nc, err := ln.Accept()
		if err != nil {
			return 0
		}
		go serveNull(nc, sessions.Add(1))
	}
}

// serveNull answers one connection's requests until it closes.
func serveNull(nc net.Conn, session int64) {
	defer nc.Close()
	r := bufio.NewReaderSize(nc, 16<<10)
	body, err := jute.ReadFrame(r, nil, jute.DefaultMaxBuffer)
	if err != nil {
		return
	}
	out, ok := nullConnect(nil, body, session)
	if !ok {
		return
	}
	value := make([]byte, 1024)
	var zxid int64
	for {
		if r.Buffered() == 0 && len(out) > 0 {
			// Nothing more is buffered: the replies so far leave now.
			if _, err := nc.Write(out); err != nil {
				return
			}
			out = out[:0]
		}
		body, err = jute.ReadFrame(r, body, jute.DefaultMaxBuffer)
		if err != nil {
			return
		}
		zxid++
		var closing bool
		if out, closing = nullReply(out, body, zxid, value); closing {
			nc.Write(out)
			return
		}
	}
}

// nullConnect appends the reply to the connect request in body: a new
// session with the timeout the client asked for.
func nullConnect(out, body []byte, session int64) (_ []byte, ok bool) {
	var creq jute.ConnectRequest
	d := jute.Decoder{}
	d.Reset(body)
	creq.Decode(&d)
	if d.Err() != nil {
		return out, false
	}
	resp := jute.ConnectResponse{TimeOut: creq.TimeOut, SessionID: session, Passwd: make([]byte, 16), HasReadOnly: creq.HasReadOnly}
	return jute.AppendFrame(out, &resp), true
}

// nullReply appends the reply to the request in body; closing is true for
// a closeSession (or a request it cannot read).
func nullReply(out, body []byte, zxid int64, value []byte) (_ []byte, closing bool) {
	var h jute.RequestHeader
	d := jute.Decoder{}
	d.Reset(body)
	h.Decode(&d)
	if d.Err() != nil {
		return out, true
	}
	rh := jute.ReplyHeader{Xid: h.Xid, Zxid: zxid}
	var resp jute.Record
	switch h.Type {
	case jute.OpPing:
		rh.Zxid = 0
	case jute.OpCloseSession:
		closing = true
	case jute.OpCreate:
		var req jute.CreateRequest
		req.Decode(&d)
		resp = &jute.PathRequest{Path: req.Path}
	case jute.OpSync:
		var req jute.PathRequest
		req.Decode(&d)
		resp = &jute.PathRequest{Path: req.Path}
	case jute.OpCreate2, jute.OpExists, jute.OpSetData:
		resp = &jute.StatResponse{}
	case jute.OpGetData:
		resp = &jute.GetDataResponse{Data: value}
	}
	if d.Err() != nil {
		return out, true
	}
	if resp == nil {
		return jute.AppendFrame(out, &rh), closing
	}
	return jute.AppendFrame(out, &rh, resp), closing
}

// startNullServer starts the null server in its own process, over io_uring
// if uring, with env added to its environment, and returns its address; it
// stops at cleanup.
func startNullServer(b testing.TB, uring bool, env ...string) string {
	b.Helper()
	addrFile := filepath.Join(b.TempDir(), "addr")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), env...), nullServerEnv+"="+addrFile)
	if uring {
		if err := uringAvailable(); err != nil {
			b.Fatalf("the io_uring null server: this kernel refuses io_uring: %v", err)
		}
		cmd.Env = append(cmd.Env, nullUringEnv+"=1")
	}
	stdin, err := cmd.StdinPipe()
	must(b, err)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	must(b, cmd.Start())
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if a, err := os.ReadFile(addrFile); err == nil && strings.Contains(string(a), ":") {
			serverPIDs.Store(string(a), cmd.Process.Pid)
			return string(a)
		}
		if time.Now().After(deadline) {
			b.Fatal("the null server did not start within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNullServer: the null server answers go-zookeeper's requests in the
// shapes the benchmark needs, so that its rates are rates of answered
// requests.
func TestNullServer(t *testing.T) {
	for _, uring := range []bool{false, true} {
		t.Run(fmt.Sprintf("uring=%v", uring), func(t *testing.T) {
			if uring {
				if err := uringAvailable(); err != nil {
					t.Skipf("this kernel refuses io_uring (%v): the io_uring null server cannot run here", err)
				}
			}
			testNullServer(t, startNullServer(t, uring))
		})
	}
}

func testNullServer(t *testing.T, addr string) {
	c, _ := dial(t, addr)
	value := make([]byte, 1024)
	path, err := c.Create("/n", value, 0, open)
	if err != nil || path != "/n" {
		t.Fatalf("create: %q, %v; want /n", path, err)
	}
	if _, err := c.Set("/n", value, -1); err != nil {
		t.Fatalf("set: %v", err)
	}
	data, _, err := c.Get("/n")
	if err != nil || len(data) != len(value) {
		t.Fatalf("get: %d bytes, %v; want %d", len(data), err, len(value))
	}
	if p, err := c.Sync("/n"); err != nil || p != "/n" {
		t.Fatalf("sync: %q, %v", p, err)
	}
}

// BenchmarkWireNull: creates, setData and getData of 1 KiB values from 64
// go-zookeeper clients against the null server and against a standalone
// ZooKeeper 3.8, rounds alternating, as BenchmarkWireVsZooKeeper runs zk:
// the ratios it reports are the most a server built as zk's could show
// against ZooKeeper with these clients on this machine.
func BenchmarkWireNull(b *testing.B) {
	if b.N == 1 {
		return // the framework's probe: run with -benchtime Nx
	}
	zooAddrs := startRealZKs(b, 1)
	nullAddr := startNullServer(b, *nullUring)
	compare(b, side{"null", []string{nullAddr}}, side{"ZooKeeper", zooAddrs})
}

// BenchmarkWireVsNull: a standalone zk peer against the null server, rounds
// alternating: the share of the ceiling zk reaches (no JIT in the way).
//
//	go test ./internal/wire -run x -bench WireVsNull -benchtime 20000x
func BenchmarkWireVsNull(b *testing.B) {
	if b.N == 1 {
		return // the framework's probe: run with -benchtime Nx
	}
	nullAddr := startNullServer(b, *nullUring)
	compare(b, side{"zk", startOurs(b, 1)}, side{"null", []string{nullAddr}})
}

// BenchmarkWireNullUring: the null server over io_uring against the null
// server with a goroutine per connection, rounds alternating: what batching
// system calls across connections is worth on this machine.
//
//	go test ./internal/wire -run x -bench WireNullUring -benchtime 20000x
func BenchmarkWireNullUring(b *testing.B) {
	if b.N == 1 {
		return // the framework's probe: run with -benchtime Nx
	}
	uringAddr := startNullServer(b, true)
	compare(b, side{"null-uring", []string{uringAddr}}, side{"null", []string{startNullServer(b, false)}})
}

// BenchmarkWireCeiling: a standalone zk peer, the null server with a
// goroutine per connection and the null server over io_uring, each against
// a standalone ZooKeeper 3.8, the four alternating in every round: how far
// zk is from ZooKeeper, and how far any server could be, in the same
// minutes.
//
//	go test ./internal/wire -run x -bench WireCeiling -benchtime 20000x -wire.rounds 7
func BenchmarkWireCeiling(b *testing.B) {
	if b.N == 1 {
		return // the framework's probe: run with -benchtime Nx
	}
	zoo := side{"ZooKeeper", startRealZKs(b, 1)}
	ours := side{"zk", startOurs(b, 1)}
	null := side{"null", []string{startNullServer(b, false)}}
	uring := side{"null-uring", []string{startNullServer(b, true)}}
	compareAll(b, zoo, ours, null, uring)
}
