package jute

// SetWatches re-registers a reconnecting client's watches (op setWatches,
// xid -8); with V2 it is SetWatches2 (op setWatches2), which adds the
// persistent and persistent-recursive watches.
type SetWatches struct {
	RelativeZxid        int64
	DataWatches         []string
	ExistWatches        []string
	ChildWatches        []string
	PersistentWatches   []string
	PersistentRecursive []string
	V2                  bool
}

// Encode implements Record.
func (r *SetWatches) Encode(e *Encoder) {
	e.Long(r.RelativeZxid)
	e.Strings(r.DataWatches)
	e.Strings(r.ExistWatches)
	e.Strings(r.ChildWatches)
	if r.V2 {
		e.Strings(r.PersistentWatches)
		e.Strings(r.PersistentRecursive)
	}
}

// Decode implements Record. Set V2 before decoding a SetWatches2.
func (r *SetWatches) Decode(d *Decoder) {
	r.RelativeZxid = d.Long()
	r.DataWatches = d.Strings()
	r.ExistWatches = d.Strings()
	r.ChildWatches = d.Strings()
	if r.V2 {
		r.PersistentWatches = d.Strings()
		r.PersistentRecursive = d.Strings()
	}
}

// Add-watch modes (ZooDefs.AddWatchModes).
const (
	AddWatchPersistent          int32 = 0
	AddWatchPersistentRecursive int32 = 1
)

// AddWatchRequest sets a persistent watch.
type AddWatchRequest struct {
	Path string
	Mode int32
}

// Encode implements Record.
func (r *AddWatchRequest) Encode(e *Encoder) { e.String(r.Path); e.Int(r.Mode) }

// Decode implements Record.
func (r *AddWatchRequest) Decode(d *Decoder) { r.Path = d.String(); r.Mode = d.Int() }

// WatchesRequest is CheckWatchesRequest and RemoveWatchesRequest: a path and
// a watcher type (Watcher.WatcherType: 1 children, 2 data, 3 any,
// 4 persistent, 5 persistent recursive).
type WatchesRequest struct {
	Path string
	Type int32
}

// Encode implements Record.
func (r *WatchesRequest) Encode(e *Encoder) { e.String(r.Path); e.Int(r.Type) }

// Decode implements Record.
func (r *WatchesRequest) Decode(d *Decoder) { r.Path = d.String(); r.Type = d.Int() }
