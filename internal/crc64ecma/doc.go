// Package crc64ecma computes hash/crc64's ECMA checksum, bit for bit the
// value crc64.Checksum(p, crc64.MakeTable(crc64.ECMA)) returns, faster:
// 2.8x at 64 bytes, 7x at 1 KiB (BenchmarkUpdate).
//
// The tree stores the checksum of every node's data in the node's value and
// folds it into the digest that peers compare after each write, so the
// value must never change; only the speed does. On amd64 processors with
// carry-less multiplication (PCLMULQDQ, every x86-64 since 2010) an input
// of 64 bytes or more is folded 16 bytes at a time, four lanes in
// parallel, and only the last 16 to 31 bytes go through tables; elsewhere,
// and below 64 bytes, the tables compute it all, eight bytes a step
// (slicing-by-8, where hash/crc64 goes a byte a step below 64 bytes).
//
// The fold works because a CRC without its initial and final inversion
// depends only on the message polynomial modulo the CRC's polynomial P: a
// 128-bit block A standing D bits before the end of what follows it can be
// replaced by A·x^D mod P, which the two 64-bit halves of A give with two
// carry-less products by the constants x^(D+63) mod P and x^(D-1) mod P
// (bit-reversed, as this CRC is reflected; the -1 makes up for the
// product of two reflected operands landing one bit low).
package crc64ecma
