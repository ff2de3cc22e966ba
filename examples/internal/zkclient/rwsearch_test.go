package zkclient

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
)

// rwServer is a fake server that, as ZooKeeper's, tells a four-letter word
// from a connect request by its first four bytes. It answers its n-th isro
// (from 0) with isro(n), and its i-th connect request with answer(i, req);
// then, unless drop(i), it answers pings and closeSession with a bare
// header, and other requests with NONODE if answerCalls, else not at all
// (reporting their op on calls), until the client hangs up.
type rwServer struct {
	t           *testing.T
	ln          net.Listener
	isro        func(n int) string
	answer      func(i int, req jute.ConnectRequest) (resp jute.ConnectResponse, drop bool)
	answerCalls bool
	connects    chan jute.ConnectRequest
	calls       chan int32
	probes      chan struct{}

	mu       sync.Mutex
	nProbes  int
	nConnect int
	conns    []net.Conn
	wg       sync.WaitGroup
}

func startRWServer(t *testing.T, isro func(n int) string, answerCalls bool,
	answer func(i int, req jute.ConnectRequest) (jute.ConnectResponse, bool)) *rwServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rwServer{t: t, ln: ln, isro: isro, answer: answer, answerCalls: answerCalls,
		connects: make(chan jute.ConnectRequest, 16), calls: make(chan int32, 16), probes: make(chan struct{}, 64)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, nc)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() { defer s.wg.Done(); defer nc.Close(); s.serve(nc) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, nc := range s.conns {
			nc.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// offer reports v on ch unless its buffer is full (a client gone wrong
// must not block the fake server's cleanup).
func offer[T any](ch chan<- T, v T) {
	select {
	case ch <- v:
	default:
	}
}

func (s *rwServer) addr() string { return s.ln.Addr().String() }

func (s *rwServer) serve(nc net.Conn) {
	var hdr [4]byte
	if _, err := io.ReadFull(nc, hdr[:]); err != nil {
		return
	}
	s.mu.Lock()
	n, i := s.nProbes, s.nConnect
	if string(hdr[:]) == "isro" {
		s.nProbes++
	} else {
		s.nConnect++
	}
	s.mu.Unlock()
	if string(hdr[:]) == "isro" {
		offer(s.probes, struct{}{})
		io.WriteString(nc, s.isro(n))
		return
	}
	b := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	var req jute.ConnectRequest
	if _, err := io.ReadFull(nc, b); err != nil || jute.Unmarshal(b, &req) != nil {
		return
	}
	offer(s.connects, req)
	resp, drop := s.answer(i, req)
	if resp.Passwd == nil {
		resp.Passwd = make([]byte, 16)
	}
	resp.HasReadOnly = true
	nc.Write(jute.AppendFrame(nil, &resp))
	if drop {
		return
	}
	for {
		b, err := jute.ReadFrame(nc, nil, 1<<20)
		if err != nil {
			return
		}
		var h jute.RequestHeader
		h.Decode(jute.NewDecoder(b))
		switch {
		case h.Type == jute.OpPing || h.Type == jute.OpCloseSession:
			nc.Write(jute.AppendFrame(nil, &jute.ReplyHeader{Xid: h.Xid}))
		case s.answerCalls:
			nc.Write(jute.AppendFrame(nil, &jute.ReplyHeader{Xid: h.Xid, Err: int32(zkerr.CodeNoNode)}))
		default:
			offer(s.calls, h.Type)
		}
	}
}

// probe is one probe the client started: where, and the interval it
// waited for (the test hook's view).
type probe struct {
	addr string
	wait time.Duration
	at   time.Time
}

// searchTimings returns the search's bounds for a test's client (its
// Config.rwTiming) and the probes it starts; block, if set, holds each
// probe until it is closed (or 5 s pass).
func searchTimings(lo, hi time.Duration, block <-chan struct{}) (*rwTiming, <-chan probe) {
	probes := make(chan probe, 64)
	hook := func(addr string, wait time.Duration, at time.Time) {
		offer(probes, probe{addr: addr, wait: wait, at: at})
		if block != nil {
			select {
			case <-block:
			case <-time.After(5 * time.Second):
			}
		}
	}
	return &rwTiming{min: lo, max: hi, hook: hook}, probes
}

// connectRO connects a read-only client with the search's timings tm to
// servers; it is closed when the test ends.
func connectRO(t *testing.T, tm *rwTiming, servers ...string) *Client {
	t.Helper()
	c, err := Connect(context.Background(), Config{Servers: servers, SessionTimeout: 10 * time.Second, ReadOnly: true, rwTiming: tm})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeQuickly(c) })
	return c
}

// expectProbes checks the next probes: their addresses and intervals.
func expectProbes(t *testing.T, probes <-chan probe, want []probe) {
	t.Helper()
	for i, w := range want {
		if p := nextProbe(t, probes); p.addr != w.addr || p.wait != w.wait {
			t.Errorf("probe %d: %s after %v, want %s after %v", i, p.addr, p.wait, w.addr, w.wait)
		}
	}
}

func nextProbe(t *testing.T, probes <-chan probe) probe {
	t.Helper()
	return recv(t, probes, "a probe")
}

// recv receives from ch, failing the test after 3 s.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(3 * time.Second):
		t.Fatalf("no %s in 3s", what)
	}
	var zero T
	return zero
}

// waitState waits (up to 3 s) for the client's state to be st.
func waitState(t *testing.T, c *Client, st State) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); c.State() != st; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("state %s, want %s", c.State(), st)
		}
	}
}

func eventStates(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.State)
	}
	return out
}

func always(s string) func(int) string { return func(int) string { return s } }

// TestReadOnlyMovesToRWServer: a session a read-only server took (and no
// read-write one before) probes the next address of its list with isro
// 100 ms after the client started; that server answers rw, so the client
// drops the read-only connection (the call pending there fails with
// ConnectionLoss), queues Disconnected, connects to that server asking
// for a new session (id 0, as the Java client without seenRwServerBefore)
// and queues SyncConnected.
func TestReadOnlyMovesToRWServer(t *testing.T) {
	release := make(chan struct{})
	tm, probes := searchTimings(minProbeRW, maxProbeRW, release)
	ro := startRWServer(t, always("ro"), false, func(int, jute.ConnectRequest) (jute.ConnectResponse, bool) {
		return jute.ConnectResponse{TimeOut: 10000, SessionID: 9, ReadOnly: true}, false
	})
	rw := startRWServer(t, always("rw"), true, func(int, jute.ConnectRequest) (jute.ConnectResponse, bool) {
		return jute.ConnectResponse{TimeOut: 10000, SessionID: 10}, false
	})
	start := time.Now()
	c := connectRO(t, tm, ro.addr(), rw.addr())
	called := make(chan error, 1)
	go func() {
		_, _, err := c.Exists(context.Background(), "/a", false)
		called <- err
	}()
	recv(t, ro.calls, "call") // the call is pending on the read-only server
	close(release)
	if p := nextProbe(t, probes); p.addr != rw.addr() || p.wait != 100*time.Millisecond || p.at.Sub(start) < 100*time.Millisecond {
		t.Errorf("first probe %+v after %v, want %s after 100ms", p, p.at.Sub(start), rw.addr())
	}
	if err := recv(t, called, "answer"); !errors.Is(err, zk.ErrConnectionLoss) {
		t.Errorf("call pending on the read-only server: %v, want ConnectionLoss", err)
	}
	waitState(t, c, StateConnected)
	if got := recv(t, ro.connects, "connect").SessionID; got != 0 {
		t.Errorf("first connect asked for session %d, want 0", got)
	}
	if req := recv(t, rw.connects, "connect"); req.SessionID != 0 || !req.ReadOnly {
		t.Errorf("connect to the read-write server: %+v, want session 0 and readOnly", req)
	}
	if c.Addr() != rw.addr() || c.SessionID() != 10 {
		t.Errorf("on %s with session %d, want %s and 10", c.Addr(), c.SessionID(), rw.addr())
	}
	want := []string{"ConnectedReadOnly", "Disconnected", "SyncConnected"}
	if got := eventStates(c.Events()); !reflect.DeepEqual(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if _, _, err := c.Exists(context.Background(), "/a", false); err != nil {
		t.Errorf("Exists on the read-write server: %v", err)
	}
	select {
	case p := <-probes:
		t.Errorf("probe %+v while connected read-write", p)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestReadOnlyMovesRenewsSession: a session a read-write server took
// before (seenRwServerBefore) and then a read-only one renews its id and
// password on the read-write server the search finds.
func TestReadOnlyMovesRenewsSession(t *testing.T) {
	tm, _ := searchTimings(20*time.Millisecond, time.Second, nil)
	passwd := []byte("0123456789abcdef")
	a := startRWServer(t, always("rw"), true, func(i int, _ jute.ConnectRequest) (jute.ConnectResponse, bool) {
		return jute.ConnectResponse{TimeOut: 10000, SessionID: 9}, i == 0 // then loses its quorum
	})
	b := startRWServer(t, always("ro"), true, func(int, jute.ConnectRequest) (jute.ConnectResponse, bool) {
		return jute.ConnectResponse{TimeOut: 10000, SessionID: 9, Passwd: passwd, ReadOnly: true}, false
	})
	c := connectRO(t, tm, a.addr(), b.addr())
	recv(t, a.connects, "connect")
	if got := recv(t, b.connects, "connect").SessionID; got != 9 {
		t.Errorf("reconnect to the read-only server asked for session %d, want 9", got)
	}
	req := recv(t, a.connects, "connect") // the probe found a read-write again
	if req.SessionID != 9 || string(req.Passwd) != string(passwd) {
		t.Errorf("connect to the read-write server: session %d password %q, want 9 and %q", req.SessionID, req.Passwd, passwd)
	}
	waitState(t, c, StateConnected)
	want := []string{"SyncConnected", "Disconnected", "ConnectedReadOnly", "Disconnected", "SyncConnected"}
	if got := eventStates(c.Events()); !reflect.DeepEqual(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// TestReadOnlyStaysOnROAnswer: a server answering isro with ro is not
// taken; the probes go round the list (the current server included) at
// doubling intervals.
func TestReadOnlyStaysOnROAnswer(t *testing.T) {
	tm, probes := searchTimings(20*time.Millisecond, time.Second, nil)
	a := startRWServer(t, always("ro"), true, func(int, jute.ConnectRequest) (jute.ConnectResponse, bool) {
		return jute.ConnectResponse{TimeOut: 10000, SessionID: 9, ReadOnly: true}, false
	})
	b := startRWServer(t, always("ro"), true, func(int, jute.ConnectRequest) (jute.ConnectResponse, bool) {
		return jute.ConnectResponse{TimeOut: 10000, SessionID: 10}, false
	})
	c := connectRO(t, tm, a.addr(), b.addr())
	expectProbes(t, probes, []probe{{addr: b.addr(), wait: 20 * time.Millisecond}, {addr: a.addr(), wait: 40 * time.Millisecond},
		{addr: b.addr(), wait: 80 * time.Millisecond}, {addr: a.addr(), wait: 160 * time.Millisecond}})
	// The fourth probe starts once the client took the third's answer.
	if len(b.probes) < 2 || len(a.probes) < 1 {
		t.Errorf("a answered %d probes and b %d, want at least 1 and 2", len(a.probes), len(b.probes))
	}
	if len(b.connects) != 0 || c.State() != StateConnectedReadOnly || c.Addr() != a.addr() {
		t.Errorf("%d connects to the ro server, state %s on %s; want none, CONNECTEDREADONLY on %s",
			len(b.connects), c.State(), c.Addr(), a.addr())
	}
	if got := eventStates(c.Events()); !reflect.DeepEqual(got, []string{"ConnectedReadOnly"}) {
		t.Errorf("events %v, want only ConnectedReadOnly", got)
	}
}

// TestReadOnlyProbeBackoff: the interval doubles at each probe up to its
// cap (shortened here; Java's are 100 ms and 60 s), and probes are at
// least that far apart.
func TestReadOnlyProbeBackoff(t *testing.T) {
	if minProbeRW != 100*time.Millisecond || maxProbeRW != time.Minute {
		t.Errorf("interval from %v to %v, want ClientCnxn's 100ms to 60s", minProbeRW, maxProbeRW)
	}
	tm, probes := searchTimings(10*time.Millisecond, 40*time.Millisecond, nil)
	a := startRWServer(t, always("ro"), true, func(int, jute.ConnectRequest) (jute.ConnectResponse, bool) {
		return jute.ConnectResponse{TimeOut: 10000, SessionID: 9, ReadOnly: true}, false
	})
	connectRO(t, tm, a.addr())
	var last time.Time
	for i, ms := range []time.Duration{10, 20, 40, 40, 40, 40} {
		p := nextProbe(t, probes)
		if p.wait != ms*time.Millisecond || p.addr != a.addr() {
			t.Errorf("probe %d: %s after %v, want %s after %v", i, p.addr, p.wait, a.addr(), ms*time.Millisecond)
		}
		if i > 0 && p.at.Sub(last) < p.wait {
			t.Errorf("probe %d came %v after the previous one, want at least %v", i, p.at.Sub(last), p.wait)
		}
		last = p.at
	}
}

// TestReadOnlySearchResets: a probe answered rw resets the interval; the
// client moves there, and when that server takes the session read-only
// after all, the search goes on from the shortest interval.
func TestReadOnlySearchResets(t *testing.T) {
	tm, probes := searchTimings(10*time.Millisecond, time.Second, nil)
	a := startRWServer(t, always("ro"), true, func(int, jute.ConnectRequest) (jute.ConnectResponse, bool) {
		return jute.ConnectResponse{TimeOut: 10000, SessionID: 9, ReadOnly: true}, false
	})
	b := startRWServer(t, func(n int) string { return map[bool]string{true: "rw", false: "ro"}[n == 0] }, true,
		func(int, jute.ConnectRequest) (jute.ConnectResponse, bool) {
			return jute.ConnectResponse{TimeOut: 10000, SessionID: 10, ReadOnly: true}, false // lost its quorum meanwhile
		})
	c := connectRO(t, tm, a.addr(), b.addr())
	expectProbes(t, probes, []probe{{addr: b.addr(), wait: 10 * time.Millisecond}, {addr: a.addr(), wait: 10 * time.Millisecond},
		{addr: b.addr(), wait: 20 * time.Millisecond}, {addr: a.addr(), wait: 40 * time.Millisecond}})
	if c.Addr() != b.addr() || c.State() != StateConnectedReadOnly {
		t.Errorf("state %s on %s, want CONNECTEDREADONLY on %s", c.State(), c.Addr(), b.addr())
	}
	want := []string{"ConnectedReadOnly", "Disconnected", "ConnectedReadOnly"}
	if got := eventStates(c.Events()); !reflect.DeepEqual(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}
