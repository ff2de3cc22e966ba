package znode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Defaults for Options, sized for a library embedded in a host process:
// three peers in one process hold 100,000 nodes of 1 KiB in about a tenth
// of the memory three ZooKeeper JVMs take (examples/bench). Larger
// memtables delay flushes (and make restarts replay more of the log);
// a larger block cache serves more reads of old nodes from memory.
//
// DefaultMemTableSize: every flush writes a table that overlaps the whole
// key range (the meta key and the parents change with every txn), so the
// fewer the flushes, the less Pebble compacts. With 16 MiB memtables (and
// flushes every 8 MiB of batches) a create of 1 KiB costs the tree 6.5-6.7
// µs of CPU, Pebble's background work included, against 9.4-11.7 µs with
// 4 MiB (BenchmarkTreeCost/create, 300,000 creates: 42 flushes and 5
// compactions against 161 and 19).
const (
	DefaultMaxDataSize  = 1 << 20
	DefaultCacheSize    = 8 << 20
	DefaultMemTableSize = 16 << 20
	// DefaultValueCacheSize is the default of Options.ValueCacheSize.
	DefaultValueCacheSize = 4 << 20
	// DefaultSeparateValues is the default of Options.SeparateValues.
	DefaultSeparateValues = 256
)

// Options configures a Tree.
type Options struct {
	FS          vfs.FS       // required
	Dir         string       // the tree's directory (Pebble lives below it)
	MaxDataSize int          // default 1 MiB (1 << 20); must be > 0; the same on every peer
	Logger      *slog.Logger // optional
	CacheSize   int64        // Pebble block cache bytes; default DefaultCacheSize (the memtables come on top)
	// FlushEntries and FlushBytes bound what a crash loses from the tree
	// (the log replays it): after FlushEntries txns, or FlushBytes of
	// Pebble batches, applied since the last flush started, the tree
	// starts another in the background; a crash loses at most twice that
	// (see autoFlush). Defaults DefaultFlushEntries and half of
	// MemTableSize (a memtable holds less than its size of batches, so an
	// interval as large as the memtable would flush twice); a negative
	// FlushEntries leaves flushing to Pebble (a full memtable).
	FlushEntries int
	FlushBytes   int64
	// MemTableSize is Pebble's memtable size; default DefaultMemTableSize.
	// Pebble starts with a small memtable and grows it up to this size.
	MemTableSize uint64
	// ValueCacheSize bounds the memory (bytes, approximately) of the cache
	// of node and session values that Apply, Pending, Get and Stat read
	// before Pebble (cache.go); default DefaultValueCacheSize, negative:
	// no cache.
	ValueCacheSize int64
	// SeparateValues is the size (bytes) from which Pebble stores a key's
	// value in a blob file beside its tables, so that compactions move the
	// key and a reference instead of the value (a node value is its Stat,
	// ACL and data: a create of 1 KiB then costs about a third less CPU,
	// BenchmarkTreeCost); default DefaultSeparateValues, negative: every
	// value stays in the tables.
	SeparateValues int
	// EnforceQuota makes Prepare refuse writes past a quota's hard limit
	// (ZooKeeper's zookeeper.enforceQuota); Apply never refuses, so peers may
	// differ: the leader's setting decides.
	EnforceQuota bool
	// NoDigestACL makes Prepare refuse an ACL with a digest entry
	// (ErrInvalidACL, in the op's place among its checks), as ZooKeeper's
	// fixupACL does with its digest provider unregistered
	// (zookeeper.DigestAuthenticationProvider.enabled=false); Apply never
	// refuses one, so peers may differ: the leader's setting decides.
	NoDigestACL bool
}

// ErrZxidOrder reports an Apply whose zxid is not above the applied zxid.
var ErrZxidOrder = errors.New("znode: zxid not above the applied zxid")

// ErrFailed reports a call on a Tree that hit a storage failure in Apply:
// the tree refuses further writes (fail-stop) until it is reopened.
var ErrFailed = errors.New("znode: tree failed")

// Tree is the znode tree stored in Pebble.
type Tree struct {
	opts Options
	log  *slog.Logger

	// db is replaced only by Restore, which is not concurrent with
	// anything else.
	db     *pebble.DB
	health *dbHealth // db's flushes
	blocks *pebble.Cache
	name   string // the Pebble directory in use, below opts.Dir

	applied  atomic.Pointer[meta]
	applying applyingAt // a group's state before its commit (group.go)
	durable  atomic.Int64
	auto     autoFlush
	failed   atomic.Pointer[error]

	closeOnce sync.Once
	closeErr  error

	quota    quotaCounters          // quota_read.go
	quotaTop atomic.Pointer[[]byte] // quota_cache.go
	cache    *valueCache            // cache.go
	// visible is odd while a commit or a Restore changes what reads see
	// (from before Pebble makes a batch visible until the value cache has
	// it), even otherwise: reads take values from the cache only while it
	// is even (read.go, readThrough).
	visible atomic.Uint64
	// madeVisible, when set (tests), runs in Commit after Pebble made the
	// batch visible and before the value cache has it.
	madeVisible func()
	filter      atomic.Pointer[keyFilter] // filter.go; nil: every lookup goes to Pebble
	building    atomic.Pointer[keyFilter] // filter.go: the filter a running build fills
	buildMu     sync.Mutex
	build       *filterBuild // the running build, or nil
	// filterHook, if set (tests), runs in each filter build after its
	// snapshot is taken, before the scan.
	filterHook func()
	// filterMinKeys is the key filter's smallest layer and churn floor
	// (filterMinKeys; tests lower it to reach rebuilds and growth sooner).
	filterMinKeys int
}

func (o Options) withDefaults() (Options, error) {
	if o.FS == nil {
		return o, errors.New("znode: Options.FS is required")
	}
	if o.Dir == "" {
		return o, errors.New("znode: Options.Dir is required")
	}
	if o.MaxDataSize < 0 {
		return o, fmt.Errorf("znode: Options.MaxDataSize %d must be > 0", o.MaxDataSize)
	}
	if o.MaxDataSize == 0 {
		o.MaxDataSize = DefaultMaxDataSize
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = DefaultMemTableSize
	}
	if o.ValueCacheSize == 0 {
		o.ValueCacheSize = DefaultValueCacheSize
	}
	if o.SeparateValues == 0 {
		o.SeparateValues = DefaultSeparateValues
	}
	if o.FlushEntries == 0 {
		o.FlushEntries = DefaultFlushEntries
	}
	if o.FlushBytes <= 0 {
		o.FlushBytes = int64(o.MemTableSize / 2)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Open opens the tree in opts.Dir, creating it (/, /zookeeper,
// /zookeeper/quota, /zookeeper/config at zxid 0) if there is none. It also
// removes what an interrupted Restore left behind.
func Open(opts Options) (*Tree, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	// Pebble charges its memtables (up to two of them, one flushing) to the
	// block cache; size the cache so that CacheSize bytes stay for blocks.
	cacheBytes := opts.CacheSize + 2*int64(opts.MemTableSize)
	t := &Tree{opts: opts, log: opts.Logger, blocks: pebble.NewCache(cacheBytes), cache: newValueCache(opts.ValueCacheSize), filterMinKeys: filterMinKeys}
	if err := t.open(); err != nil {
		t.blocks.Unref()
		return nil, err
	}
	return t, nil
}

func (t *Tree) open() error {
	fs := t.opts.FS
	if err := mkdirAllSynced(fs, t.opts.Dir); err != nil {
		return fmt.Errorf("znode: create %s: %w", t.opts.Dir, err)
	}
	name, found, err := readCurrent(fs, t.opts.Dir)
	if err != nil {
		return err
	}
	if !found {
		return t.create()
	}
	if err := removeStale(fs, t.opts.Dir, name); err != nil {
		return err
	}
	db, h, err := t.openDB(name, false)
	if err != nil {
		return err
	}
	m, err := readMeta(db)
	if err == nil && m.sizes == unknownSizes {
		m.sizes, err = measureSizes(db)
	}
	if err != nil {
		_ = db.Close()
		return err
	}
	t.health = h
	t.db, t.name = db, name
	t.loadQuotaTop()
	t.applied.Store(&m)
	t.durable.Store(m.zxid)
	t.startFilterBuild()
	return nil
}

// create makes a fresh tree and points CURRENT at it.
func (t *Tree) create() error {
	fs := t.opts.FS
	if err := removeStale(fs, t.opts.Dir, ""); err != nil {
		return err
	}
	name := dbName(1)
	db, h, err := t.openDB(name, true)
	if err != nil {
		return err
	}
	m, err := writeInitialTree(db)
	if err == nil {
		err = h.flush(db)
	}
	if err == nil {
		err = writeCurrent(fs, t.opts.Dir, name)
	}
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("znode: create tree: %w", err)
	}
	t.health = h
	t.db, t.name = db, name
	t.loadQuotaTop()
	t.applied.Store(&m)
	t.durable.Store(m.zxid)
	t.startFilterBuild()
	return nil
}

func (t *Tree) openDB(name string, create bool) (db *pebble.DB, h *dbHealth, err error) {
	// Pebble treats a failed sync as unrecoverable: it panics (directly,
	// or through Logger.Fatalf). During Open that happens on this goroutine
	// after Pebble has released what it opened, so it becomes an error
	// here; the caller gives up on the directory.
	defer func() {
		if r := recover(); r != nil {
			db, h, err = nil, nil, fmt.Errorf("znode: open pebble %s: panic: %v", name, r)
		}
	}()
	h = newDBHealth(t.log)
	o := &pebble.Options{
		FS:                 t.opts.FS,
		Cache:              t.blocks,
		DisableWAL:         true,
		MemTableSize:       t.opts.MemTableSize,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             pebbleLogger{t.log},
		ErrorIfNotExists:   !create,
		ErrorIfExists:      create,
		EventListener:      h.listener(),
	}
	// Every create looks up a key that does not exist yet: bloom filters
	// keep those lookups from reading blocks of every level.
	o.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	for i := range o.Levels {
		o.Levels[i].BlockSize = blockSize
	}
	// The tables hold keys and blob references (the values are in blob
	// files), so a compaction of the whole key space writes a few MiB.
	// Pebble's 2 MiB target cut it into many tables, each created, synced
	// and recorded; 32 MiB tables took about 8% off a create's CPU on
	// the client port (WireZK -wire.only create, four alternating pairs).
	for i := range o.TargetFileSizes {
		o.TargetFileSizes[i] = targetFileSize // not doubled per level: no 2 GiB tables in L6
	}
	// A checkpoint (the peer's snapshot) copies the MANIFEST up to the
	// version it links, so the MANIFEST is rotated at a small size rather
	// than Pebble's 128 MiB (Pebble still waits until the edits since the
	// last rotation name more files than the version holds).
	o.MaxManifestFileSize = maxManifestSize
	o.L0CompactionThreshold = l0CompactionThreshold
	o.L0StopWritesThreshold = 3 * l0CompactionThreshold // Pebble's ratio
	if n := t.opts.SeparateValues; n > 0 {
		o.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy {
			return valueSeparation(n)
		}
	}
	dir := t.opts.FS.PathJoin(t.opts.Dir, name)
	db, err = pebble.Open(dir, o)
	if err != nil {
		return nil, nil, fmt.Errorf("znode: open pebble %s: %w", dir, err)
	}
	return db, h, nil
}

// maxManifestSize is the MANIFEST's size past which Pebble rotates it.
const maxManifestSize = 8 << 10

// blockSize is the size of the tree's Pebble blocks, in its tables and in
// its blob files (Pebble writes a level's blob files with the level's block
// size). A snapshot reads every value back in key order, and each block of
// values costs it a read, a cache allocation, a checksum and a
// decompression: with 16 KiB blocks (about 15 values of 1 KiB, against 4
// with Pebble's 4 KiB) a snapshot takes 2.2x less CPU
// (BenchmarkWriteSnapshot100k), while a read that misses the caches costs
// what it did (BenchmarkGetRandom100k; 32 KiB made those reads 1.2x
// dearer).
const blockSize = 16 << 10

// targetFileSize is the size at which the tree's tables are cut, at every
// level.
const targetFileSize = 32 << 20

// valueSeparation is the tree's Pebble value separation policy for values
// of at least minSize bytes. Every flush overlaps the whole key range (the
// meta key and the parents change with every txn), so the reference depth
// Pebble's heuristic computes for a compaction (one per L0 sublevel, up to
// l0CompactionThreshold of them, plus the levels below) overstates how many
// blob files a table really reads from; the cap lets a few L0 compactions
// carry references forward before one rewrites the values. Blob files with
// a fifth of their values overwritten or deleted, five minutes old, are
// rewritten to reclaim their space.
func valueSeparation(minSize int) pebble.ValueSeparationPolicy {
	return pebble.ValueSeparationPolicy{
		Enabled:               true,
		MinimumSize:           minSize,
		MaxBlobReferenceDepth: 6 * l0CompactionThreshold,
		RewriteMinimumAge:     5 * time.Minute,
		TargetGarbageRatio:    0.2,
	}
}

func readMeta(r pebble.Reader) (meta, error) {
	b, ok, err := pebbleReader{r}.get(metaKey)
	if err != nil {
		return meta{}, fmt.Errorf("znode: read meta: %w", err)
	}
	if !ok {
		return meta{}, fmt.Errorf("znode: %w: no meta record", errCorrupt)
	}
	return decodeMeta(b)
}

// Close flushes what was applied (so that a clean restart replays nothing)
// and closes the tree. A tree that failed is closed without a flush, and
// a flush that fails ends Close with its error: Close always returns. It
// is idempotent.
func (t *Tree) Close() error { return t.close(true) }

// CloseNoFlush closes the tree without flushing it: what was applied since
// the last flush is replayed from the log at the next open. It is for a
// peer that failed, whose disk may not take a flush, and is idempotent.
func (t *Tree) CloseNoFlush() error { return t.close(false) }

func (t *Tree) close(flush bool) error {
	t.closeOnce.Do(func() {
		t.stopFilterBuild()
		var err error
		if flush && t.failed.Load() == nil {
			err = t.health.flush(t.db)
		}
		t.closeErr = errors.Join(err, t.db.Close())
		t.blocks.Unref()
	})
	return t.closeErr
}

// Applied returns the last applied zxid and the digest of the tree after it.
func (t *Tree) Applied() (zxid int64, digest uint64) {
	m := t.applied.Load()
	return m.zxid, m.digest
}

// NodeCount returns the number of nodes, including / and the /zookeeper
// nodes.
func (t *Tree) NodeCount() int64 { return t.applied.Load().nodes }

// Flush makes everything applied so far durable and returns the zxid that
// is now durable. A flush that fails fails the tree (see ErrFailed): Flush
// returns its error rather than wait for Pebble's retries.
func (t *Tree) Flush() (int64, error) {
	zxid := t.applied.Load().zxid
	if err := t.health.flush(t.db); err != nil {
		return t.durable.Load(), t.fail(err)
	}
	t.advanceDurable(zxid)
	return t.durable.Load(), nil
}

// Durable returns the zxid known to be durable: what Open found, or the
// last flush (Flush, or one the tree started itself) or Restore.
func (t *Tree) Durable() int64 {
	t.auto.mu.Lock()
	t.settleFlush()
	t.auto.mu.Unlock()
	return t.durable.Load()
}

// Apply applies txn at zxid. See the package documentation. It is a Group
// of one txn.
func (t *Tree) Apply(zxid int64, txn *Txn) (Result, []Change, error) {
	g := t.Group()
	res, changes, _, err := g.Apply(zxid, txn)
	if err == nil {
		err = g.Commit()
	}
	if err != nil {
		return Result{}, nil, err
	}
	return res, changes, nil
}

func (t *Tree) fail(err error) error {
	t.failed.CompareAndSwap(nil, &err)
	return err
}

// pebbleLogger routes Pebble's messages to the tree's logger: information
// at debug level, errors at error level.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	if p.l.Enabled(context.Background(), slog.LevelDebug) {
		p.l.Debug("pebble: " + fmt.Sprintf(format, args...))
	}
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error("pebble: " + fmt.Sprintf(format, args...))
}

// Fatalf logs and panics: Pebble calls it for failures it cannot survive
// (a failed sync of its MANIFEST), after which the process must stop.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error("pebble fatal: " + msg)
	panic(pebbleFatal(msg))
}

// pebbleFatal is the panic value of pebbleLogger.Fatalf.
type pebbleFatal string
