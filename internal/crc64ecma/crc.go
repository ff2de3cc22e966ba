package crc64ecma

import (
	"encoding/binary"
	"hash/crc64"
	"math/bits"
)

// foldMin is the shortest input the fold takes: its four lanes start with
// 64 bytes. At 64 bytes it already takes half the tables' time.
const foldMin = 64

// slices are the tables of slicing-by-8 (eight bytes a step, each through
// its own table): the short inputs and the fold's last bytes go through
// them. hash/crc64 uses such tables from 64 bytes only, and a table a byte
// below that, where zk's digests hash most of their inputs.
var slices = makeSlices()

// makeSlices builds the tables: slices[0] is the standard library's ECMA
// table (a byte's CRC), and slices[k][b] is the CRC of byte b followed by
// k zero bytes.
func makeSlices() *[8][256]uint64 {
	var t [8][256]uint64
	t[0] = *crc64.MakeTable(crc64.ECMA)
	for b := range 256 {
		c := t[0][b]
		for k := 1; k < 8; k++ {
			c = t[0][byte(c)] ^ c>>8
			t[k][b] = c
		}
	}
	return &t
}

// updateTables is Update through the tables alone.
func updateTables(crc uint64, p []byte) uint64 {
	t := slices
	crc = ^crc
	for len(p) >= 8 {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[7][byte(crc)] ^ t[6][byte(crc>>8)] ^ t[5][byte(crc>>16)] ^ t[4][byte(crc>>24)] ^
			t[3][byte(crc>>32)] ^ t[2][byte(crc>>40)] ^ t[1][byte(crc>>48)] ^ t[0][byte(crc>>56)]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return ^crc
}

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
		return updateTables(crc, p)
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
	c := updateTables(^uint64(0), b[:])
	return updateTables(c, p[n:])
}
