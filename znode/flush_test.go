package znode

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

// TestFlushOnFullDisk: when the disk fills up, Pebble retries the flush
// forever; Flush returns the failure instead of waiting, the tree refuses
// writes from then on, and Close returns.
func TestFlushOnFullDisk(t *testing.T) {
	var full atomic.Bool
	inj := errorfs.InjectorFunc(func(op errorfs.Op) error {
		if full.Load() && op.Kind.ReadOrWrite() == errorfs.OpIsWrite && op.Kind != errorfs.OpFileClose {
			return fmt.Errorf("%s: %w", op.Path, syscall.ENOSPC)
		}
		return nil
	})
	tr, err := Open(testOptions(errorfs.Wrap(vfs.NewMem(), inj)))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, tree: tr, zxid: 0x100000000, now: 1_700_000_000_000}
	for i := 0; i < 10; i++ {
		h.ok(Txn{Type: TxnCreate, Path: fmt.Sprintf("/n%d", i), ACL: OpenACLUnsafe()})
	}
	for i := 0; i < 2; i++ { // the second flush has nothing to write: no failure
		if _, err := tr.Flush(); err != nil {
			t.Fatalf("flush %d: %v", i, err)
		}
	}
	h.ok(Txn{Type: TxnCreate, Path: "/unflushed", ACL: OpenACLUnsafe()})
	full.Store(true)
	done := make(chan error, 1)
	go func() {
		_, err := tr.Flush()
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Flush on a full disk: %v, want ENOSPC", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Flush hung on a full disk")
	}
	if tr.Durable() >= h.zxid {
		t.Fatalf("durable %#x after a failed flush", tr.Durable())
	}
	if _, _, err := tr.Apply(h.zxid+1, &Txn{Type: TxnCreate, Path: "/late", ACL: OpenACLUnsafe()}); !errors.Is(err, ErrFailed) {
		t.Fatalf("Apply after a failed flush: %v, want ErrFailed", err)
	}
	go func() { done <- tr.Close() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Close hung on a full disk")
	}
}

// TestAutoFlushBoundsCrashLoss applies many txns and crashes (a clone of
// the strict in-memory FS keeps only what was synced) after each of a few
// counts: the reopened tree is never more than two flush intervals behind
// what was applied, so the log never replays more than that.
func TestAutoFlushBoundsCrashLoss(t *testing.T) {
	for _, c := range []struct {
		name     string
		entries  int
		bytes    int64 // 0: the default, half the memtable
		memtable uint64
		data     []byte
		bound    int // txns a crash may lose
	}{
		{"entries", 40, 1 << 30, 4 << 20, nil, 2 * 40},
		// 1 KiB nodes: a batch holds more than the data, so 32 KiB of
		// batches hold fewer than 32 txns.
		{"bytes", 1 << 20, 32 << 10, 4 << 20, kib, 2 * 32},
		{"half the memtable", 1 << 20, 0, 64 << 10, kib, 2 * 32},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			opts := testOptions(mem)
			opts.FlushEntries, opts.FlushBytes, opts.MemTableSize = c.entries, c.bytes, c.memtable
			tr, err := Open(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			h := &harness{t: t, tree: tr, zxid: 0x100000000, now: 1_700_000_000_000}
			for i := 0; i < 1000; i++ {
				h.ok(Txn{Type: TxnCreate, Path: fmt.Sprintf("/n%04d", i), Data: c.data, ACL: OpenACLUnsafe()})
				if i%97 != 96 {
					continue
				}
				clone := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
				re, err := Open(testOptions(clone))
				if err != nil {
					t.Fatal(err)
				}
				got, _ := re.Applied()
				re.Close()
				if lost := h.zxid - max(got, 0x100000000); lost > int64(c.bound) {
					t.Fatalf("after %d txns a crash lost %d of them from the tree (the log must replay them), want at most %d",
						i+1, lost, c.bound)
				}
			}
			if d := tr.Durable(); h.zxid-d > int64(c.bound) {
				t.Fatalf("durable %#x, applied %#x: more than %d behind", d, h.zxid, c.bound)
			}
		})
	}
}
