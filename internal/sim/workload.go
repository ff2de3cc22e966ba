package sim

import (
	"fmt"
	"time"

	zk "github.com/embedzk/zk"
)

// The workload's tree. The register keys /r/k* are what the
// linearizability check models; /s holds sequential nodes, /c containers
// and their children, /t TTL nodes.
var roots = []string{"/r", "/s", "/c", "/t"}

const nKeys = 6

func regKey(i int) string { return fmt.Sprintf("/r/k%d", i) }

// weights of the calls a client picks from.
var weights = []struct {
	kind opKind
	w    int
}{
	{opCreate, 16}, {opSet, 18}, {opDelete, 9}, {opMulti, 7}, {opGet, 7}, {opExists, 4}, {opChildren, 4},
	{opSyncGet, 14}, {opGetW, 4}, {opExistsW, 3}, {opChildrenW, 2}, {opAddWatch, 1}, {opClose, 1}, {opExpire, 1},
	{opBad, 8},
}

var totalWeight = func() int {
	n := 0
	for _, x := range weights {
		n += x.w
	}
	return n
}()

// pick draws the client's next call.
func (c *client) pick() *opRecord {
	w := c.w
	r := w.rng.IntN(totalWeight)
	var kind opKind
	for _, x := range weights {
		if r < x.w {
			kind = x.kind
			break
		}
		r -= x.w
	}
	op := &opRecord{kind: kind, version: -1}
	op.data = fmt.Sprintf("v%d", w.nextOp)
	key := regKey(w.rng.IntN(nKeys))
	switch kind {
	case opCreate:
		c.pickCreate(op, key)
	case opSet, opDelete:
		op.path = key
		op.version = c.pickVersion(key)
		if kind == opDelete && w.rng.IntN(4) == 0 {
			op.path = fmt.Sprintf("/c/c%d/x%d", w.rng.IntN(3), w.rng.IntN(3))
		}
	case opMulti:
		c.pickMulti(op)
	case opGet, opExists, opSyncGet, opGetW, opExistsW:
		op.path = key
	case opChildren, opChildrenW:
		op.path = roots[w.rng.IntN(len(roots))]
	case opBad:
		c.pickBad(op, key)
	case opAddWatch:
		op.path = "/r"
		for _, wr := range c.watches {
			if wr.persistent && wr.handle == c.handle {
				return nil // one persistent watch per handle
			}
		}
	case opExpire:
		others := w.clients[w.rng.IntN(len(w.clients))]
		if others.sid == 0 {
			return nil
		}
		op.target = others.sid
		op.path = fmt.Sprintf("session %#x", op.target)
	}
	return op
}

// pickVersion draws the expected version of a set or delete: any (-1), the
// last one the client saw, or a stale one.
func (c *client) pickVersion(path string) int32 {
	v, ok := c.versions[path]
	switch r := c.w.rng.IntN(10); {
	case r < 4 || !ok:
		return -1
	case r < 9:
		return v
	default:
		return max(0, v-1)
	}
}

// pickCreate draws what a create makes: a register key (persistent or
// ephemeral), a sequential node, a container or its child, a TTL node.
func (c *client) pickCreate(op *opRecord, key string) {
	w := c.w
	op.path, op.mode = key, zk.ModePersistent
	switch r := w.rng.IntN(20); {
	case r < 9:
	case r < 13:
		op.mode = zk.ModeEphemeral
	case r < 15:
		op.path, op.mode = "/s/p-", zk.ModePersistentSequential
	case r < 17:
		op.path, op.mode = "/s/e-", zk.ModeEphemeralSequential
	case r < 18:
		op.path, op.mode = fmt.Sprintf("/c/c%d", w.rng.IntN(3)), zk.ModeContainer
	case r < 19:
		op.path = fmt.Sprintf("/c/c%d/x%d", w.rng.IntN(3), w.rng.IntN(3))
	default:
		op.path, op.mode = fmt.Sprintf("/t/t%d", w.rng.IntN(3)), zk.ModePersistentWithTTL
		op.ttl = time.Duration(1+w.rng.IntN(30)) * time.Second
	}
}

// pickMulti draws 2 or 3 operations on distinct register keys; the first
// one carries the call's unique data so that the txn can be found.
func (c *client) pickMulti(op *opRecord) {
	w := c.w
	n := 2 + w.rng.IntN(2)
	perm := w.rng.Perm(nKeys)
	for i := 0; i < n; i++ {
		key := regKey(perm[i])
		m := mop{path: key, version: c.pickVersion(key)}
		switch r := w.rng.IntN(10); {
		case i == 0 && r < 5, i > 0 && r < 3:
			m.kind, m.data = opSet, fmt.Sprintf("%s.%d", op.data, i)
		case i == 0 || r < 6:
			m.kind, m.data, m.version = opCreate, fmt.Sprintf("%s.%d", op.data, i), 0
		case r < 8:
			m.kind = opDelete
		default:
			m.kind = opCheck
		}
		op.multi = append(op.multi, m)
	}
	op.path = op.multi[0].path
	c.lsMultiEphemeral(op)
}

// setup creates the workload's roots once a leader serves; it returns
// false while it is not done.
func (w *World) setup() bool {
	c := w.clients[0]
	if c.op != nil {
		return false
	}
	for _, root := range roots {
		if w.ref.stateAt(root, w.ref.last).exists {
			continue
		}
		if !c.alive() {
			c.connect()
			return false
		}
		c.start(&opRecord{kind: opCreate, path: root, mode: zk.ModePersistent, data: fmt.Sprintf("v%d", w.nextOp), version: -1})
		return false
	}
	return true
}
