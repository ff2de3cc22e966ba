// Package jute encodes and decodes the records of ZooKeeper's client
// protocol, as ZooKeeper 3.8's zookeeper.jute defines them, written here
// from that definition and its documentation.
//
// # Encoding
//
// Jute's binary archive is big-endian: int is 4 bytes, long 8, boolean one
// byte (0 or 1; any non-zero byte decodes as true, as ZooKeeper reads it),
// buffer and ustring a 4-byte length then the bytes (length -1 is null),
// vector a 4-byte count (-1 is null) then the elements. A record is its
// fields in order, with nothing around them. On a TCP connection every
// packet is a frame: a 4-byte length, then that many bytes.
//
// # Decoding untrusted bytes
//
// A Decoder reads from one byte slice (one frame). Every length and count is
// checked against the bytes that remain before anything is allocated, so the
// memory a decode allocates is bounded by a small multiple of the frame's
// size, and the frame's size is bounded by the caller (ReadFrame refuses a
// length over its limit, jute.maxbuffer, before reading or allocating).
// A negative length other than -1 is an error, and a vector count below -1
// reads as an empty vector, as in ZooKeeper's BinaryInputArchive. The first
// error sticks: later reads return zero values, and Err reports it, wrapping
// ErrMalformed (itself a zkerr.ErrMarshalling).
//
// Decoded []byte fields (Buffer) alias the decoder's input: the caller owns
// the frame and must not reuse it while it holds them. Strings are copies.
//
// # Records
//
// One file per family of records: data.go (Id, ACL, Stat, ClientInfo),
// connect.go (ConnectRequest, ConnectResponse), header.go (RequestHeader,
// ReplyHeader, WatcherEvent, opcodes and special xids), requests.go (the data
// requests and their responses), multi.go (multi and multiRead), watches.go
// (SetWatches, SetWatches2, AddWatch, Check/RemoveWatches) and auth.go
// (AuthPacket, WhoAmIResponse). Every record has Encode(*Encoder) and
// Decode(*Decoder); Marshal and Unmarshal wrap them.
//
// The package is pure: no I/O except ReadFrame and WriteFrame, no goroutines,
// no global state.
package jute
