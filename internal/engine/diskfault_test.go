package engine

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// diskFault makes a file system fail the way a full disk or a directory
// made read-only does, from the moment it is switched on.
type diskFault struct {
	on   atomic.Bool
	kind string // "full" or "readonly"
}

func (d *diskFault) MaybeError(op errorfs.Op) error {
	if !d.on.Load() || op.Kind.ReadOrWrite() != errorfs.OpIsWrite || op.Kind == errorfs.OpFileClose {
		return nil
	}
	if d.kind == "full" {
		return fmt.Errorf("%s: %w", op.Path, syscall.ENOSPC)
	}
	switch op.Kind {
	case errorfs.OpCreate, errorfs.OpLink, errorfs.OpRemove, errorfs.OpRemoveAll,
		errorfs.OpRename, errorfs.OpReuseForWrite, errorfs.OpMkdirAll:
		// A directory without write permission: no file comes or goes,
		// while files already open keep taking writes.
		return fmt.Errorf("%s: %w", op.Path, syscall.EACCES)
	}
	return nil
}

func (d *diskFault) String() string { return d.kind }

// closeWithin closes e and fails the test if Close does not return: a hang
// is the defect these tests look for, so they guard against it rather than
// wait forever.
func closeWithin(t *testing.T, e *Ensemble) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- e.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Close hung after a disk fault")
		return nil
	}
}

// fillDisk opens a standalone peer on a disk that fills up after some
// applied writes (not yet flushed to the tree); the next write fail-stops
// the peer.
func fillDisk(t *testing.T, cfg func(*Config)) *Ensemble {
	fault := &diskFault{kind: "full"}
	c := testConfig(errorfs.Wrap(vfs.NewMem(), fault), 1)
	if cfg != nil {
		cfg(&c)
	}
	e := openTest(t, c)
	s := newSession(t, e)
	for i := 0; i < 20; i++ {
		mustCreate(t, s, fmt.Sprintf("/n%02d", i), "x")
	}
	fault.on.Store(true)
	if _, err := s.Create(testCtx(t), "/full", nil); !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("write on a full disk: %v, want ErrOutcomeUnknown", err)
	}
	return e
}

// TestCloseAfterDiskFull: Close of a peer that fail-stopped on a full disk
// returns (with the failure) instead of retrying the tree's flush forever.
func TestCloseAfterDiskFull(t *testing.T) {
	e := fillDisk(t, nil)
	err := closeWithin(t, e)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Close of a failed peer: %v, want the failure (ENOSPC)", err)
	}
	if st := e.Status(); st.Mode != ModeClosed || st.Serving || st.Err == nil {
		t.Fatalf("status after Close: %+v", st)
	}
}

// TestStatusAfterFailStop: after a fail-stop, Status and the listener say
// so (mode failed, not serving, why).
func TestStatusAfterFailStop(t *testing.T) {
	var heard atomic.Pointer[Status]
	e := fillDisk(t, func(c *Config) {
		c.Listener.StatusChanged = func(st Status) { heard.Store(&st) }
	})
	defer closeWithin(t, e)
	st := e.Status()
	if st.Mode != ModeFailed || st.Serving || st.Err == nil || !errors.Is(st.Err, syscall.ENOSPC) {
		t.Fatalf("status after the fail-stop: %+v, want mode failed, not serving, the ENOSPC", st)
	}
	if st.LastZxid < st.Applied {
		t.Fatalf("status after the fail-stop: last zxid %#x below the applied %#x", st.LastZxid, st.Applied)
	}
	if err := e.Barrier(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if st := heard.Load(); st == nil || st.Mode != ModeFailed || st.Serving || st.Err == nil {
		t.Fatalf("the listener heard %+v, want the failure", st)
	}
}

// TestCloseOnReadOnlyDir makes the data directory read-only under a peer
// that serves: the log's open segment still takes writes, but the tree
// cannot flush. Close returns the flush failure instead of hanging.
func TestCloseOnReadOnlyDir(t *testing.T) {
	fault := &diskFault{kind: "readonly"}
	e := openTest(t, testConfig(errorfs.Wrap(vfs.NewMem(), fault), 1))
	s := newSession(t, e)
	for i := 0; i < 20; i++ {
		mustCreate(t, s, fmt.Sprintf("/n%02d", i), "x")
	}
	fault.on.Store(true)
	mustCreate(t, s, "/still", "x") // the open segment takes it
	if err := closeWithin(t, e); !errors.Is(err, syscall.EACCES) {
		t.Fatalf("Close with a read-only tree directory: %v, want the flush failure (EACCES)", err)
	}
}
