package lincheck

import (
	"fmt"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"
)

// Kind is the kind of an operation.
type Kind uint8

const (
	// Create makes the node with Data; Err "exists" if it exists.
	Create Kind = iota + 1
	// Set sets Data if Version is -1 or the node's version; Err "nonode" or
	// "badversion".
	Set
	// Delete deletes the node if Version is -1 or its version.
	Delete
	// Read is a linearizable read (Sync then Get): it sees Exists, Data and
	// Version.
	Read
	// VersionCheck is a multi's check op: Err "nonode" if the node does not
	// exist, "badversion" if Version is not -1 and not the node's version.
	VersionCheck
)

// Errors an operation may return, as short strings.
const (
	OK         = ""
	NoNode     = "nonode"
	NodeExists = "exists"
	BadVersion = "badversion"
)

// Op is one completed operation of a history.
type Op struct {
	Client  int
	Kind    Kind
	Path    string
	Data    string
	Version int32 // Set / Delete: the expected version (-1: any)
	Call    int64 // invocation time (any monotonic unit)
	Return  int64 // response time, >= Call

	// Outcome.
	Err        string
	Exists     bool   // Read
	ReadData   string // Read
	NewVersion int32  // Set: the version after; Read: the version seen
}

type input struct {
	kind    Kind
	path    string
	data    string
	version int32
}

type output struct {
	err        string
	exists     bool
	data       string
	newVersion int32
}

type state struct {
	exists  bool
	data    string
	version int32
}

// Model is the porcupine model of a znode register, partitioned by path.
var Model = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byPath := map[string][]porcupine.Operation{}
		var order []string
		for _, op := range history {
			p := op.Input.(input).path
			if _, ok := byPath[p]; !ok {
				order = append(order, p)
			}
			byPath[p] = append(byPath[p], op)
		}
		out := make([][]porcupine.Operation, 0, len(order))
		for _, p := range order {
			out = append(out, byPath[p])
		}
		return out
	},
	Init: func() any { return state{} },
	Step: func(s, in, out any) (bool, any) {
		return step(s.(state), in.(input), out.(output))
	},
	DescribeOperation: func(in, out any) string {
		i, o := in.(input), out.(output)
		return fmt.Sprintf("%v %s %q v%d -> %q %v %q v%d", i.kind, i.path, i.data, i.version, o.err, o.exists, o.data, o.newVersion)
	},
}

// step is the sequential specification.
func step(s state, in input, out output) (bool, any) {
	switch in.kind {
	case Create:
		if s.exists {
			return out.err == NodeExists, s
		}
		return out.err == OK, state{exists: true, data: in.data}
	case Set:
		switch {
		case !s.exists:
			return out.err == NoNode, s
		case in.version != -1 && in.version != s.version:
			return out.err == BadVersion, s
		}
		next := state{exists: true, data: in.data, version: s.version + 1}
		return out.err == OK && out.newVersion == next.version, next
	case Delete:
		switch {
		case !s.exists:
			return out.err == NoNode, s
		case in.version != -1 && in.version != s.version:
			return out.err == BadVersion, s
		}
		return out.err == OK, state{}
	case Read:
		if !s.exists {
			return out.err == NoNode || (out.err == OK && !out.exists), s
		}
		return out.err == OK && out.exists && out.data == s.data && out.newVersion == s.version, s
	case VersionCheck:
		switch {
		case !s.exists:
			return out.err == NoNode, s
		case in.version != -1 && in.version != s.version:
			return out.err == BadVersion, s
		}
		return out.err == OK, s
	}
	return false, s
}

func (k Kind) String() string {
	switch k {
	case Create:
		return "create"
	case Set:
		return "set"
	case Delete:
		return "delete"
	case Read:
		return "read"
	case VersionCheck:
		return "check"
	}
	return "?"
}

// Result is the outcome of a check.
type Result struct {
	Ok       bool
	TimedOut bool // the checker gave up: the caller must count it as a failure
	Ops      int
	Elapsed  time.Duration
}

// Check checks ops for linearizability within timeout.
func Check(ops []Op, timeout time.Duration) Result {
	hist := make([]porcupine.Operation, len(ops))
	for i, op := range ops {
		hist[i] = porcupine.Operation{
			ClientId: op.Client,
			Input:    input{kind: op.Kind, path: op.Path, data: op.Data, version: op.Version},
			Call:     op.Call,
			Output:   output{err: op.Err, exists: op.Exists, data: op.ReadData, newVersion: op.NewVersion},
			Return:   op.Return,
		}
	}
	start := time.Now()
	res := porcupine.CheckOperationsTimeout(Model, hist, timeout)
	return Result{
		Ok:       res == porcupine.Ok,
		TimedOut: res == porcupine.Unknown,
		Ops:      len(ops),
		Elapsed:  time.Since(start),
	}
}

// Explain helps read a failed check: it sorts ops by call time and returns
// the shortest prefix (in that order) that is already not linearizable,
// which ends with an operation the prefix before it cannot explain. It
// returns nil if ops pass (or every prefix check times out).
func Explain(ops []Op, timeout time.Duration) []Op {
	sorted := append([]Op(nil), ops...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Call < sorted[j].Call })
	fails := func(n int) bool {
		r := Check(sorted[:n], timeout)
		return !r.Ok && !r.TimedOut
	}
	if !fails(len(sorted)) {
		return nil
	}
	lo, hi := 0, len(sorted) // fails(hi), and lo is a length that passes (or 0)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return sorted[:hi]
}
