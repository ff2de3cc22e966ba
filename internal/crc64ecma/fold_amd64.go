package crc64ecma

// canFold is whether this processor has PCLMULQDQ.
var canFold = hasPCLMUL()

// hasPCLMUL reports CPUID leaf 1's PCLMULQDQ bit.
func hasPCLMUL() bool

// foldBlocks folds p, whose length is a multiple of 16 and at least 64,
// into one 128-bit block (lo, hi: its two little-endian halves), after
// xoring r into the first 8 bytes. k is folds.
//
//go:noescape
func foldBlocks(p []byte, r uint64, k *[8]uint64) (lo, hi uint64)
