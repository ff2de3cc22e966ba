package jute

// ReconfigRequest is ZooKeeper's reconfig request: the servers joining and
// leaving (an incremental change) or the whole new member list, as
// comma-separated strings; nil is jute's null string, which is how
// ZooKeeper tells an incremental change (NewMembers null) from a
// non-incremental one. CurConfigID is the configuration version the change
// applies to, -1 for any.
type ReconfigRequest struct {
	JoiningServers *string
	LeavingServers *string
	NewMembers     *string
	CurConfigID    int64
}

// Encode implements Record.
func (r *ReconfigRequest) Encode(e *Encoder) {
	for _, s := range []*string{r.JoiningServers, r.LeavingServers, r.NewMembers} {
		if s == nil {
			e.Int(-1)
		} else {
			e.String(*s)
		}
	}
	e.Long(r.CurConfigID)
}

// Decode implements Record.
func (r *ReconfigRequest) Decode(d *Decoder) {
	r.JoiningServers = d.nullString()
	r.LeavingServers = d.nullString()
	r.NewMembers = d.nullString()
	r.CurConfigID = d.Long()
}

// nullString reads a jute ustring that may be null (nil).
func (d *Decoder) nullString() *string {
	b := d.Buffer()
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}
