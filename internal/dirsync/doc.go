// Package dirsync makes a directory's entries durable: after a file in it
// is created, renamed or removed, the directory itself must be synced for
// the change to survive a crash. The log (wal), the tree (znode) and the
// peer's own marks (engine) share it.
package dirsync
