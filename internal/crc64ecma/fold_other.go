//go:build !amd64

package crc64ecma

// canFold: the fold is written for amd64 only; elsewhere the slicing-by-8
// tables compute every checksum.
const canFold = false

func foldBlocks(p []byte, r uint64, k *[8]uint64) (lo, hi uint64) {
	panic("crc64ecma: no fold on this architecture")
}
