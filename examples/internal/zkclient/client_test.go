package zkclient

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/jute"
)

// fakeServer accepts one connection, answers its handshake with resp and
// then runs serve on it.
func fakeServer(t *testing.T, resp jute.ConnectResponse, serve func(nc net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		if _, err := jute.ReadFrame(nc, nil, 1<<20); err != nil {
			return
		}
		resp.HasReadOnly = true
		if _, err := nc.Write(jute.AppendFrame(nil, &resp)); err != nil {
			return
		}
		serve(nc)
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

// TestExpiredHandshake: a server answering the handshake with timeout 0
// (the session expired) makes Connect fail with zk.ErrSessionExpired.
func TestExpiredHandshake(t *testing.T) {
	addr := fakeServer(t, jute.ConnectResponse{TimeOut: 0, Passwd: make([]byte, 16)}, func(net.Conn) {})
	_, err := Connect(context.Background(), Config{Servers: []string{addr}, SessionTimeout: 2 * time.Second})
	if !errors.Is(err, zk.ErrSessionExpired) {
		t.Fatalf("Connect: %v, want ErrSessionExpired", err)
	}
}

// TestReplyOutOfOrder: a reply whose xid is not the oldest request's
// fails the connection, and the call with a connection loss rather than
// with another request's answer.
func TestReplyOutOfOrder(t *testing.T) {
	addr := fakeServer(t, jute.ConnectResponse{TimeOut: 2000, SessionID: 7, Passwd: make([]byte, 16)}, func(nc net.Conn) {
		b, err := jute.ReadFrame(nc, nil, 1<<20)
		if err != nil {
			return
		}
		var h jute.RequestHeader
		h.Decode(jute.NewDecoder(b))
		nc.Write(jute.AppendFrame(nil, &jute.ReplyHeader{Xid: h.Xid + 1, Zxid: 5}, &jute.StatResponse{}))
		nc.Read(make([]byte, 1)) // until the client hangs up
	})
	c, err := Connect(context.Background(), Config{Servers: []string{addr}, SessionTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background()) //nolint:errcheck // test cleanup
	if c.SessionID() != 7 {
		t.Errorf("session id %d, want 7", c.SessionID())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Set(ctx, "/a", nil, -1); !errors.Is(err, zk.ErrConnectionLoss) {
		t.Fatalf("Set answered out of order: %v, want a connection loss", err)
	}
}

// connectServer answers the connect requests of n connections, in turn,
// with what answer returns for the request and the connection's index;
// the first n-1 connections are closed after their answer (the client
// reconnects), the last is held until the client hangs up. It returns the
// server's address and the requests it read.
func connectServer(t *testing.T, n int, answer func(i int, req jute.ConnectRequest) jute.ConnectResponse) (string, <-chan jute.ConnectRequest) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	asked := make(chan jute.ConnectRequest, n)
	go func() {
		for i := 0; i < n; i++ {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := jute.ReadFrame(nc, nil, 1<<20)
			var req jute.ConnectRequest
			if err != nil || jute.Unmarshal(b, &req) != nil {
				nc.Close()
				return
			}
			asked <- req
			resp := answer(i, req)
			resp.Passwd, resp.HasReadOnly = make([]byte, 16), true
			nc.Write(jute.AppendFrame(nil, &resp))
			if i < n-1 {
				nc.Close()
				continue
			}
			nc.Read(make([]byte, 1)) // until the client hangs up
			nc.Close()
		}
	}()
	return ln.Addr().String(), asked
}

// closeQuickly closes a client whose fake server answers no close.
func closeQuickly(c *Client) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c.Close(ctx) //nolint:errcheck // nothing answers it
}

// TestReadOnlySession: with ReadOnly the connect request says so, and a
// server that takes the session read-only makes the client
// CONNECTEDREADONLY with a ConnectedReadOnly event (zkCli -r's prompt and
// event); without it the request asks for a read-write session.
func TestReadOnlySession(t *testing.T) {
	for _, ro := range []bool{false, true} {
		addr, asked := connectServer(t, 1, func(_ int, req jute.ConnectRequest) jute.ConnectResponse {
			return jute.ConnectResponse{TimeOut: 2000, SessionID: 9, ReadOnly: req.ReadOnly}
		})
		c, err := Connect(context.Background(), Config{Servers: []string{addr}, SessionTimeout: 2 * time.Second, ReadOnly: ro})
		if err != nil {
			t.Fatal(err)
		}
		if got := (<-asked).ReadOnly; got != ro {
			t.Errorf("ReadOnly %v: the request asked read-only %v", ro, got)
		}
		wantState, wantEv := "CONNECTED", "SyncConnected"
		if ro {
			wantState, wantEv = "CONNECTEDREADONLY", "ConnectedReadOnly"
		}
		if st, evs := c.State().String(), c.Events(); st != wantState || len(evs) != 1 || evs[0].State != wantEv {
			t.Errorf("ReadOnly %v: state %s, events %+v; want %s and one %s", ro, st, evs, wantState, wantEv)
		}
		closeQuickly(c)
	}
}

// TestReadOnlyReconnect: as the Java client, a session only read-only
// servers took asks for a new session at its next connect (no other
// server knows a read-only server's session), and one a read-write server
// took asks to renew it.
func TestReadOnlyReconnect(t *testing.T) {
	for _, firstRO := range []bool{true, false} {
		addr, asked := connectServer(t, 2, func(i int, _ jute.ConnectRequest) jute.ConnectResponse {
			return jute.ConnectResponse{TimeOut: 2000, SessionID: 9 + int64(i), ReadOnly: i == 0 && firstRO}
		})
		c, err := Connect(context.Background(), Config{Servers: []string{addr}, SessionTimeout: 2 * time.Second, ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		first, second := (<-asked).SessionID, (<-asked).SessionID
		want := int64(9)
		if firstRO {
			want = 0
		}
		if first != 0 || second != want {
			t.Errorf("first read-only %v: the connects asked for sessions %d and %d, want 0 and %d", firstRO, first, second, want)
		}
		closeQuickly(c)
	}
}
