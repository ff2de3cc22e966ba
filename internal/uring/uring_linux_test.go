package uring

import (
	"bytes"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// testRing makes a ring. Where the kernel refuses one the test is skipped,
// saying why: the client port then serves with a goroutine per connection
// (internal/wire's TestClientIOChoice prints which layer a run uses).
func testRing(t *testing.T, owned bool) *Ring {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("io_uring refused by this kernel: %v", err)
	}
	newRing := New
	if owned {
		// The test's goroutine keeps its thread: the ring's only issuer.
		runtime.LockOSThread()
		t.Cleanup(runtime.UnlockOSThread)
		newRing = NewOwned
	}
	r, err := newRing(8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// eachRing runs fn with a plain ring and with an owned one.
func eachRing(t *testing.T, fn func(t *testing.T, r *Ring)) {
	for _, owned := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "owned"}[owned], func(t *testing.T) {
			fn(t, testRing(t, owned))
		})
	}
}

// reap waits for n completions and returns them by user data.
func reap(t *testing.T, r *Ring, n int) map[uint64]CQE {
	t.Helper()
	got := map[uint64]CQE{}
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d completions within 10s", len(got), n)
		}
		if !r.Ready() {
			if err := r.Enter(1); err != nil {
				t.Fatal(err)
			}
		}
		r.Reap(func(c CQE) { got[c.UserData] = c })
	}
	return got
}

// TestSendRecvTimeout: a send and a receive on a socket pair, and a
// timeout, each complete once with its own user data and result.
func TestSendRecvTimeout(t *testing.T) { eachRing(t, sendRecvTimeout) }

func sendRecvTimeout(t *testing.T, r *Ring) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	out, in := []byte("hello, ring"), make([]byte, 64)
	ts := Timespec{Nsec: int64(time.Millisecond)}
	for _, s := range []SQE{Recv(fds[1], in, 2), Send(fds[0], out, 1), Timeout(&ts, 3)} {
		if err := r.Queue(s); err != nil {
			t.Fatal(err)
		}
	}
	if r.Queued() != 3 {
		t.Fatalf("Queued %d, want 3", r.Queued())
	}
	got := reap(t, r, 3)
	if c := got[1]; c.Res != int32(len(out)) {
		t.Fatalf("send: %d, want %d", c.Res, len(out))
	}
	if c := got[2]; c.Res != int32(len(out)) || !bytes.Equal(in[:c.Res], out) {
		t.Fatalf("recv: %d %q", c.Res, in[:max(c.Res, 0)])
	}
	if c := got[3]; c.Res != -int32(syscall.ETIME) {
		t.Fatalf("timeout: %d, want -ETIME", c.Res)
	}
	if r.Queued() != 0 {
		t.Fatalf("Queued %d after enter", r.Queued())
	}
}

// TestQueueFull: more SQEs than the ring holds are all submitted (Queue
// submits a full queue first) and all complete.
func TestQueueFull(t *testing.T) { eachRing(t, queueFull) }

func queueFull(t *testing.T, r *Ring) {
	ts := Timespec{Nsec: 1}
	for i := range 20 {
		if err := r.Queue(Timeout(&ts, uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := reap(t, r, 20); len(got) != 20 {
		t.Fatalf("%d completions", len(got))
	}
}
