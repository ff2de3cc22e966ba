package zab

import "github.com/embedzk/zk/election"

// MaxEpoch is the largest epoch (epoch<<32 must stay a positive int64).
const MaxEpoch = election.MaxEpoch

// MaxCounter is the counter a zxid never reaches: a leader that would assign
// it steps down so that a new epoch starts (as ZooKeeper does).
const MaxCounter = 0xffffffff

// MakeZxid returns epoch<<32 | counter.
func MakeZxid(epoch int64, counter int64) int64 { return epoch<<32 | counter&0xffffffff }

// EpochOf returns the epoch of a zxid.
func EpochOf(zxid int64) int64 { return zxid >> 32 }

// CounterOf returns the counter of a zxid.
func CounterOf(zxid int64) int64 { return zxid & 0xffffffff }

// follows reports whether zxid z may come right after prev in a log: the
// next counter of the same epoch, or the first of a later epoch.
func follows(prev, z int64) bool {
	if EpochOf(z) == EpochOf(prev) {
		return CounterOf(z) == CounterOf(prev)+1
	}
	return EpochOf(z) > EpochOf(prev) && CounterOf(z) == 1
}
