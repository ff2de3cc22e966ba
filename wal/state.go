package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	iofs "io/fs"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// The state file: magic "ZKWALSTA" | version u32 | zero u32 |
// acceptedEpoch i64 | currentEpoch i64 | crc32c(bytes 0..31) u32 | zero u32.
const (
	stateMagic    = "ZKWALSTA"
	stateFileSize = 40
)

func (s State) marshal() []byte {
	b := make([]byte, stateFileSize)
	copy(b, stateMagic)
	binary.LittleEndian.PutUint32(b[8:], formatVersion)
	binary.LittleEndian.PutUint64(b[16:], uint64(s.AcceptedEpoch))
	binary.LittleEndian.PutUint64(b[24:], uint64(s.CurrentEpoch))
	binary.LittleEndian.PutUint32(b[32:], crc32.Checksum(b[:32], crcTable))
	return b
}

func parseState(b []byte) (State, error) {
	var s State
	if len(b) != stateFileSize {
		return s, corruptf("state file: %d bytes, want %d", len(b), stateFileSize)
	}
	if got, want := binary.LittleEndian.Uint32(b[32:]), crc32.Checksum(b[:32], crcTable); got != want {
		return s, corruptf("state file: checksum %#x, want %#x", got, want)
	}
	if string(b[:8]) != stateMagic {
		return s, corruptf("state file: bad magic %q", b[:8])
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != formatVersion {
		return s, corruptf("state file: unsupported format version %d", v)
	}
	if binary.LittleEndian.Uint32(b[12:]) != 0 || binary.LittleEndian.Uint32(b[36:]) != 0 {
		return s, corruptf("state file: non-zero reserved bytes")
	}
	s.AcceptedEpoch = int64(binary.LittleEndian.Uint64(b[16:]))
	s.CurrentEpoch = int64(binary.LittleEndian.Uint64(b[24:]))
	return s, nil
}

// loadState reads the state file; a missing file is the zero State.
func loadState(fs vfs.FS, path string) (State, error) {
	b, err := readFile(fs, path, stateFileSize)
	if errors.Is(err, iofs.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("wal: reading %s: %w", path, err)
	}
	s, err := parseState(b)
	if err != nil {
		return State{}, fmt.Errorf("wal: %s: %w", path, err)
	}
	return s, nil
}

// SetState makes s the durable protocol state: when SetState returns nil, s
// survives any crash; if it crashes midway, the state is the old or the new
// one.
func (l *Log) SetState(s State) error {
	if err := l.lockWrite(); err != nil {
		return err
	}
	defer l.unlockWrite()
	if op, err := writeFileAtomic(l.fs, l.opts.Dir, stateName, s.marshal()); err != nil {
		return l.fail(op, err)
	}
	l.mu.Lock()
	l.state = s
	l.mu.Unlock()
	return nil
}
