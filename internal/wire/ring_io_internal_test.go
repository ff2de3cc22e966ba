package wire

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
)

// Shutdown under load, long and split frames, slow readers and writers
// (see ring_stress_internal_test.go; more in ring_load_internal_test.go).

func TestRingStressShutdownUnderLoad(t *testing.T) {
	rsEachMode(t, func(t *testing.T, mode string) {
		for i := range 3 {
			t.Run(fmt.Sprint(i), func(t *testing.T) { rsShutdownUnderLoad(t, mode, i) })
		}
	})
}

func rsShutdownUnderLoad(t *testing.T, mode string, seed int) {
	p := rsStart(t, mode, rsOpts{})
	s := p.session(t)
	if _, err := s.Create(context.Background(), "/big", make([]byte, 900<<10)); err != nil {
		t.Fatal(err)
	}
	var stopping atomic.Bool
	var wg sync.WaitGroup
	var answered atomic.Int64
	errs := make(chan error, 64)
	// Pipelining clients.
	for i := range 10 {
		c := rsDial(t, p.addr, 0)
		c.mustConnect(t)
		path := fmt.Sprintf("/f%d", i)
		c.ok(t, jute.OpCreate, &jute.CreateRequest{Path: path, Data: []byte("init"), ACL: rsACL})
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
			err := c.pipeline(path, 0, rng, false, func() bool { answered.Add(1); return true }, nil)
			if !stopping.Load() || !rsClosedErr(err) {
				errs <- fmt.Errorf("pipelining client %d: %v", i, err)
			}
		}()
	}
	// Clients that read nothing.
	for range 2 {
		c := rsDial(t, p.addr, 0)
		c.mustConnect(t)
		var b []byte
		for range 8 {
			b, _ = c.req(b, jute.OpGetData, &jute.PathWatchRequest{Path: "/big"})
		}
		if _, err := c.nc.Write(b); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopping.Load() {
				runtime.Gosched()
			}
			if err := c.closedWithin(20 * time.Second); err != nil {
				errs <- fmt.Errorf("client that reads nothing: %v", err)
			}
		}()
	}
	// Clients lingering after closeSession, sending all along.
	for range 2 {
		c := rsDial(t, p.addr, 0)
		c.mustConnect(t)
		c.ok(t, jute.OpCloseSession, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var pings []byte
			for range 64 {
				pings, _ = c.req(pings, jute.OpPing, nil)
			}
			// The server closes it (at the latest when its linger ends),
			// and its writes then fail, unless the server's receive window
			// was zero when it closed: the orphaned end in FIN-WAIT-2 keeps
			// advertising a zero window, and the client's kernel holds its
			// bytes and probes until the orphan times out (tcp_fin_timeout,
			// 60 s). So a write still stuck long after the stop fails the
			// test only if the server still holds its end of the socket.
			c.nc.SetWriteDeadline(time.Now().Add(25 * time.Second))
			for {
				_, err := c.nc.Write(pings)
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					if report, held := rsSocketReport(c.nc); held {
						errs <- fmt.Errorf("a client lingering after closeSession was never closed (session %#x)\n%s", c.sid, report)
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
	// Handshakes, until the port closes.
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				c, err := rsDialErr(p.addr, 0)
				if err != nil {
					return // the listener is closed
				}
				if n%2 == 0 {
					c.connect(0, nil)
				} else {
					// Half a connect request, then wait for the close.
					b := jute.AppendFrame(nil, &jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)})
					c.nc.Write(b[:7+i])
				}
				if stopping.Load() {
					if err := c.closedWithin(20 * time.Second); err != nil {
						errs <- fmt.Errorf("a handshake: %v", err)
					}
				}
				c.nc.Close()
			}
		}()
	}
	rsPoll(t, 30*time.Second, "some load", func() bool { return answered.Load() > 40 })
	stopping.Store(true)
	if !p.stop() {
		t.Fatalf("Serve did not return within 20s of its stop under load\n%s", rsStacks())
	}
	if n := len(p.srv.connList()); n != 0 {
		t.Fatalf("Serve returned holding %d connections", n)
	}
	rsWaitGroup(t, &wg, 30*time.Second, "the clients")
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// rsSetFrame returns a setData frame of path whose body (the frame less its
// length) is exactly n bytes, with data of a pattern of seed, and the data.
func (c *rsClient) rsSetFrame(b []byte, path string, n int, seed byte) ([]byte, []byte, int32) {
	over := len(jute.Marshal(nil, &jute.RequestHeader{}, &jute.SetDataRequest{Path: path}))
	data := make([]byte, n-over)
	for i := range data {
		data[i] = seed + byte(i*7)
	}
	b, xid := c.req(b, jute.OpSetData, &jute.SetDataRequest{Path: path, Data: data, Version: -1})
	return b, data, xid
}

// TestRingStressLongFramesOddChunks: requests around and far beyond the
// ring's 2 KiB receive buffer (2040 to 1 MiB - 1 bytes, jute.maxbuffer),
// pipelined back to back with small ones and written in pieces of odd sizes
// (a length split across writes, a frame's end and the next one's start in
// one), are all answered in order with the data intact. Catches: a frame
// longer than the receive buffer cut, a buffer grown or shrunk while bytes
// of the next frame sit in it, a frame's start lost when the buffer moves,
// a length read across two receives.
func TestRingStressLongFramesOddChunks(t *testing.T) {
	rsEachMode(t, func(t *testing.T, mode string) {
		p := rsStart(t, mode, rsOpts{})
		c := rsDial(t, p.addr, 0)
		c.mustConnect(t)
		c.ok(t, jute.OpCreate, &jute.CreateRequest{Path: "/L", ACL: rsACL})
		sizes := []int{2040, 2043, 2044, 2045, 2047, 2048, 2049, 2052, 4093, 4096, 65539, 300001, jute.DefaultMaxBuffer}
		var b []byte
		var want []rsWant
		datas := map[int32][]byte{}
		for i, n := range sizes {
			var data []byte
			var xid int32
			b, data, xid = c.rsSetFrame(b, "/L", n, byte(i))
			want = append(want, rsWant{xid: xid})
			b, xid = c.req(b, jute.OpGetData, &jute.PathWatchRequest{Path: "/L"})
			want = append(want, rsWant{xid: xid})
			datas[xid] = data
			b, xid = c.req(b, jute.OpExists, &jute.PathWatchRequest{Path: "/L"})
			want = append(want, rsWant{xid: xid})
		}
		b, xid := c.req(b, jute.OpPing, nil)
		want = append(want, rsWant{xid: xid})
		errC := make(chan error, 1)
		go func() {
			chunks := []int{1, 3, 7, 2043, 1, 2049, 13, 4093, 2, 65521, 5, 2044}
			for i := 0; len(b) > 0; i++ {
				n := min(len(b), chunks[i%len(chunks)])
				if _, err := c.nc.Write(b[:n]); err != nil {
					errC <- err
					return
				}
				b = b[n:]
			}
			errC <- nil
		}()
		for i, w := range want {
			f, err := c.next()
			if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
			if f.ev != nil || f.h.Xid != w.xid || f.h.Err != 0 {
				t.Fatalf("frame %d: %v, want %v", i, f, w)
			}
			if data, ok := datas[w.xid]; ok {
				var r jute.GetDataResponse
				if err := jute.Unmarshal(f.body, &r); err != nil || !bytes.Equal(r.Data, data) {
					t.Fatalf("frame %d: getData of %d bytes (%v), want the %d bytes set", i, len(r.Data), err, len(data))
				}
			}
		}
		if err := <-errC; err != nil {
			t.Fatal(err)
		}
	})
}

// TestRingStressFrameLimits: with a small jute.maxbuffer, a frame of
// exactly that length is taken (split or whole), one byte more closes the
// connection whether it arrives whole in one receive or a byte at a time,
// with no reply to it; a client that closes in the middle of a long frame
// is forgotten. Catches: the limit checked only on frames longer than the
// receive buffer, or only when a length arrives whole, a connection that
// waits for the rest of a frame for ever.
func TestRingStressFrameLimits(t *testing.T) {
	rsEachMode(t, func(t *testing.T, mode string) {
		p := rsStart(t, mode, rsOpts{cfg: func(c *engine.Config) { c.JuteMaxBuffer = 1500 }})
		for _, tc := range []struct {
			name   string
			n      int
			chunk  int
			closes bool
		}{
			{"at the limit, whole", 1500, 1 << 20, false},
			{"at the limit, a byte at a time", 1500, 1, false},
			{"one over, whole", 1501, 1 << 20, true},
			{"one over, split", 1501, 3, true},
			{"far over, whole", 2040, 1 << 20, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := rsDial(t, p.addr, 0)
				c.mustConnect(t)
				b, _, xid := c.rsSetFrame(nil, "/", tc.n, 1)
				b, pingXid := c.req(b, jute.OpPing, nil)
				for len(b) > 0 {
					n := min(len(b), tc.chunk)
					if _, err := c.nc.Write(b[:n]); err != nil {
						if tc.closes {
							break
						}
						t.Fatal(err)
					}
					b = b[n:]
				}
				if tc.closes {
					c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
					if f, err := c.next(); err == nil {
						t.Fatalf("a frame over jute.maxbuffer got %v", f)
					} else if !rsClosedErr(err) {
						t.Fatalf("a frame over jute.maxbuffer: %v, want the connection closed", err)
					}
					return
				}
				// Taken: answered (the engine refuses a request that large, or
				// not), and the connection goes on.
				for _, want := range []int32{xid, pingXid} {
					f, err := c.next()
					if err != nil || f.ev != nil || f.h.Xid != want {
						t.Fatalf("%v %v, want the reply to xid %d", f, err, want)
					}
				}
			})
		}
		t.Run("client closes mid-frame", func(t *testing.T) {
			c := rsDial(t, p.addr, 0)
			c.mustConnect(t)
			k := rsServerConn(p.srv, c)
			b, _, _ := c.rsSetFrame(nil, "/", 1400, 1)
			if _, err := c.nc.Write(b[:700]); err != nil {
				t.Fatal(err)
			}
			c.nc.Close()
			rsForgotten(t, p.srv, k, "a client closed in the middle of a frame")
			rsBooks(t, p.srv)
		})
	})
}

// rsSmallReads hands out at most n bytes per Read.
type rsSmallReads struct {
	r io.Reader
	n int
}

func (s rsSmallReads) Read(b []byte) (int, error) { return s.r.Read(b[:min(len(b), s.n)]) }

// TestRingStressSlowReader: a client with a small receive buffer that reads
// in small pieces gets 3.5 MB of pipelined replies (each send of the server
// goes out in many partial sends), interleaved with writes and the event
// one of them fires, all in order and intact. Catches: the rest of a
// partial send lost, sent twice or out of order, a buffer reused while the
// kernel still sends it, an event jumping ahead of a reply being sent.
func TestRingStressSlowReader(t *testing.T) {
	rsEachMode(t, func(t *testing.T, mode string) {
		p := rsStart(t, mode, rsOpts{})
		big := make([]byte, 700<<10)
		for i := range big {
			big[i] = byte(i*13 + i>>11)
		}
		s := p.session(t)
		if _, err := s.Create(context.Background(), "/big", big); err != nil {
			t.Fatal(err)
		}
		c := rsDial(t, p.addr, 16<<10)
		c.r = bufio.NewReaderSize(rsSmallReads{c.nc, 777}, 4096)
		c.mustConnect(t)
		c.ok(t, jute.OpCreate, &jute.CreateRequest{Path: "/small", ACL: rsACL})
		var b []byte
		var want []rsWant
		add := func(op int32, rec jute.Record, before ...rsWant) {
			var xid int32
			b, xid = c.req(b, op, rec)
			want = append(want, before...)
			want = append(want, rsWant{xid: xid})
		}
		bigs := map[int32]bool{}
		for i := range 5 {
			add(jute.OpGetData, &jute.PathWatchRequest{Path: "/big"})
			bigs[want[len(want)-1].xid] = true
			add(jute.OpGetData, &jute.PathWatchRequest{Path: "/small", Watch: true})
			add(jute.OpSetData, &jute.SetDataRequest{Path: "/small", Data: []byte{byte(i)}, Version: -1}, rsWant{ev: 3, path: "/small"})
			add(jute.OpPing, nil)
		}
		if _, err := c.nc.Write(b); err != nil {
			t.Fatal(err)
		}
		for i, w := range want {
			f, err := c.next()
			if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
			switch {
			case w.xid == 0 && (f.ev == nil || f.ev.Type != w.ev || f.ev.Path != w.path):
				t.Fatalf("frame %d: %v, want %v", i, f, w)
			case w.xid != 0 && (f.ev != nil || f.h.Xid != w.xid || f.h.Err != 0):
				t.Fatalf("frame %d: %v, want %v", i, f, w)
			case bigs[w.xid]:
				var r jute.GetDataResponse
				if err := jute.Unmarshal(f.body, &r); err != nil || !bytes.Equal(r.Data, big) {
					t.Fatalf("frame %d: getData /big: %d bytes (%v), not the %d bytes stored", i, len(r.Data), err, len(big))
				}
			}
		}
	})
}

// TestRingStressDribble: a client that sends a request a byte at a time,
// slower than its session timeout allows for a whole frame, is closed as a
// silent one is (a frame must arrive whole within the session timeout), not
// kept alive by each byte. Catches: the receive deadline pushed back by
// every receive instead of every frame.
func TestRingStressDribble(t *testing.T) {
	rsEachMode(t, func(t *testing.T, mode string) {
		p := rsStart(t, mode, rsOpts{})
		c := rsDial(t, p.addr, 0)
		c.ask = 1000 // the shortest allowed
		resp, err := c.connect(0, nil)
		if err != nil {
			t.Fatal(err)
		}
		timeout := time.Duration(resp.TimeOut) * time.Millisecond
		b, _ := c.req(nil, jute.OpExists, &jute.PathWatchRequest{Path: "/" + strings.Repeat("d", 60)})
		// All of it takes about three session timeouts.
		step := 3 * timeout / time.Duration(len(b))
		start := time.Now()
		closed := make(chan error, 1)
		go func() {
			c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
			f, err := c.next()
			if err == nil {
				err = fmt.Errorf("the dribbled request was answered (%v): the connection outlived its session timeout", f)
			} else if !rsClosedErr(err) {
				err = fmt.Errorf("no close: %v", err)
			} else {
				err = nil
			}
			closed <- err
		}()
		for i := range b {
			if _, err := c.nc.Write(b[i : i+1]); err != nil {
				break
			}
			select {
			case err := <-closed:
				if err != nil {
					t.Fatal(err)
				}
				if d := time.Since(start); d > 2*timeout+time.Second {
					t.Fatalf("closed after %v, session timeout %v", d, timeout)
				}
				return
			case <-time.After(step):
			}
		}
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
	})
}
