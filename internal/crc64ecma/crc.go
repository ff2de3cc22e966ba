package crc64ecma

import (
	"encoding/binary"
	"hash/crc64"
	"math/bits"
)

// foldMin is the shortest input the fold takes: the fold's own start and
// its last 16 to 31 bytes through the tables cost what the tables take for
// 64 bytes, so below that the tables are faster (BenchmarkUpdate).
const foldMin = 64

// table is the standard library's ECMA table: the short inputs and the
// fold's last bytes go through it.
var table = crc64.MakeTable(crc64.ECMA)

// folds are the fold's constants: x^e mod P bit-reversed, for the distances
// the assembly folds by: 512 bits (the four-lane loop), then 384, 256 and
// 128 (four lanes into one), and 128 again (one lane). Pairs are (low
// half, high half) of a 128-bit block: the low half stands 64 bits further
// from the end, so it takes the larger power.
var folds = [8]uint64{
	foldConst(512 + 63), foldConst(512 - 1),
	foldConst(384 + 63), foldConst(384 - 1),
	foldConst(256 + 63), foldConst(256 - 1),
	foldConst(128 + 63), foldConst(128 - 1),
}

// polyNormal is ECMA-182's polynomial with bit d the coefficient of x^d
// (x^64 implied); crc64.ECMA is its bit reversal.
const polyNormal = 0x42F0E1EBA9EA3693

// foldConst returns x^e mod P, bit-reversed.
func foldConst(e int) uint64 {
	r := uint64(1)
	for range e {
		carry := r >> 63
		r <<= 1
		if carry != 0 {
			r ^= polyNormal
		}
	}
	return bits.Reverse64(r)
}

// Checksum returns the ECMA CRC-64 of p: crc64.Checksum(p,
// crc64.MakeTable(crc64.ECMA)).
func Checksum(p []byte) uint64 { return Update(0, p) }

// Update returns the checksum crc extended by p: crc64.Update(crc,
// crc64.MakeTable(crc64.ECMA), p).
func Update(crc uint64, p []byte) uint64 {
	if !canFold || len(p) < foldMin {
		return crc64.Update(crc, table, p)
	}
	return update(crc, p)
}

// update folds p's whole 16-byte blocks into one (the inverted crc xored
// into the first 8 bytes, as the table loop's start does) and finishes
// with the tables over that block and the rest of p. The tables' own
// inversions cancel: starting them at all ones over the folded block is
// starting the plain CRC at zero there.
func update(crc uint64, p []byte) uint64 {
	n := len(p) &^ 15
	lo, hi := foldBlocks(p[:n], ^crc, &folds)
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], lo)
	binary.LittleEndian.PutUint64(b[8:], hi)
	c := crc64.Update(^uint64(0), table, b[:])
	return crc64.Update(c, table, p[n:])
}
