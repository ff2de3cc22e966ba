package watch

import (
	"strconv"

	"github.com/embedzk/zk/znode"
)

// EventType is the type of a watch event, with ZooKeeper's numeric values
// (Watcher.Event.EventType).
type EventType int32

// Event types.
const (
	EventNodeCreated            EventType = 1
	EventNodeDeleted            EventType = 2
	EventNodeDataChanged        EventType = 3
	EventNodeChildrenChanged    EventType = 4
	EventDataWatchRemoved       EventType = 5
	EventChildWatchRemoved      EventType = 6
	EventPersistentWatchRemoved EventType = 7
	// EventNotWatching is zk's own: the registration ended without firing
	// because its session ended (Err is zkerr.ErrSessionExpired or
	// zkerr.ErrClosed), its buffer overflowed (zkerr.ErrWatchOverflow), or
	// its one-shot change was one its session may not read (zkerr.ErrNoAuth).
	// ZooKeeper's client uses -1 for None; -2 is not a ZooKeeper value.
	EventNotWatching EventType = -2
)

var eventNames = map[EventType]string{
	EventNodeCreated:            "NodeCreated",
	EventNodeDeleted:            "NodeDeleted",
	EventNodeDataChanged:        "NodeDataChanged",
	EventNodeChildrenChanged:    "NodeChildrenChanged",
	EventDataWatchRemoved:       "DataWatchRemoved",
	EventChildWatchRemoved:      "ChildWatchRemoved",
	EventPersistentWatchRemoved: "PersistentWatchRemoved",
	EventNotWatching:            "NotWatching",
}

// String returns ZooKeeper's name of the event type.
func (t EventType) String() string {
	if s, ok := eventNames[t]; ok {
		return s
	}
	return "EventType(" + strconv.Itoa(int(t)) + ")"
}

// terminal reports whether an event of this type ends its registration
// whatever the kind (removal and not-watching events).
func (t EventType) terminal() bool {
	return t == EventNotWatching || (t >= EventDataWatchRemoved && t <= EventPersistentWatchRemoved)
}

// Event is one watch notification.
type Event struct {
	Type EventType
	Path string
	// Zxid is the zxid of the change that caused the event; 0 for removal
	// and not-watching events.
	Zxid int64
	// Err says why the watch ended; set on EventNotWatching only.
	Err error
	// Node is the node's data and Stat right after the change's
	// transaction, for registrations whose sink attaches it (the engine's
	// watches with data). It is nil otherwise, for NodeDeleted, and when the
	// same transaction deleted the node again. Receivers must not modify it.
	Node *NodeState
}

// NodeState is a node's data and Stat as a transaction left them.
type NodeState struct {
	Data []byte
	Stat znode.Stat
}

// Kind is what a registration watches.
type Kind uint8

// Kinds of registration.
const (
	KindData                Kind = iota + 1 // one-shot, set by getData
	KindExist                               // one-shot, set by exists (the node may be missing)
	KindChild                               // one-shot, set by getChildren
	KindPersistent                          // addWatch PERSISTENT
	KindPersistentRecursive                 // addWatch PERSISTENT_RECURSIVE
)

var kindNames = [...]string{
	KindData:                "Data",
	KindExist:               "Exist",
	KindChild:               "Child",
	KindPersistent:          "Persistent",
	KindPersistentRecursive: "PersistentRecursive",
}

// String returns the kind's name.
func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

func (k Kind) valid() bool { return k >= KindData && k <= KindPersistentRecursive }

// OneShot reports whether the kind fires once (ZooKeeper's standard watches).
func (k Kind) OneShot() bool { return k >= KindData && k <= KindChild }

// removedEvent is the event ZooKeeper's client raises when a registration of
// this kind is removed by RemoveWatches.
func (k Kind) removedEvent() EventType {
	switch k {
	case KindData, KindExist:
		return EventDataWatchRemoved
	case KindChild:
		return EventChildWatchRemoved
	default:
		return EventPersistentWatchRemoved
	}
}

// WatcherType selects registrations for Remove, with ZooKeeper's values
// (Watcher.WatcherType).
type WatcherType int32

// Watcher types.
const (
	WatcherChildren            WatcherType = 1
	WatcherData                WatcherType = 2
	WatcherAny                 WatcherType = 3
	WatcherPersistent          WatcherType = 4
	WatcherPersistentRecursive WatcherType = 5
)

var watcherTypeNames = [...]string{
	WatcherChildren:            "Children",
	WatcherData:                "Data",
	WatcherAny:                 "Any",
	WatcherPersistent:          "Persistent",
	WatcherPersistentRecursive: "PersistentRecursive",
}

// String returns ZooKeeper's name of the watcher type.
func (w WatcherType) String() string {
	if w.valid() {
		return watcherTypeNames[w]
	}
	return "WatcherType(" + strconv.Itoa(int(w)) + ")"
}

func (w WatcherType) valid() bool { return w >= WatcherChildren && w <= WatcherPersistentRecursive }

// Matches reports whether Remove with this watcher type removes a
// registration of kind k.
func (w WatcherType) Matches(k Kind) bool {
	switch w {
	case WatcherChildren:
		return k == KindChild
	case WatcherData:
		return k == KindData || k == KindExist
	case WatcherPersistent:
		return k == KindPersistent
	case WatcherPersistentRecursive:
		return k == KindPersistentRecursive
	case WatcherAny:
		return k.valid()
	}
	return false
}
