package engine

import "github.com/embedzk/zk/internal/hooks"

// inspector is the hooks.View of a peer that zk's own tests (the
// deterministic simulation above all) receive through Config.TestHooks: it
// is not part of the public API.
type inspector struct{ e *Ensemble }

// Applied includes the entries of the apply's group not committed yet, so
// that at BeforeWatchTrigger it describes the entry just applied.
func (v inspector) Applied() (int64, uint64) { return v.e.tree.Applying() }

func (v inspector) LogBase() int64 { return v.e.wal.Base() }

func (v inspector) LogState() (int64, int64) {
	st := v.e.wal.State()
	return st.AcceptedEpoch, st.CurrentEpoch
}

func (v inspector) KeptApplies() (int64, int64) {
	return v.e.peer.keptApplies.Load(), v.e.peer.keptMisses.Load()
}

func (v inspector) LogEntries(after int64, maxBytes int) ([]hooks.LogEntry, error) {
	ents, err := v.e.wal.Entries(after, maxBytes)
	out := make([]hooks.LogEntry, len(ents))
	for i, en := range ents {
		out[i] = hooks.LogEntry{Zxid: en.Zxid, Data: en.Data}
	}
	return out, err
}
