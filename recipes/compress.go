package recipes

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// ErrBadCompressedData: data a cache set WithCompressedData read, or that
// Decompress was given, is not one gzip member as Curator's
// GzipCompressionProvider writes and reads it.
var ErrBadCompressedData = errors.New("recipes: data is not gzip-compressed")

// Compress returns data gzip-compressed as Curator's
// GzipCompressionProvider writes it (what a Curator client's
// create().compressed() and setData().compressed() store): one gzip member
// with Curator's header (no name, no modification time, operating system
// 0). The deflate stream is Go's, not byte for byte Java's; any gzip
// reader, Curator's included, reads it. Empty data gives the 20 bytes
// Curator gives.
func Compress(data []byte) []byte {
	if len(data) == 0 {
		// Curator's COMPRESSED_EMPTY_BYTES: its header, an empty fixed
		// Huffman block (03 00), a zero CRC and a zero length.
		return []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	}
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Header.OS = 0 // Curator's header byte; Go's default is 255 (unknown)
	// Writes to a bytes.Buffer do not fail.
	_, _ = w.Write(data)
	_ = w.Close()
	return b.Bytes()
}

// Decompress returns what Compress, or Curator's GzipCompressionProvider,
// compressed. As Curator's, it takes exactly one gzip member: trailing
// bytes, a second member, a bad checksum or length, or data that is not
// gzip fail with an error wrapping ErrBadCompressedData.
func Decompress(data []byte) ([]byte, error) {
	r := bytes.NewReader(data)
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCompressedData, err)
	}
	zr.Multistream(false)
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCompressedData, err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the gzip member", ErrBadCompressedData, r.Len())
	}
	return out, nil
}

// WithCompressedData makes the cache decompress the data it reads, as
// Curator's caches built with compressed data (TreeCache
// setDataIsCompressed, CuratorCache's COMPRESSED_DATA): each node's data
// is one gzip member (Compress). A node whose data is not is held with nil
// Data and its DataErr set, and reported so: Curator's caches log the
// error and leave such a node out (or at its previous data). Empty data
// stays empty: ZooKeeper's null data, which Curator does not decompress,
// reads as empty here.
func WithCompressedData() CacheOption {
	return func(c *cacheConfig) { c.gunzip = true }
}

// decode returns the data a cache holds for raw, a node's data as stored.
func (s *cacheState) decode(raw []byte) ([]byte, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if !s.gunzip {
		return bytes.Clone(raw), nil
	}
	data, err := Decompress(raw)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		data = nil
	}
	return data, nil
}
