// Package recipes builds ZooKeeper's classic coordination recipes on the
// public zk API only, as Apache Curator does for ZooKeeper: a waiter watches
// only its predecessor, nodes are ephemeral so that a dead holder releases
// what it held, and a create whose outcome is unknown is found again by a
// per-handle marker in the node's name instead of being repeated.
//
// Available now: Mutex (re-entrant per handle). Every blocking call takes a
// context; ending it withdraws the attempt.
package recipes
