#include "textflag.h"

// func hasPCLMUL() bool
TEXT ·hasPCLMUL(SB), NOSPLIT, $0-1
	MOVL $1, AX
	XORL CX, CX
	CPUID
	SHRL $1, CX
	ANDL $1, CX
	MOVB CX, ret+0(FP)
	RET

// FOLD replaces the block in acc by its two halves' carry-less products
// with the constants in k (low half by k's low, high half by k's high),
// xored; tmp is clobbered.
#define FOLD(acc, k, tmp) \
	MOVOU acc, tmp; \
	PCLMULQDQ $0x00, k, acc; \
	PCLMULQDQ $0x11, k, tmp; \
	PXOR tmp, acc

// FOLDIN folds acc by k, then xors in the 16 bytes at off(SI); tmp and X5
// are clobbered.
#define FOLDIN(acc, k, tmp, off) \
	FOLD(acc, k, tmp); \
	MOVOU off(SI), X5; \
	PXOR X5, acc

// func foldBlocks(p []byte, r uint64, k *[8]uint64) (lo, hi uint64)
TEXT ·foldBlocks(SB), NOSPLIT, $0-56
	MOVQ p_base+0(FP), SI
	MOVQ p_len+8(FP), CX
	MOVQ r+24(FP), AX
	MOVQ k+32(FP), DX

	// Four lanes: the first 64 bytes, r xored into the first 8.
	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X2
	MOVOU 48(SI), X3
	MOVQ  AX, X4
	PXOR  X4, X0
	ADDQ  $64, SI
	SUBQ  $64, CX
	MOVOU 0(DX), X8 // fold by 512 bits

lanes:
	CMPQ CX, $64
	JB   join
	FOLDIN(X0, X8, X4, 0)
	FOLDIN(X1, X8, X4, 16)
	FOLDIN(X2, X8, X4, 32)
	FOLDIN(X3, X8, X4, 48)
	ADDQ  $64, SI
	SUBQ  $64, CX
	JMP   lanes

join:
	// Lanes 0, 1 and 2 stand 384, 256 and 128 bits before lane 3's end.
	MOVOU 16(DX), X9
	FOLD(X0, X9, X4)
	PXOR  X0, X3
	MOVOU 32(DX), X9
	FOLD(X1, X9, X4)
	PXOR  X1, X3
	MOVOU 48(DX), X9
	FOLD(X2, X9, X4)
	PXOR  X2, X3

single:
	// The remaining 16-byte blocks, one at a time (X9: fold by 128).
	CMPQ CX, $16
	JB   done
	FOLDIN(X3, X9, X4, 0)
	ADDQ  $16, SI
	SUBQ  $16, CX
	JMP   single

done:
	MOVQ   X3, AX
	MOVQ   AX, lo+40(FP)
	PSRLDQ $8, X3
	MOVQ   X3, AX
	MOVQ   AX, hi+48(FP)
	RET
