package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// On-disk layout of a segment file (all integers little-endian):
//
//	segment := header(40 bytes) chunk*       (chunks never cross a 4 KiB block)
//	header  := magic "ZKWALSEG" | version u32 | flags u32 | seq u64 |
//	           base i64 | crc32c(bytes 0..31) u32 | zero u32
//	chunk   := crc u32 | len u16 | type u8 | check u8 | payload[len]
//	record  := the payloads of one FULL chunk, or of FIRST MIDDLE* LAST,
//	           concatenated: zxid i64 | watermark i64 | data
//
// crc is CRC-32C over (seq u64 | len | type | payload); check is CRC-8 over
// (len | type), so a damaged length or type is recognized as damage even in
// the last chunk of a file. A record starts only where at least 24 bytes are
// left in the block (header plus the 16-byte record header), else the rest of
// the block is zero padding; FIRST and MIDDLE chunks fill their block to its
// end. An all-zero chunk header never occurs in written data: that is how a
// zero-filled (never written) block is recognized.
const (
	blockSize        = 4096
	chunkHeaderSize  = 8
	recordHeaderSize = 16
	firstChunkMin    = chunkHeaderSize + recordHeaderSize
	segHeaderSize    = 40
	formatVersion    = 1

	// MaxEntrySize is the largest Entry.Data accepted by Append.
	MaxEntrySize = 8 << 20

	chunkFull   = 1
	chunkFirst  = 2
	chunkMiddle = 3
	chunkLast   = 4

	segFlagReset    = 1
	segFlagPrealloc = 2

	segMagic = "ZKWALSEG"
)

// File names. Segments are named by sequence number, snapshots by zxid, both
// as 16 lowercase hex digits; temporary files carry tmpSuffix and are
// deleted by Open.
const (
	segPrefix  = "log."
	snapPrefix = "snapshot."
	tmpSuffix  = ".tmp"
	stateName  = "state"
	lockName   = "LOCK"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// crc8Table is CRC-8 with polynomial x^8+x^2+x+1 (0x07). It is computed once
// and never written after.
var crc8Table = func() (t [256]byte) {
	for i := range t {
		c := byte(i)
		for range 8 {
			if c&0x80 != 0 {
				c = c<<1 ^ 0x07
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

func crc8(b []byte) byte {
	var c byte
	for _, x := range b {
		c = crc8Table[c^x]
	}
	return c
}

// seqCRC is the CRC-32C state after the segment's sequence number: chunk
// checksums start from it, so a chunk copied from another segment fails.
func seqCRC(seq uint64) uint32 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seq)
	return crc32.Update(0, crcTable, b[:])
}

func chunkCRC(seed uint32, lenType, payload []byte) uint32 {
	return crc32.Update(crc32.Update(seed, crcTable, lenType), crcTable, payload)
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// segHeader is the fixed header of a segment file.
type segHeader struct {
	seq   uint64
	base  int64 // the zxid this segment starts after
	reset bool  // every older segment is obsolete
	// prealloc: zeros may follow the last record to the end of the file
	// (space filled ahead by PreAllocSize).
	prealloc bool
}

func (h segHeader) appendTo(b []byte) []byte {
	var hb [segHeaderSize]byte
	copy(hb[0:8], segMagic)
	binary.LittleEndian.PutUint32(hb[8:], formatVersion)
	var flags uint32
	if h.reset {
		flags |= segFlagReset
	}
	if h.prealloc {
		flags |= segFlagPrealloc
	}
	binary.LittleEndian.PutUint32(hb[12:], flags)
	binary.LittleEndian.PutUint64(hb[16:], h.seq)
	binary.LittleEndian.PutUint64(hb[24:], uint64(h.base))
	binary.LittleEndian.PutUint32(hb[32:], crc32.Checksum(hb[:32], crcTable))
	return append(b, hb[:]...)
}

// parseSegHeader decodes a segment header; b must hold segHeaderSize bytes.
func parseSegHeader(b []byte) (segHeader, error) {
	var h segHeader
	if len(b) < segHeaderSize {
		return h, corruptf("segment header: %d bytes, want %d", len(b), segHeaderSize)
	}
	if got, want := binary.LittleEndian.Uint32(b[32:]), crc32.Checksum(b[:32], crcTable); got != want {
		return h, corruptf("segment header: checksum %#x, want %#x", got, want)
	}
	if string(b[0:8]) != segMagic {
		return h, corruptf("segment header: bad magic %q", b[0:8])
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != formatVersion {
		return h, corruptf("segment header: unsupported format version %d", v)
	}
	flags := binary.LittleEndian.Uint32(b[12:])
	if flags&^(segFlagReset|segFlagPrealloc) != 0 {
		return h, corruptf("segment header: unknown flags %#x", flags)
	}
	if binary.LittleEndian.Uint32(b[36:]) != 0 {
		return h, corruptf("segment header: non-zero reserved bytes")
	}
	h.seq = binary.LittleEndian.Uint64(b[16:])
	h.base = int64(binary.LittleEndian.Uint64(b[24:]))
	h.reset = flags&segFlagReset != 0
	h.prealloc = flags&segFlagPrealloc != 0
	if h.base < 0 {
		return h, corruptf("segment header: negative base zxid %d", h.base)
	}
	return h, nil
}

func segmentName(seq uint64) string { return fmt.Sprintf("%s%016x", segPrefix, seq) }

func snapshotName(zxid int64) string { return fmt.Sprintf("%s%016x", snapPrefix, uint64(zxid)) }

// parseHexName parses prefix followed by exactly 16 lowercase hex digits.
func parseHexName(name, prefix string) (uint64, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || len(rest) != 16 {
		return 0, false
	}
	for _, c := range rest {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(rest, 16, 64)
	return v, err == nil
}
