package crc64ecma

import (
	"fmt"
	"hash/crc64"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
)

var stdTable = crc64.MakeTable(crc64.ECMA)

// TestMatchesStandardLibrary compares every length up to 2,100 bytes, at
// every alignment mod 16, from random starting values, with hash/crc64.
func TestMatchesStandardLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 2100+16)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	for n := 0; n <= 2100; n++ {
		for _, off := range []int{0, 1, 7, 8, 15} {
			p := buf[off : off+n]
			if got, want := Checksum(p), crc64.Checksum(p, stdTable); got != want {
				t.Fatalf("Checksum, %d bytes at offset %d: %#x, want %#x", n, off, got, want)
			}
			seed := rng.Uint64()
			if got, want := Update(seed, p), crc64.Update(seed, stdTable, p); got != want {
				t.Fatalf("Update(%#x), %d bytes at offset %d: %#x, want %#x", seed, n, off, got, want)
			}
		}
	}
}

// TestFoldFromItsShortest runs the fold itself (not the tables Update
// prefers below foldMin) on every length it accepts from 64 bytes, and on
// inputs of special shape: all zeros, all ones, one bit set.
func TestFoldFromItsShortest(t *testing.T) {
	if !canFold {
		t.Skipf("no PCLMULQDQ on %s: TestFoldIsUsed says whether that is right", runtime.GOARCH)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 64; n < 600; n++ {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		shapes := map[string][]byte{"random": p, "zeros": make([]byte, n), "ones": ones(n), "one bit": oneBit(n, rng.IntN(8*n))}
		for name, q := range shapes {
			seed := rng.Uint64()
			if got, want := update(seed, q), crc64.Update(seed, stdTable, q); got != want {
				t.Fatalf("fold, %s, %d bytes, from %#x: %#x, want %#x", name, n, seed, got, want)
			}
		}
	}
}

// TestTablesMatchStandardLibrary runs the tables alone on every length up
// to 600 bytes: on amd64 they see only short inputs and the fold's last
// bytes, elsewhere every input.
func TestTablesMatchStandardLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 0; n <= 600; n++ {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		seed := rng.Uint64()
		if got, want := updateTables(seed, p), crc64.Update(seed, stdTable, p); got != want {
			t.Fatalf("tables, %d bytes from %#x: %#x, want %#x", n, seed, got, want)
		}
	}
}

func ones(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = 0xff
	}
	return p
}

func oneBit(n, bit int) []byte {
	p := make([]byte, n)
	p[bit/8] = 1 << (bit % 8)
	return p
}

// TestFoldIsUsed: on an amd64 Linux machine whose processor lists
// pclmulqdq, the fold must be on; otherwise the fast path would be dead
// code that every other test passes without.
func TestFoldIsUsed(t *testing.T) {
	if runtime.GOARCH != "amd64" || runtime.GOOS != "linux" {
		t.Skipf("checked against /proc/cpuinfo on linux/amd64 only (this is %s/%s)", runtime.GOOS, runtime.GOARCH)
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatal(err)
	}
	listed := strings.Contains(string(info), " pclmulqdq")
	if canFold != listed {
		t.Fatalf("canFold is %v, but /proc/cpuinfo lists pclmulqdq: %v", canFold, listed)
	}
}

func TestFoldConstants(t *testing.T) {
	// x^63 mod P is x^63 itself: bit-reversed, bit 0.
	if got := foldConst(63); got != 1 {
		t.Fatalf("foldConst(63) = %#x, want 1", got)
	}
	// x^64 mod P is P's low terms: bit-reversed, crc64.ECMA.
	if got := foldConst(64); got != crc64.ECMA {
		t.Fatalf("foldConst(64) = %#x, want %#x", got, uint64(crc64.ECMA))
	}
}

func FuzzChecksum(f *testing.F) {
	f.Add(uint64(0), []byte("hello"))
	f.Add(uint64(1), make([]byte, 200))
	f.Fuzz(func(t *testing.T, seed uint64, p []byte) {
		if got, want := Update(seed, p), crc64.Update(seed, stdTable, p); got != want {
			t.Fatalf("%d bytes from %#x: %#x, want %#x", len(p), seed, got, want)
		}
	})
}

func BenchmarkUpdate(b *testing.B) {
	for _, n := range []int{64, 128, 256, 1024, 64 << 10} {
		p := make([]byte, n)
		b.Run(fmt.Sprintf("crc64ecma/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				Checksum(p)
			}
		})
		b.Run(fmt.Sprintf("hash-crc64/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				crc64.Checksum(p, stdTable)
			}
		})
	}
}
