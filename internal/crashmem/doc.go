// Package crashmem is Pebble's crashable in-memory file system
// (vfs.NewCrashableMem) made safe to crash-clone while stores run on it.
// Tests use it; the module's non-test code does not.
//
// Pebble's MemFS guards its contents with a clone lock that every
// modification read-locks and CrashClone write-locks. Three of its calls
// read-lock it twice, once inside the other: Link, Lock (through Create)
// and ReuseForWrite (through Rename). A CrashClone that arrives between the
// two read locks waits for the first, and the second waits behind the
// clone: the file system stops. A checkpoint (Link) or an open (Lock)
// beside a test's crash is enough.
//
// FS holds its own lock around exactly those three calls, and CrashClone
// takes it exclusively first, so a clone never waits inside a nested call.
package crashmem
