package wal

import (
	"hash/crc32"
	"io"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// snapReader streams a snapshot's content, checking its checksum.
type snapReader struct {
	src      io.ReaderAt
	closer   io.Closer
	off, end int64 // content still to read: [off, end)
	want     uint32
	sum      uint32
	err      error // sticky
}

// newSnapReader checks the header and trailer of the snapshot file f.
func newSnapReader(f vfs.File, zxid int64) (*snapReader, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r, err := parseSnapshot(f, st.Size(), zxid)
	if err != nil {
		return nil, err
	}
	r.closer = f
	return r, nil
}

// parseSnapshot checks the header and trailer of a snapshot of size bytes
// read from src, expected to hold zxid.
func parseSnapshot(src io.ReaderAt, size int64, zxid int64) (*snapReader, error) {
	if size < snapHeaderSize+snapTrailerSize {
		return nil, corruptf("snapshot file of %d bytes is incomplete", size)
	}
	var h [snapHeaderSize]byte
	if err := readAtFull(src, h[:], 0); err != nil {
		return nil, err
	}
	got, err := parseSnapHeader(h[:])
	if err != nil {
		return nil, err
	}
	if got != zxid {
		return nil, corruptf("snapshot header holds zxid %#x, want %#x", got, zxid)
	}
	var t [snapTrailerSize]byte
	if err := readAtFull(src, t[:], size-snapTrailerSize); err != nil {
		return nil, err
	}
	want, err := parseSnapTrailer(t[:], size)
	if err != nil {
		return nil, err
	}
	return &snapReader{src: src, off: snapHeaderSize, end: size - snapTrailerSize, want: want}, nil
}

func (r *snapReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.off == r.end {
		// Reached only with empty content: a read that consumes the last
		// content bytes checks the sum itself.
		r.err = io.EOF
		if r.sum != r.want {
			r.err = corruptf("snapshot content checksum %#x, want %#x", r.sum, r.want)
		}
		return 0, r.err
	}
	k := int(min(int64(len(p)), r.end-r.off))
	n, err := r.src.ReadAt(p[:k], r.off)
	r.sum = crc32.Update(r.sum, crcTable, p[:n])
	r.off += int64(n)
	if n < k {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		r.err = err
		return n, err
	}
	if r.off == r.end && r.sum != r.want {
		// The bytes of the read that completes the content are withheld:
		// a consumer that reads exactly the content length (io.ReadFull)
		// sees the error too.
		r.err = corruptf("snapshot content checksum %#x, want %#x", r.sum, r.want)
		return 0, r.err
	}
	return n, nil
}

func (r *snapReader) Close() error {
	if r.closer == nil {
		return nil
	}
	c := r.closer
	r.closer = nil
	return c.Close()
}
