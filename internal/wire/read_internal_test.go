package wire

import (
	"bytes"
	"net"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/embedzk/zk/internal/jute"
)

// countingListener counts the reads of its connections that brought bytes,
// whether through Read or through their raw socket.
type countingListener struct {
	net.Listener
	reads atomic.Int64
	srv   *Server
}

// count returns the reads counted, and those of the server's ring.
func (l *countingListener) count() int64 { return l.reads.Load() + l.srv.ringReads() }

func (l *countingListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{TCPConn: nc.(*net.TCPConn), l: l}, nil
}

type countingConn struct {
	*net.TCPConn
	l *countingListener
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.TCPConn.Read(b)
	if n > 0 {
		c.l.reads.Add(1)
	}
	return n, err
}

func (c *countingConn) SyscallConn() (syscall.RawConn, error) {
	rc, err := c.TCPConn.SyscallConn()
	return countingRaw{rc, c.l}, err
}

type countingRaw struct {
	syscall.RawConn
	l *countingListener
}

// Read counts the calls of f that report the read done; a read that
// brought bytes reports so (the server's inbox).
func (r countingRaw) Read(f func(fd uintptr) bool) error {
	return r.RawConn.Read(func(fd uintptr) bool {
		done := f(fd)
		if done {
			r.l.reads.Add(1)
		}
		return done
	})
}

// countedPeer starts a standalone peer served through a countingListener.
func countedPeer(t *testing.T) (*Server, *countingListener) {
	t.Helper()
	e := servingStandalone(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln}
	srv := newServer(e, cl, nil)
	if err := srv.chooseIO(); err != nil {
		t.Fatal(err)
	}
	usesRing(t, srv)
	cl.srv = srv
	stop, done := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() {
		close(stop)
		<-done
		e.Close()
	})
	go func() {
		defer close(done)
		srv.Serve(stop)
	}()
	return srv, cl
}

// TestOneReadPerRequest: a setData of a 1 KiB value, sent once the reply
// before it arrived, is read from the socket in one read (with a 128-byte
// read-ahead it took two: the head, then the rest of the frame).
func TestOneReadPerRequest(t *testing.T) {
	srv, cl := countedPeer(t)
	c := connectTo(t, srv)
	c.write(request(1, jute.OpCreate, &jute.CreateRequest{Path: "/r", ACL: openACL()}))
	if h, _ := c.read(); h.Err != 0 {
		t.Fatalf("create: %+v", h)
	}
	const n = 50
	before := cl.count()
	for i := int32(2); i < 2+n; i++ {
		c.write(request(i, jute.OpSetData, &jute.SetDataRequest{Path: "/r", Data: make([]byte, 1024), Version: -1}))
		if h, ev := c.read(); ev != nil || h.Xid != i || h.Err != 0 {
			t.Fatalf("setData %d: %+v %+v", i, h, ev)
		}
	}
	if reads := cl.count() - before; reads > n {
		t.Fatalf("%d reads for %d requests of 1 KiB, want at most one each", reads, n)
	}
}

// TestPipelinedBurstFewReads: a burst of small pipelined requests, written
// at once, is read in a few reads, and every request is answered in order.
func TestPipelinedBurstFewReads(t *testing.T) {
	srv, cl := countedPeer(t)
	c := connectTo(t, srv)
	c.write(request(1, jute.OpCreate, &jute.CreateRequest{Path: "/b", ACL: openACL()}))
	if h, _ := c.read(); h.Err != 0 {
		t.Fatalf("create: %+v", h)
	}
	const n = 300
	var burst []byte
	for i := int32(2); i < 2+n; i++ {
		burst = append(burst, request(i, jute.OpExists, &jute.PathWatchRequest{Path: "/b"})...)
	}
	before := cl.count()
	c.write(burst)
	for i := int32(2); i < 2+n; i++ {
		if h, ev := c.read(); ev != nil || h.Xid != i || h.Err != 0 {
			t.Fatalf("exists %d: %+v %+v", i, h, ev)
		}
	}
	// Loopback delivers the burst in a few segments; each read takes what
	// arrived, up to readBufSize.
	if reads, most := cl.count()-before, int64(len(burst)/readBufSize+8); reads > most {
		t.Fatalf("%d reads for a burst of %d bytes (%d requests), want at most %d", reads, len(burst), n, most)
	}
}

// TestFramesSplitAnywhere: frames that arrive a few bytes at a time, and a
// frame longer than the read buffer, are read whole and answered in order.
func TestFramesSplitAnywhere(t *testing.T) {
	srv, _ := countedPeer(t)
	c := connectTo(t, srv)
	big := bytes.Repeat([]byte("z"), 3*readBufSize+5)
	var stream []byte
	stream = append(stream, request(1, jute.OpCreate, &jute.CreateRequest{Path: "/s", ACL: openACL()})...)
	stream = append(stream, request(2, jute.OpSetData, &jute.SetDataRequest{Path: "/s", Data: big, Version: -1})...)
	stream = append(stream, request(3, jute.OpGetData, &jute.PathWatchRequest{Path: "/s"})...)
	// The first bytes three at a time (each write a segment of its own:
	// the server reads the frames' heads in pieces), the rest at once.
	for off := 0; off < 200; off += 3 {
		c.write(stream[off:min(off+3, 200)])
	}
	go c.write(stream[200:])
	for want := int32(1); want <= 3; want++ {
		b, err := jute.ReadFrame(c.nc, nil, 1<<24)
		if err != nil {
			t.Fatal(err)
		}
		d := jute.NewDecoder(b)
		var h jute.ReplyHeader
		h.Decode(d)
		if h.Xid != want || h.Err != 0 {
			t.Fatalf("reply %+v, want xid %d", h, want)
		}
		if want == 3 {
			var r jute.GetDataResponse
			r.Decode(d)
			if !bytes.Equal(r.Data, big) {
				t.Fatalf("getData: %d bytes back, want the %d written", len(r.Data), len(big))
			}
		}
	}
}
