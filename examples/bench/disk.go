package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// The disk's own rates, measured before each round with nothing of zk or
// ZooKeeper in between: what a write that must be durable can reach on
// this machine at best.

// fsyncRate measures the disk's own rate of a value-sized write + fsync,
// with files writers writing and syncing at once (each its own file, as
// each peer has its own log): the total rate of all of them. Each file is
// filled with zeros 1 MiB ahead of its writes, as zk's log is
// (wal.Options.PreAllocSize), which is the faster way to fsync a log on
// this machine's ext4: the ratios against this rate are the conservative
// ones.
func fsyncRate(dir string, d time.Duration, files int) (float64, error) {
	var total atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, files)
	start := time.Now()
	for i := range files {
		wg.Go(func() {
			var n int64
			n, errs[i] = fsyncLoop(filepath.Join(dir, fmt.Sprint("fsync-probe-", i)), start.Add(d))
			total.Add(n)
		})
	}
	wg.Wait()
	return float64(total.Load()) / time.Since(start).Seconds(), errors.Join(errs...)
}

// fsyncLoop writes a value and fsyncs name until deadline, as a logFile
// does; it returns how many it did.
func fsyncLoop(name string, deadline time.Time) (int64, error) {
	f, err := os.Create(name)
	if err != nil {
		return 0, err
	}
	defer os.Remove(name)
	defer f.Close()
	lf := newLogFile(f, *valueLen)
	var n int64
	for time.Now().Before(deadline) {
		if err := lf.writeSync(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// logFile writes records to a file as zk's log does: each one followed by
// an fsync, the file kept zero-filled 1 MiB ahead of the writes
// (wal.Options.PreAllocSize).
type logFile struct {
	f                 *os.File
	rec, zeros, batch []byte
	off, zeroEnd      int64
}

func newLogFile(f *os.File, recLen int) *logFile {
	return &logFile{f: f, rec: make([]byte, recLen), zeros: make([]byte, 1<<20)}
}

// writeSync writes one record, the zeros ahead of it when it passed them,
// and fsyncs.
func (l *logFile) writeSync() error { return l.writeSyncN(1) }

// writeSyncN writes n records in one write, the zeros ahead of them when
// they passed them, and fsyncs.
func (l *logFile) writeSyncN(n int) error {
	recs := l.rec
	if n > 1 {
		if len(l.batch) < n*len(l.rec) {
			l.batch = make([]byte, n*len(l.rec))
		}
		recs = l.batch[:n*len(l.rec)]
	}
	if _, err := l.f.WriteAt(recs, l.off); err != nil {
		return err
	}
	l.off += int64(len(recs))
	if l.off > l.zeroEnd {
		if _, err := l.f.WriteAt(l.zeros, l.off); err != nil {
			return err
		}
		l.zeroEnd = l.off + int64(len(l.zeros))
	}
	return l.f.Sync()
}

// quorumChainRate measures how many commits a second a quorum of need of
// files logs on this disk when each commit waits for the one before it,
// as a single session's creates do and as a contended lock's hand-offs do
// (each is a commit that the next one waits for): a record is written to
// every file; once need of them have it durable it is committed and the
// next record exists. A file that fell behind writes every record it
// missed in one write and one fsync, as a peer's log groups what it
// received meanwhile. Nothing but the files is in the loop (no network,
// no encoding), so no system of need of files peers on this disk commits
// one-at-a-time faster.
func quorumChainRate(dir string, d time.Duration, files, need int) (float64, error) {
	q := &quorumChain{durable: make([]int64, files), newest: 1, need: need}
	q.cond = sync.NewCond(&q.mu)
	errs := make([]error, files)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range files {
		wg.Go(func() { errs[i] = q.follow(filepath.Join(dir, fmt.Sprint("chain-probe-", i)), i) })
	}
	time.Sleep(d)
	q.mu.Lock()
	q.stop = true
	committed := q.committed
	q.cond.Broadcast()
	q.mu.Unlock()
	elapsed := time.Since(start)
	wg.Wait()
	return float64(committed) / elapsed.Seconds(), errors.Join(errs...)
}

// quorumChain is quorumChainRate's shared state: records 1..newest exist,
// file i has 1..durable[i] durable, 1..committed are committed.
type quorumChain struct {
	mu                sync.Mutex
	cond              *sync.Cond
	durable           []int64
	newest, committed int64
	need              int
	stop              bool
}

// follow is file i's writer: it writes and fsyncs every record it does not
// have yet, and commits the newest record once need files have it.
func (q *quorumChain) follow(name string, i int) error {
	f, err := os.Create(name)
	if err != nil {
		q.fail()
		return err
	}
	defer os.Remove(name)
	defer f.Close()
	lf := newLogFile(f, *valueLen)
	for {
		q.mu.Lock()
		for !q.stop && q.durable[i] >= q.newest {
			q.cond.Wait()
		}
		if q.stop {
			q.mu.Unlock()
			return nil
		}
		upto, missing := q.newest, q.newest-q.durable[i]
		q.mu.Unlock()
		if err := lf.writeSyncN(int(missing)); err != nil {
			q.fail()
			return err
		}
		q.mu.Lock()
		q.durable[i] = upto
		have := 0
		for _, v := range q.durable {
			if v >= q.newest {
				have++
			}
		}
		if have >= q.need && q.committed < q.newest {
			q.committed = q.newest
			q.newest++
			q.cond.Broadcast()
		}
		q.mu.Unlock()
	}
}

// fail stops every writer: one file's error ends the measurement.
func (q *quorumChain) fail() {
	q.mu.Lock()
	q.stop = true
	q.cond.Broadcast()
	q.mu.Unlock()
}
