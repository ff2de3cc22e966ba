package sim

import (
	"fmt"
	"maps"
	"slices"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/zab/transport"
)

// faultClass is a kind of fault the scheduler injects.
type faultClass uint8

const (
	fCrash      faultClass = iota // crash and restart, losing unsynced bytes (all, some or none)
	fCrashPoint                   // crash at a named persistence point
	fDisk                         // fsync error, full disk, torn write, crash at a file operation, slow disk
	fPartition                    // full, partial and one-way partitions; a leader cut from its followers
	fBreak                        // a connection breaks
	fDelay                        // a link holds its frames for a while
	fPause                        // a process stops (SIGSTOP), maybe longer than a session timeout
	fSkew                         // a peer's clock runs slow
	nFaultClasses
)

var faultNames = [...]string{"crash", "crash-point", "disk", "partition", "break", "delay", "pause", "skew"}

// namedPoints are the persistence points a crash is armed at.
var namedPoints = []crashPlan{
	{point: hooks.BeforeAppend, label: "before-log-append"},
	{point: hooks.AfterAppend, label: "after-log-append"},
	{point: hooks.BeforeAck, label: "after-fsync-before-ack"},
	{point: hooks.BeforeAck, after: zab.MsgNewLeader, label: "before-newleader-ack"},
	{point: hooks.BeforeEpoch, after: zab.MsgLeaderInfo, label: "before-accepted-epoch"},
	{point: hooks.AfterEpoch, after: zab.MsgLeaderInfo, label: "after-accepted-epoch"},
	{point: hooks.BeforeEpoch, after: zab.MsgNewLeader, label: "before-current-epoch"},
	{point: hooks.AfterEpoch, after: zab.MsgNewLeader, label: "after-current-epoch"},
	{point: hooks.BeforeEpoch, after: zab.MsgAckEpoch, label: "leader-before-current-epoch"},
	{point: hooks.BeforeSnapshot, label: "before-snapshot-commit"},
	{point: hooks.BeforeSnapInstall, label: "snap-transfer-before-install"},
	{point: hooks.AfterSnapInstall, label: "snap-transfer-after-log-reset"},
	{point: hooks.BeforeWatchTrigger, label: "between-apply-and-watch"},
	{point: hooks.BeforeExpire, label: "before-expiry-proposal"},
}

// diskFaults are the file-system faults a peer's log is armed with.
var diskFaults = []fsPlan{
	{kind: fsEIO, op: OpSync, prefix: "/zk/log", label: "fsync-eio"},
	{kind: fsEIO, op: OpWrite, prefix: "/zk/log", label: "write-eio"},
	{kind: fsEIO, op: OpRename, prefix: "/zk/log", label: "rename-eio"},
	{kind: fsEIO, op: OpSyncDir, prefix: "/zk", label: "dirsync-eio"},
	{kind: fsEIO, op: OpSync, prefix: "/zk/snapshots", label: "snapshot-fsync-eio"},
	{kind: fsFull, op: OpWrite, prefix: "/zk/log", label: "disk-full"},
	{kind: fsTorn, op: OpWrite, prefix: "/zk/log", keep: 100, label: "torn-write"},
	{kind: fsCrash, op: OpRename, prefix: "/zk/snapshots", label: "crash-at-snapshot-rename"},
	{kind: fsCrash, op: OpWrite, prefix: "/zk/snapshots", label: "crash-in-snapshot-write"},
	{kind: fsCrash, op: OpCreate, prefix: "/zk/log", label: "crash-at-segment-create"},
	{kind: fsCrash, op: OpRemove, prefix: "/zk/log", label: "crash-in-purge"},
	{kind: fsCrash, op: OpRename, prefix: "/zk/log", label: "crash-at-log-rename"},
	{kind: fsStall, op: OpSync, prefix: "/zk/log", label: "slow-fsync"},
}

// faultState is the scheduler: which classes this seed uses, how often,
// and the faults in force.
type faultState struct {
	w       *World
	enabled [nFaultClasses]bool
	rate    [nFaultClasses]int // one in rate ticks, on average
	netEnd  int64              // tick the network fault in force ends (0: none)
	delays  map[transport.Link]int64
	pauses  map[int64]int64
}

func newFaultState(w *World) *faultState {
	f := &faultState{w: w, delays: map[transport.Link]int64{}, pauses: map[int64]int64{}}
	if w.opts.NoFaults {
		return f
	}
	for c := range f.enabled {
		f.enabled[c] = w.rng.IntN(100) < 55
		f.rate[c] = 150 + w.rng.IntN(450)
	}
	return f
}

// describe names the classes in use.
func (f *faultState) describe() string {
	var names []string
	for c, on := range f.enabled {
		if on {
			names = append(names, fmt.Sprintf("%s/%d", faultNames[c], f.rate[c]))
		}
	}
	return fmt.Sprint(names)
}

// delayed reports whether frames from -> to are held back now.
func (f *faultState) delayed(from, to int64) bool {
	return f.delays[transport.Link{From: from, To: to}] > f.w.now
}

// step ends the faults whose time is up and starts new ones.
func (f *faultState) step() {
	w := f.w
	f.expire()
	for c := faultClass(0); c < nFaultClasses; c++ {
		if f.enabled[c] && w.rng.IntN(f.rate[c]) == 0 {
			f.inject(c)
		}
	}
}

// expire ends faults that ran their course.
func (f *faultState) expire() {
	w := f.w
	if f.netEnd != 0 && w.now >= f.netEnd {
		w.net.Heal()
		f.netEnd = 0
		w.trace.line(w.now, "fault heal network")
	}
	for _, id := range slices.Sorted(maps.Keys(f.pauses)) {
		if w.now >= f.pauses[id] {
			delete(f.pauses, id)
			w.resume(w.byID[id])
		}
	}
	for _, p := range w.peers {
		if p.busy != nil && w.now >= p.stallEnds {
			w.unstall(p)
		}
		if p.plan.point != "" && w.now >= p.plan.until {
			p.plan = crashPlan{}
		}
		if p.fsPlan.kind != fsNone && !p.fsPlan.fired && w.now >= p.fsPlan.until {
			p.fsPlan = fsPlan{}
		}
	}
}

// inject starts one fault of class c.
func (f *faultState) inject(c faultClass) {
	w := f.w
	live := w.live()
	if len(live) == 0 {
		return
	}
	p := live[w.rng.IntN(len(live))]
	if ld := w.leader(); ld != nil && w.rng.IntN(2) == 0 {
		p = ld // leaders are where most of the interesting code runs
	}
	w.stats.Faults[faultNames[c]]++
	switch c {
	case fCrash:
		keep := []int{0, 0, 30, 70, 100}[w.rng.IntN(5)]
		w.crashNow(p, keep)
	case fCrashPoint:
		pl := namedPoints[w.rng.IntN(len(namedPoints))]
		pl.skip, pl.keep, pl.until = w.rng.IntN(3), []int{0, 50, 100}[w.rng.IntN(3)], w.now+300
		p.plan = pl
		w.trace.line(w.now, "fault arm peer=%d crash %s skip=%d keep=%d", p.id, pl.label, pl.skip, pl.keep)
	case fDisk:
		if p.busy != nil {
			return
		}
		pl := diskFaults[w.rng.IntN(len(diskFaults))]
		pl.skip, pl.until, pl.ticks = w.rng.IntN(4), w.now+300, int64(20+w.rng.IntN(200))
		p.fsPlan = pl
		w.trace.line(w.now, "fault arm peer=%d disk %s skip=%d", p.id, pl.label, pl.skip)
	case fPartition:
		f.partition(p)
	case fBreak:
		q := w.peers[w.rng.IntN(len(w.peers))]
		if q != p {
			w.net.Break(p.id, q.id)
			w.trace.line(w.now, "fault break %d-%d", p.id, q.id)
		}
	case fDelay:
		q := w.peers[w.rng.IntN(len(w.peers))]
		f.delays[transport.Link{From: p.id, To: q.id}] = w.now + int64(5+w.rng.IntN(100))
		w.trace.line(w.now, "fault delay %d->%d", p.id, q.id)
	case fPause:
		if !p.paused && p.busy == nil {
			f.pauses[p.id] = w.now + int64(10+w.rng.IntN(400))
			p.paused = true
			w.net.Pause(p.id)
			w.trace.line(w.now, "fault pause peer=%d until=%d", p.id, f.pauses[p.id])
		}
	case fSkew:
		p.slowUntil = w.now + int64(50+w.rng.IntN(300))
		w.trace.line(w.now, "fault skew peer=%d until=%d", p.id, p.slowUntil)
	}
}

// partition starts a network fault around p, if none is in force.
func (f *faultState) partition(p *simPeer) {
	w := f.w
	if f.netEnd != 0 {
		return
	}
	f.netEnd = w.now + int64(20+w.rng.IntN(400))
	ids := make([]int64, len(w.peers))
	for i, q := range w.peers {
		ids[i] = q.id
	}
	other := ids[w.rng.IntN(len(ids))]
	switch w.rng.IntN(4) {
	case 0: // full: two random sides
		w.rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		k := 1 + w.rng.IntN(len(ids)-1)
		w.net.Partition(ids[:k], ids[k:])
		w.trace.line(w.now, "fault partition %v | %v until=%d", ids[:k], ids[k:], f.netEnd)
	case 1: // partial: one pair cut, each still reaching the others
		if other != p.id {
			w.net.Cut(p.id, other)
			w.trace.line(w.now, "fault cut %d-%d until=%d", p.id, other, f.netEnd)
		}
	case 2:
		if other != p.id {
			w.net.BlockOneWay(p.id, other)
			w.trace.line(w.now, "fault oneway %d->%d until=%d", p.id, other, f.netEnd)
		}
	default: // p (often the leader) loses its peers, not its clients
		w.net.Isolate(p.id)
		w.trace.line(w.now, "fault isolate %d until=%d", p.id, f.netEnd)
	}
}

// crashNow crashes p at once; the crash keeps keep percent of what was
// not synced.
func (w *World) crashNow(p *simPeer, keep int) {
	if p.ens == nil {
		return
	}
	disk := p.fs.CrashClone(keep, w.cloneRNG())
	p.diskDead = true
	w.kill(p, disk, fmt.Sprintf("crash keep=%d", keep))
}

// resume lets a paused peer run again.
func (w *World) resume(p *simPeer) {
	if !p.paused {
		return
	}
	p.paused = false
	w.net.Resume(p.id)
	w.trace.line(w.now, "fault resume peer=%d", p.id)
}

// healAll ends every fault: the network heals, paused and stalled peers
// go on, armed faults are disarmed, crashed peers restart.
func (w *World) healAll() {
	f := w.faults
	w.net.Heal()
	f.netEnd = 0
	clear(f.delays)
	for _, id := range slices.Sorted(maps.Keys(f.pauses)) {
		delete(f.pauses, id)
		w.resume(w.byID[id])
	}
	for _, p := range w.peers {
		p.plan = crashPlan{}
		if !p.fsPlan.fired {
			p.fsPlan = fsPlan{}
		}
		p.slowUntil = 0
		w.unstall(p)
	}
	w.restartDue(true)
	w.trace.line(w.now, "heal all")
}
