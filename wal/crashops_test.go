package wal

import (
	"fmt"
	"maps"
	"slices"
)

// isPrefix reports whether got is a prefix of want (same zxids and data).
func isPrefix(got, want []Entry) bool {
	return len(got) <= len(want) && diffEntries(got, want[:len(got)]) == ""
}

func sameLog(before model, base int64, got []Entry) string {
	if base != before.base {
		return fmt.Sprintf("base %#x, want %#x", base, before.base)
	}
	return diffEntries(got, before.ents)
}

func (r *crashRun) nextOp() walOp {
	switch x := r.rng.IntN(100); {
	case x < 55:
		return r.appendOp()
	case x < 63:
		return r.truncateOp()
	case x < 67:
		return r.resetOp()
	case x < 73:
		return r.purgeOp()
	case x < 78:
		return r.stateOp()
	case x < 90:
		return r.snapshotOp()
	default:
		return restartOp(r.opts)
	}
}

func restartOp(o Options) walOp {
	return walOp{
		name: "restart",
		run: func(l *Log) (*Log, error) {
			if err := l.Close(); err != nil {
				return nil, err
			}
			return Open(o)
		},
		want:  func(m model, _ *Log) model { return m },
		logOK: func(before, _ model, base int64, got []Entry) string { return sameLog(before, base, got) },
	}
}

func (r *crashRun) appendOp() walOp {
	return r.appendEntries(genEntries(r.rng, r.m.last(), 1+r.rng.IntN(4)))
}

// appendSized appends n entries of size bytes.
func (r *crashRun) appendSized(n, size int) walOp {
	ents := make([]Entry, n)
	for i := range ents {
		ents[i] = Entry{Zxid: r.m.last() + int64(i) + 1, Data: snapContent(int64(i), size)}
	}
	return r.appendEntries(ents)
}

func (r *crashRun) appendEntries(ents []Entry) walOp {
	return walOp{
		name: "append",
		run: func(l *Log) (*Log, error) {
			return l, l.Append(cloneEntries(ents))
		},
		want: func(m model, _ *Log) model {
			m.ents = append(slices.Clip(m.ents), ents...)
			return m
		},
		logOK: func(before, after model, base int64, got []Entry) string {
			if base != before.base {
				return fmt.Sprintf("base %#x, want %#x", base, before.base)
			}
			if len(got) < len(before.ents) || !isPrefix(got, after.ents) {
				return fmt.Sprintf("not between the acknowledged log %v and the appended one %v", zxidsOf(before.ents), zxidsOf(after.ents))
			}
			return ""
		},
	}
}

func (r *crashRun) truncateOp() walOp {
	z := r.m.base
	if k := r.rng.IntN(len(r.m.ents) + 1); k < len(r.m.ents) {
		z = r.m.ents[k].Zxid
	}
	return r.truncateAt(z)
}

func (r *crashRun) truncateAt(z int64) walOp {
	return walOp{
		name: "truncate",
		run: func(l *Log) (*Log, error) {
			return l, l.TruncateAfter(z)
		},
		want: func(m model, _ *Log) model {
			m.ents = slices.Clip(slices.DeleteFunc(slices.Clone(m.ents), func(e Entry) bool { return e.Zxid > z }))
			return m
		},
		logOK: func(before, after model, base int64, got []Entry) string {
			if base != before.base {
				return fmt.Sprintf("base %#x, want %#x", base, before.base)
			}
			if len(got) < len(after.ents) || !isPrefix(got, before.ents) {
				return fmt.Sprintf("not a prefix of %v holding every entry <= %#x", zxidsOf(before.ents), z)
			}
			return ""
		},
	}
}

func (r *crashRun) resetOp() walOp {
	b := r.m.last() + 1 + r.rng.Int64N(1<<33)
	if r.rng.IntN(3) == 0 {
		b = r.rng.Int64N(r.m.last() + 1) // a divergent log is discarded too
	}
	return walOp{
		name: "reset",
		run: func(l *Log) (*Log, error) {
			return l, l.Reset(b)
		},
		want: func(m model, _ *Log) model {
			m.base, m.ents = b, nil
			return m
		},
		logOK: func(before, _ model, base int64, got []Entry) string {
			if base == b && len(got) == 0 {
				return ""
			}
			if msg := sameLog(before, base, got); msg != "" {
				return fmt.Sprintf("neither the old log nor the empty one after %#x: %s", b, msg)
			}
			return ""
		},
	}
}

func (r *crashRun) purgeOp() walOp {
	upTo := r.m.base
	if len(r.m.ents) > 0 {
		upTo = r.m.ents[r.rng.IntN(len(r.m.ents))].Zxid
	}
	return r.purgeAt(upTo)
}

func (r *crashRun) purgeAt(upTo int64) walOp {
	return walOp{
		name: "purge",
		run: func(l *Log) (*Log, error) {
			if _, err := l.Purge(upTo); err != nil {
				return l, err
			}
			if nb := l.Base(); nb > upTo && nb != r.m.base {
				return l, fmt.Errorf("Purge(%#x) moved the base to %#x", upTo, nb)
			}
			return l, nil
		},
		// After a failed Purge (l == nil) the base may be anywhere up to upTo.
		want: func(m model, l *Log) model {
			nb := max(m.base, upTo)
			if l != nil {
				nb = l.Base()
			}
			m.base = nb
			m.ents = slices.Clip(slices.DeleteFunc(slices.Clone(m.ents), func(e Entry) bool { return e.Zxid <= nb }))
			return m
		},
		logOK: func(before, after model, base int64, got []Entry) string {
			if base < before.base || base > after.base {
				return fmt.Sprintf("base %#x outside [%#x, %#x]", base, before.base, after.base)
			}
			i := slices.IndexFunc(before.ents, func(e Entry) bool { return e.Zxid > base })
			if i < 0 {
				i = len(before.ents)
			}
			if base != before.base && (i == 0 || before.ents[i-1].Zxid != base) {
				return fmt.Sprintf("base %#x is not an entry", base)
			}
			return diffEntries(got, before.ents[i:])
		},
	}
}

func (r *crashRun) stateOp() walOp {
	s := State{AcceptedEpoch: r.rng.Int64N(100), CurrentEpoch: r.rng.Int64N(100)}
	return walOp{
		name: "state",
		run: func(l *Log) (*Log, error) {
			return l, l.SetState(s)
		},
		want: func(m model, _ *Log) model {
			m.state = s
			return m
		},
		logOK: func(before, _ model, base int64, got []Entry) string { return sameLog(before, base, got) },
	}
}

func (r *crashRun) snapshotOp() walOp {
	size := r.rng.IntN(20000)
	if r.rng.IntN(10) == 0 {
		size = 300 << 10 // more than the writer's buffer
	}
	abort := r.rng.IntN(5) == 0
	return r.snapshot(size, abort)
}

func (r *crashRun) snapshotSized(size int) walOp { return r.snapshot(size, false) }

func (r *crashRun) snapshot(size int, abort bool) walOp {
	z := r.m.last()
	content := snapContent(z+int64(r.rng.IntN(1000)), size)
	return walOp{
		name: "snapshot",
		run: func(l *Log) (*Log, error) {
			w, err := l.CreateSnapshot(z)
			if err != nil {
				return l, err
			}
			for p := content; len(p) > 0; p = p[min(len(p), 7000):] {
				if _, err := w.Write(p[:min(len(p), 7000)]); err != nil {
					return l, err
				}
			}
			if abort {
				return l, w.Abort()
			}
			return l, w.Commit()
		},
		want: func(m model, _ *Log) model {
			if abort {
				return m
			}
			m = m.clone()
			m.snaps[z] = content
			keys := slices.SortedFunc(maps.Keys(m.snaps), cmpDesc)
			for i, k := range keys {
				if i >= DefaultSnapRetainCount && k != z {
					delete(m.snaps, k)
				}
			}
			return m
		},
		logOK: func(before, _ model, base int64, got []Entry) string { return sameLog(before, base, got) },
	}
}
