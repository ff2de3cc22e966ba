//go:build linux

package wire_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/uring"
)

// The logging null server (BenchmarkWireLogCeiling): the io_uring null
// server that also makes every write durable before it answers it, as any
// ZooKeeper must. Each create, setData and delete request's frame is
// appended to a log file, and its reply (with every later reply of its
// connection) is held until a write and an fdatasync covering it have
// returned. Nothing
// else: no tree, no session, no checksum, no zero-filling ahead (the file
// is zero-filled once at start and written round). So it bounds what a
// server can show that keeps ZooKeeper's promise of durability with these
// clients on this machine; zk does all of this and keeps a tree besides.
//
// Two ways to wait for the disk, as a server built either way would:
//
//   - "sync": the ring's thread writes and syncs the group itself after
//     each turn (all the writes that one turn received), as zk's peer
//     loop does: nothing is received or answered during the fsync.
//   - "ring": the write and the fdatasync are linked entries of the ring,
//     run by the kernel's workers; the thread goes on receiving and
//     answering reads, and the next group's write starts as soon as the
//     last group's fsync returns (one in flight), as ZooKeeper's
//     SyncRequestProcessor does beside its other stages.

// nullLogEnv names the log's mode and directory, "sync:DIR" or "ring:DIR",
// for a null server started over io_uring.
const nullLogEnv = "ZK_WIRE_NULL_LOG"

// nullLogSize is the log file's size: zero-filled and synced once, then
// written round, so that no write allocates blocks or grows the file.
const nullLogSize = 64 << 20

const (
	tagLogWrite = 3
	tagLogSync  = 4

	opWrite        = 23 // IORING_OP_WRITE
	opFsync        = 3  // IORING_OP_FSYNC
	fsyncDatasync  = 1  // IORING_FSYNC_DATASYNC
	sqeLinkNextOne = 4  // IOSQE_IO_LINK: the next entry starts when this one succeeded
)

// nullLog is the logging null server's log, owned by the ring's loop.
type nullLog struct {
	ring     bool
	f        *os.File
	fd       int
	off      int64
	cur      []byte   // frames of the group being gathered
	flushing []byte   // frames of the group being written (ring mode)
	gather   uint64   // the group being gathered
	durable  uint64   // the last group whose fsync returned
	inFlight bool     // a write and fsync are in the ring
	waiting  []uint64 // connections holding replies
}

// openNullLog parses "mode:dir" and creates the log file in dir.
func openNullLog(spec string) (*nullLog, error) {
	mode, dir, ok := strings.Cut(spec, ":")
	if !ok || mode != "sync" && mode != "ring" {
		return nil, fmt.Errorf("%s=%q: want sync:DIR or ring:DIR", nullLogEnv, spec)
	}
	f, err := os.Create(filepath.Join(dir, "null.log"))
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(make([]byte, nullLogSize)); err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	return &nullLog{ring: mode == "ring", f: f, fd: int(f.Fd()), gather: 1}, nil
}

// addrOf is b's address, for an SQE.
func addrOf(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }

// isWrite reports whether the request in body changes the tree.
func isWrite(body []byte) bool {
	if len(body) < 8 {
		return false
	}
	switch int32(binary.BigEndian.Uint32(body[4:])) {
	case jute.OpCreate, jute.OpCreate2, jute.OpSetData, jute.OpDelete:
		return true
	}
	return false
}

// holds reports whether c's next reply must wait for the log: it answers
// a write, or c already holds one (a connection's replies keep their
// order).
func (l *nullLog) holds(c *uconn, body []byte) bool {
	return l != nil && (len(c.held) > 0 || isWrite(body))
}

// hold notes that connection id holds a reply for the group being
// gathered, and logs body if it is a write.
func (l *nullLog) hold(id uint64, c *uconn, body []byte) {
	if isWrite(body) {
		l.cur = binary.BigEndian.AppendUint32(l.cur, uint32(len(body)))
		l.cur = append(l.cur, body...)
	}
	if c.heldGroup == 0 {
		l.waiting = append(l.waiting, id)
	}
	c.heldGroup = l.gather
}

// turn runs after each of the loop's turns: it makes the gathered group
// durable (sync mode), or starts its write if none is in flight (ring).
func (l *nullLog) turn(s *uringNull) error {
	if len(l.cur) == 0 {
		return nil
	}
	if !l.ring {
		if err := l.writeAt(l.cur); err != nil {
			return err
		}
		if err := syscall.Fdatasync(l.fd); err != nil {
			return fmt.Errorf("null log: fdatasync: %w", err)
		}
		l.cur = l.cur[:0]
		l.durable = l.gather
		l.gather++
		return l.release(s)
	}
	if l.inFlight {
		return nil
	}
	l.cur, l.flushing = l.flushing[:0], l.cur
	if l.off+int64(len(l.flushing)) > nullLogSize {
		l.off = 0
	}
	write := uring.SQE{Opcode: opWrite, Flags: sqeLinkNextOne, Fd: int32(l.fd), Off: uint64(l.off),
		Addr: addrOf(l.flushing), Len: uint32(len(l.flushing)), UserData: tagLogWrite}
	l.off += int64(len(l.flushing))
	sync := uring.SQE{Opcode: opFsync, Fd: int32(l.fd), OpFlags: fsyncDatasync, UserData: tagLogSync}
	if err := s.r.Queue(write); err != nil {
		return err
	}
	if err := s.r.Queue(sync); err != nil {
		return err
	}
	l.inFlight = true
	l.gather++
	return nil
}

// writeAt writes b at the log's offset, wrapping round at its end.
func (l *nullLog) writeAt(b []byte) error {
	if l.off+int64(len(b)) > nullLogSize {
		l.off = 0
	}
	if _, err := l.f.WriteAt(b, l.off); err != nil {
		return fmt.Errorf("null log: write: %w", err)
	}
	l.off += int64(len(b))
	return nil
}

// completed handles the ring's completion of a log write or fsync.
func (l *nullLog) completed(s *uringNull, cq uring.CQE) error {
	if cq.Res < 0 {
		return fmt.Errorf("null log: %d: %w", cq.UserData, syscall.Errno(-cq.Res))
	}
	if cq.UserData == tagLogWrite {
		if int(cq.Res) != len(l.flushing) {
			return fmt.Errorf("null log: wrote %d of %d bytes", cq.Res, len(l.flushing))
		}
		return nil
	}
	l.inFlight = false
	l.durable = l.gather - 1
	return l.release(s)
}

// release sends the held replies of every group now durable.
func (l *nullLog) release(s *uringNull) error {
	kept := l.waiting[:0]
	for _, id := range l.waiting {
		c := s.conns[id]
		if c == nil {
			continue
		}
		if c.heldGroup > l.durable {
			kept = append(kept, id)
			continue
		}
		c.pend = append(c.pend, c.held...)
		c.held, c.heldGroup = c.held[:0], 0
		if err := s.kick(id, c); err != nil {
			return err
		}
	}
	l.waiting = kept
	return nil
}

// startLoggingNull starts the logging null server with its log in dir,
// waiting for the disk in mode ("sync" or "ring"), and returns its address.
func startLoggingNull(tb testing.TB, mode, dir string) string {
	tb.Helper()
	return startNullServer(tb, true, nullLogEnv+"="+mode+":"+dir)
}

// TestLoggingNullServer: the logging null server answers as the null server
// does, and a write's reply comes only once its frame is in the log.
func TestLoggingNullServer(t *testing.T) {
	if err := uringAvailable(); err != nil {
		t.Skipf("this kernel refuses io_uring (%v): the io_uring null server cannot run here", err)
	}
	for _, mode := range []string{"sync", "ring"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			addr := startLoggingNull(t, mode, dir)
			testNullServer(t, addr)
			c, _ := dial(t, addr)
			for i := 0; i < 50; i++ {
				path := fmt.Sprintf("/logged-%s-%d", mode, i)
				if _, err := c.Create(path, nil, 0, open); err != nil {
					t.Fatalf("create %s: %v", path, err)
				}
				if !bytes.Contains(logHead(t, dir), []byte(path)) {
					t.Fatalf("the create of %s was answered before its frame was in the log", path)
				}
			}
		})
	}
}

// logHead returns the first 64 KiB of the log in dir, where this test's
// frames are (the log is written from its start, and round only at its
// end).
func logHead(t *testing.T, dir string) []byte {
	f, err := os.Open(filepath.Join(dir, "null.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 64<<10)
	if _, err := io.ReadFull(f, b); err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkWireLogCeiling: a standalone zk peer, the io_uring null server,
// and the logging null server waiting for the disk either way, each against
// a standalone ZooKeeper 3.8, all alternating in every round: how far a
// server that keeps ZooKeeper's durability and does nothing else could be
// from ZooKeeper, and how far zk is, in the same minutes.
//
//	go test ./internal/wire -run x -bench WireLogCeiling -benchtime 20000x -wire.rounds 5
func BenchmarkWireLogCeiling(b *testing.B) {
	if b.N == 1 {
		return // the framework's probe: run with -benchtime Nx
	}
	if err := uringAvailable(); err != nil {
		b.Fatalf("the null servers: this kernel refuses io_uring: %v", err)
	}
	zoo := side{"ZooKeeper", startRealZKs(b, 1)}
	ours := side{"zk", startOurs(b, 1)}
	null := side{"null-uring", []string{startNullServer(b, true)}}
	logSync := side{"null-log-sync", []string{startLoggingNull(b, "sync", b.TempDir())}}
	logRing := side{"null-log-ring", []string{startLoggingNull(b, "ring", b.TempDir())}}
	compareAll(b, zoo, ours, null, logSync, logRing)
}
