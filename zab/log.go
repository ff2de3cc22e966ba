package zab

import (
	"fmt"
	"slices"
	"sort"
)

// Log is the durable log, read synchronously by the core. It reflects every
// Persist op the driver performed (and nothing else). Implementations need
// not be safe for concurrent use with the Node's owner goroutine.
type Log interface {
	LastZxid() int64
	Base() int64      // zxid the log starts after (a snapshot's, or 0)
	FirstZxid() int64 // 0 if empty
	// Entries returns entries with Zxid > after, in order, about maxBytes of
	// them but at least one if there is any.
	Entries(after int64, maxBytes int) ([]Entry, error)
	Contains(zxid int64) bool // an entry of the log, or == Base()
}

// State is the small durable state of the protocol.
type State struct{ AcceptedEpoch, CurrentEpoch int64 }

// Durable is what a peer had on disk when it (re)starts.
type Durable struct {
	AcceptedEpoch int64
	CurrentEpoch  int64
	Applied       int64 // the state machine's last applied zxid (all <= it are committed)
}

// PersistKind names a durable operation.
type PersistKind uint8

// The durable operations, executed in order by the driver.
const (
	PersistAppend PersistKind = iota + 1
	PersistTruncate
	PersistState
	PersistSnapshot
)

func (k PersistKind) String() string {
	switch k {
	case PersistAppend:
		return "append"
	case PersistTruncate:
		return "truncate"
	case PersistState:
		return "state"
	case PersistSnapshot:
		return "snapshot"
	}
	return fmt.Sprintf("PersistKind(%d)", uint8(k))
}

// PersistOp is one durable operation.
type PersistOp struct {
	Kind    PersistKind
	Entries []Entry // PersistAppend: in zxid order, following the log's last
	Zxid    int64   // PersistTruncate: truncate after it; PersistSnapshot: the snapshot's zxid
	State   State   // PersistState: the full durable epochs to write
	// PersistSnapshot: one chunk of the leader's snapshot stream, at Offset
	// in it. Offset 0 starts a new snapshot: the driver discards any
	// unfinished one (a sync that was abandoned midway). With Last the driver
	// commits the file, resets the log to start after Zxid and restores the
	// state machine from it; after Advance the core treats Zxid as both its
	// last logged and applied zxid.
	Snapshot []byte
	Offset   int64
	Last     bool
}

// entryCache keeps the log's entries in (from, last logged]: what was
// appended since the last apply, including entries whose append is still on
// its way to the disk. Older entries are read from the Log.
type entryCache struct {
	from int64
	ents []Entry
}

func (c *entryCache) reset(z int64) { c.from, c.ents = z, nil }

func (c *entryCache) append(ents []Entry) { c.ents = append(c.ents, ents...) }

// truncate drops the entries after z.
func (c *entryCache) truncate(z int64) {
	if z <= c.from {
		c.reset(z)
		return
	}
	c.ents = slices.Clip(c.ents[:c.after(z)])
}

// trim forgets the entries at or below z (they were applied).
func (c *entryCache) trim(z int64) {
	if z <= c.from {
		return
	}
	c.ents = c.ents[c.after(z):]
	c.from = z
}

// after returns the index of the first entry with Zxid > z.
func (c *entryCache) after(z int64) int {
	return sort.Search(len(c.ents), func(i int) bool { return c.ents[i].Zxid > z })
}

func (c *entryCache) contains(z int64) bool {
	i := c.after(z - 1)
	return i < len(c.ents) && c.ents[i].Zxid == z
}

// get returns the cached entries in (after, upTo], about maxBytes of them
// (at least one). after must be >= c.from.
func (c *entryCache) get(after, upTo int64, maxBytes int) []Entry {
	i := c.after(after)
	j, size := i, 0
	for j < len(c.ents) && c.ents[j].Zxid <= upTo && (j == i || size+len(c.ents[j].Data) <= maxBytes) {
		size += len(c.ents[j].Data)
		j++
	}
	return c.ents[i:j:j]
}
