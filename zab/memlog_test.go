package zab

import (
	"bytes"
	"fmt"
	"slices"
	"sort"

	"github.com/embedzk/zk/internal/codec"
)

// memDisk is one peer's disk as the harness's driver keeps it: the log, the
// epochs, a snapshot file and the state machine. Everything in it is
// durable: a crash loses only what the driver had not executed yet (and,
// in lossy mode, a suffix of the state machine, which replay restores).
type memDisk struct {
	base    int64 // the log starts after base (a snapshot's zxid)
	entries []Entry
	state   State
	sm      []Entry // the state machine: every applied entry, in order
	partial *bytes.Buffer
	partZx  int64
	partOff int64
}

// memLog is the Log the core reads: a view of a memDisk.
type memLog struct{ d *memDisk }

func (l memLog) LastZxid() int64 {
	if n := len(l.d.entries); n > 0 {
		return l.d.entries[n-1].Zxid
	}
	return l.d.base
}

func (l memLog) Base() int64 { return l.d.base }

func (l memLog) FirstZxid() int64 {
	if len(l.d.entries) > 0 {
		return l.d.entries[0].Zxid
	}
	return 0
}

func (l memLog) Entries(after int64, maxBytes int) ([]Entry, error) {
	if after < l.d.base {
		return nil, fmt.Errorf("memlog: %#x is before the log's base %#x", after, l.d.base)
	}
	i := l.d.index(after + 1)
	j, size := i, 0
	for j < len(l.d.entries) && (j == i || size+len(l.d.entries[j].Data) <= maxBytes) {
		size += len(l.d.entries[j].Data)
		j++
	}
	return slices.Clone(l.d.entries[i:j]), nil
}

func (l memLog) Contains(z int64) bool {
	if z == l.d.base {
		return true
	}
	i := l.d.index(z)
	return i < len(l.d.entries) && l.d.entries[i].Zxid == z
}

// index returns the index of the first entry with Zxid >= z.
func (d *memDisk) index(z int64) int {
	return sort.Search(len(d.entries), func(i int) bool { return d.entries[i].Zxid >= z })
}

func (d *memDisk) last() int64 { return memLog{d}.LastZxid() }

func (d *memDisk) smZxid() int64 {
	if n := len(d.sm); n > 0 {
		return d.sm[n-1].Zxid
	}
	return 0
}

// persist performs one op as a driver would.
func (d *memDisk) persist(op PersistOp) error {
	switch op.Kind {
	case PersistAppend:
		for _, e := range op.Entries {
			if e.Zxid <= d.last() {
				return fmt.Errorf("append %#x after %#x", e.Zxid, d.last())
			}
			d.entries = append(d.entries, e)
		}
	case PersistTruncate:
		if op.Zxid < d.base {
			return fmt.Errorf("truncate to %#x below base %#x", op.Zxid, d.base)
		}
		if op.Zxid < d.smZxid() {
			return fmt.Errorf("truncate to %#x below the applied %#x", op.Zxid, d.smZxid())
		}
		d.entries = d.entries[:d.index(op.Zxid+1)]
	case PersistState:
		if op.State.AcceptedEpoch < d.state.AcceptedEpoch || op.State.CurrentEpoch < d.state.CurrentEpoch ||
			op.State.CurrentEpoch > op.State.AcceptedEpoch {
			return fmt.Errorf("epochs go from %+v to %+v", d.state, op.State)
		}
		d.state = op.State
	case PersistSnapshot:
		return d.snapshotChunk(op)
	default:
		return fmt.Errorf("unknown op %v", op.Kind)
	}
	return nil
}

func (d *memDisk) snapshotChunk(op PersistOp) error {
	if op.Offset == 0 {
		d.partial, d.partZx, d.partOff = &bytes.Buffer{}, op.Zxid, 0
	}
	if d.partial == nil || d.partZx != op.Zxid || d.partOff != op.Offset {
		return fmt.Errorf("snapshot chunk %#x@%d out of order", op.Zxid, op.Offset)
	}
	d.partial.Write(op.Snapshot)
	d.partOff += int64(len(op.Snapshot))
	if !op.Last {
		return nil
	}
	var sm []Entry
	if err := codec.Unmarshal(d.partial.Bytes(), &sm); err != nil {
		return fmt.Errorf("snapshot: %v", err)
	}
	if n := len(sm); (n == 0 && op.Zxid != 0) || (n > 0 && sm[n-1].Zxid != op.Zxid) {
		return fmt.Errorf("snapshot at %#x holds a state at another zxid", op.Zxid)
	}
	d.partial = nil
	d.sm, d.base, d.entries = sm, op.Zxid, nil
	return nil
}

// snapshot encodes the state machine (what a leader streams for SNAP).
func (d *memDisk) snapshot() []byte {
	b, err := codec.Marshal(d.sm)
	if err != nil {
		panic(err)
	}
	return b
}

// compact drops the log up to the applied zxid, as a purge after a snapshot.
func (d *memDisk) compact() {
	z := d.smZxid()
	if z <= d.base {
		return
	}
	d.entries = d.entries[d.index(z+1):]
	d.base = z
}

func (d *memDisk) durable() Durable {
	return Durable{AcceptedEpoch: d.state.AcceptedEpoch, CurrentEpoch: d.state.CurrentEpoch, Applied: d.smZxid()}
}

func (d *memDisk) has(e Entry) bool {
	i := d.index(e.Zxid)
	return i < len(d.entries) && d.entries[i].Zxid == e.Zxid && bytes.Equal(d.entries[i].Data, e.Data)
}
