package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/dirsync"
	"github.com/embedzk/zk/internal/entry"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// Digest mismatches. Every entry carries the tree digest its leader
// predicted; each peer compares it with the digest its own apply computed.
// The log is the truth and Apply is deterministic, so every peer applying
// the same committed log reaches the same tree whatever the digests say: a
// digest is only the leader's prediction. A mismatch therefore means one of
// two things, and the peer that sees it cannot tell which: the leader
// mispredicted (a bug in its pipeline, such as issue 9's stale pending
// view), or this peer's tree diverged from the leader's (a storage or sync
// bug).
//
// So a peer that sees a mismatch stops (fail-stop: a diverged peer must not
// serve), but first records it durably in DataDir/digest-mismatches, naming
// the entry (zxid, txn type and path), both digests, and the last zxid of
// its log, and its error says the same. When it starts again, a mismatch
// on an entry from the recorded one up to that last zxid, in the same
// epoch, is tolerated: logged and counted, not fatal; so is one on a later
// entry of that epoch once the peer has accepted a newer epoch (a new
// leader is syncing it with the old epoch's history). Those entries were
// all predicted by the one leader whose pipeline is known to have gone
// wrong at the recorded entry, so their predictions may all carry the
// error and say nothing more; the tree they make is still the log's. Any
// other mismatch is fatal again: entries proposed after the stop, in the
// same epoch or a later one, come from a pipeline that predicts from its
// own applied tree, so if this peer had diverged rather than the leader
// mispredicted, the first write after its restart stops it again (it can
// serve reads only between its restart and that write). A peer that had
// not applied the entry when the others stopped stops when it does,
// records it, and comes back at its next start.
//
// ZooKeeper 3.6+ only logs and counts a digest mismatch and goes on; zk
// keeps the fail-stop, which never lets a diverged peer serve, and makes it
// recoverable by a restart instead of fatal forever.

// mismatchFile is the record of digest mismatches in DataDir.
const mismatchFile = "digest-mismatches"

// digestRecords is what a peer knows of recorded mismatches: loaded at the
// first mismatch it meets.
type digestRecords struct {
	recs      []mismatch
	loaded    bool
	tolerated int // mismatches tolerated since the peer started
}

// mismatch is one recorded digest mismatch.
type mismatch struct {
	zxid               int64
	through            int64  // the last zxid of the peer's log when it stopped
	txn                string // type and path, for people
	expected, computed uint64
}

func (m mismatch) epoch() int64 { return m.zxid >> 32 }

func (m mismatch) String() string {
	return fmt.Sprintf("zxid %#x (epoch %d), %s: the leader's digest %#x, this peer's %#x",
		m.zxid, m.epoch(), m.txn, m.expected, m.computed)
}

// line is m as one line of the record file.
func (m mismatch) line() string {
	return fmt.Sprintf("zxid=%#x through=%#x expected=%#x computed=%#x txn=%q\n", m.zxid, m.through, m.expected, m.computed, m.txn)
}

// covers reports whether a recorded mismatch tolerates one at zxid: the
// same epoch, from the recorded entry on, through the log's end at the
// stop or, once the peer accepted a later epoch (acceptedEpoch), to the
// epoch's end.
func covers(recs []mismatch, zxid, acceptedEpoch int64) (mismatch, bool) {
	for _, r := range recs {
		if r.epoch() == zxid>>32 && zxid >= r.zxid && (zxid <= r.through || acceptedEpoch > r.epoch()) {
			return r, true
		}
	}
	return mismatch{}, false
}

// describeEntry names an entry's txn for a mismatch report.
func describeEntry(en entry.Entry) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s", txnName(en.Txn.Type))
	if en.Txn.Path != "" {
		fmt.Fprintf(&b, " %s", shortPath(en.Txn.Path))
	}
	if n := len(en.Txn.Ops); n > 0 {
		fmt.Fprintf(&b, " of %d ops (first %s %s)", n, txnName(en.Txn.Ops[0].Type), shortPath(en.Txn.Ops[0].Path))
	}
	if len(en.Failure) > 0 {
		b.WriteString(", a failed request applied as a no-op")
	}
	fmt.Fprintf(&b, ", session %#x, from peer %d", en.Txn.Session, en.Origin)
	return b.String()
}

var txnNames = map[znode.TxnType]string{
	znode.TxnCreate: "create", znode.TxnDelete: "delete", znode.TxnSetData: "setData",
	znode.TxnSetACL: "setACL", znode.TxnCheck: "check", znode.TxnMulti: "multi",
	znode.TxnCreateSession: "createSession", znode.TxnCloseSession: "closeSession",
	znode.TxnDeleteContainer: "deleteContainer", znode.TxnNoop: "noop",
}

func txnName(t znode.TxnType) string {
	if n, ok := txnNames[t]; ok {
		return n
	}
	return fmt.Sprintf("txn type %d", t)
}

// digestMismatch handles a mismatch after applying en at zxid: nil if a
// record tolerates it (it is logged), else the error that stops the peer,
// once the mismatch is recorded.
func (p *peer) digestMismatch(zxid int64, en entry.Entry, computed uint64) error {
	m := mismatch{zxid: zxid, through: max(zxid, p.e.wal.LastZxid()), txn: describeEntry(en), expected: en.Digest, computed: computed}
	p.e.obs.digestMismatch()
	d := &p.digests
	if !d.loaded {
		recs, err := readMismatches(p.cfg)
		if err != nil {
			return fmt.Errorf("%w: %s (and reading %s: %v)", zkerr.ErrDataInconsistency, m, mismatchFile, err)
		}
		d.recs, d.loaded = recs, true
	}
	if r, ok := covers(d.recs, zxid, p.e.wal.State().AcceptedEpoch); ok {
		d.tolerated++
		p.cfg.Logger.Warn("zk: digest mismatch tolerated: its epoch's leader is known to have mispredicted",
			"mismatch", m.String(), "recorded", r.String(), "tolerated", d.tolerated)
		return nil
	}
	d.recs = append(d.recs, m)
	if err := writeMismatches(p.cfg, d.recs); err != nil {
		return fmt.Errorf("%w: %s (recording it: %v)", zkerr.ErrDataInconsistency, m, err)
	}
	return fmt.Errorf("%w: %s; recorded in %s: a restart tolerates it and the mismatches after it through %#x",
		zkerr.ErrDataInconsistency, m, mismatchFile, m.through)
}

// readMismatches reads the record file (none yet: no records).
func readMismatches(cfg Config) ([]mismatch, error) {
	f, err := cfg.FS.Open(filepath.Join(cfg.DataDir, mismatchFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []mismatch
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		var m mismatch
		if _, err := fmt.Sscanf(sc.Text(), "zxid=%v through=%v expected=%v computed=%v txn=%q", &m.zxid, &m.through, &m.expected, &m.computed, &m.txn); err != nil {
			return nil, fmt.Errorf("%s: %q: %w", mismatchFile, sc.Text(), err)
		}
		recs = append(recs, m)
	}
	return recs, sc.Err()
}

// writeMismatches replaces the record file with recs, durably (a temporary
// file, synced, renamed, the directory synced).
func writeMismatches(cfg Config, recs []mismatch) error {
	var b bytes.Buffer
	for _, m := range recs {
		b.WriteString(m.line())
	}
	tmp := filepath.Join(cfg.DataDir, mismatchFile+".tmp")
	f, err := cfg.FS.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	_, err = f.Write(b.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = cfg.FS.Rename(tmp, filepath.Join(cfg.DataDir, mismatchFile))
	}
	if err != nil {
		return err
	}
	return dirsync.Sync(cfg.FS, cfg.DataDir)
}
