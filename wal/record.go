package wal

import "encoding/binary"

var zeroPad [firstChunkMin]byte

// appendRecord frames one record and appends it to buf, whose first byte
// lands at file offset start. seed is the segment's seqCRC, wm the durable
// watermark (how much of the segment was synced before this write began).
func appendRecord(buf []byte, start int64, seed uint32, zxid, wm int64, data []byte) []byte {
	off := start + int64(len(buf))
	left := int(blockSize - off%blockSize)
	if left < firstChunkMin {
		buf = append(buf, zeroPad[:left]...)
		left = blockSize
	}
	var rh [recordHeaderSize]byte
	binary.LittleEndian.PutUint64(rh[0:], uint64(zxid))
	binary.LittleEndian.PutUint64(rh[8:], uint64(wm))

	total := recordHeaderSize + len(data)
	done := 0
	for {
		n := min(total-done, left-chunkHeaderSize)
		var typ byte
		switch {
		case done == 0 && n == total:
			typ = chunkFull
		case done == 0:
			typ = chunkFirst
		case done+n == total:
			typ = chunkLast
		default:
			typ = chunkMiddle
		}
		h := len(buf)
		buf = append(buf, 0, 0, 0, 0, byte(n), byte(n>>8), typ, 0)
		buf[h+7] = crc8(buf[h+4 : h+7])
		p := len(buf)
		// The payload is the record header followed by data; a chunk holds
		// the bytes [done, done+n) of it. The first chunk holds the whole
		// record header (left >= firstChunkMin).
		if done < recordHeaderSize {
			buf = append(buf, rh[done:]...)
			buf = append(buf, data[:n-(recordHeaderSize-done)]...)
		} else {
			d := done - recordHeaderSize
			buf = append(buf, data[d:d+n]...)
		}
		binary.LittleEndian.PutUint32(buf[h:], chunkCRC(seed, buf[h+4:h+7], buf[p:]))
		done += n
		if done == total {
			return buf
		}
		left = blockSize
	}
}
