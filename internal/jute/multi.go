package jute

// MultiHeader precedes each op of a multi request and each result of a
// multi response; Done marks the end (type -1, done true, err -1).
type MultiHeader struct {
	Type int32
	Done bool
	Err  int32
}

// Encode implements Record.
func (r *MultiHeader) Encode(e *Encoder) { e.Int(r.Type); e.Bool(r.Done); e.Int(r.Err) }

// Decode implements Record.
func (r *MultiHeader) Decode(d *Decoder) { r.Type = d.Int(); r.Done = d.Bool(); r.Err = d.Int() }

var multiEnd = MultiHeader{Type: -1, Done: true, Err: -1}

// MultiOp is one op of a multi (create, create2, createContainer, createTTL,
// delete, setData, check) or of a multiRead (getData, getChildren). Only
// the fields of its Type are encoded.
type MultiOp struct {
	Type    int32
	Path    string
	Data    []byte
	ACL     []ACL
	Flags   int32
	TTL     int64
	Version int32
	Watch   bool
}

func (op *MultiOp) create() *CreateRequest {
	return &CreateRequest{Path: op.Path, Data: op.Data, ACL: op.ACL, Flags: op.Flags, TTL: op.TTL, HasTTL: op.Type == OpCreateTTL}
}

func (op *MultiOp) encode(e *Encoder) {
	switch op.Type {
	case OpCreate, OpCreate2, OpCreateContainer, OpCreateTTL:
		op.create().Encode(e)
	case OpDelete, OpCheck:
		(&PathVersionRequest{Path: op.Path, Version: op.Version}).Encode(e)
	case OpSetData:
		(&SetDataRequest{Path: op.Path, Data: op.Data, Version: op.Version}).Encode(e)
	case OpGetData, OpGetChildren:
		(&PathWatchRequest{Path: op.Path, Watch: op.Watch}).Encode(e)
	}
}

func (op *MultiOp) decode(d *Decoder) {
	switch op.Type {
	case OpCreate, OpCreate2, OpCreateContainer, OpCreateTTL:
		c := CreateRequest{HasTTL: op.Type == OpCreateTTL}
		c.Decode(d)
		op.Path, op.Data, op.ACL, op.Flags, op.TTL = c.Path, c.Data, c.ACL, c.Flags, c.TTL
	case OpDelete, OpCheck:
		var r PathVersionRequest
		r.Decode(d)
		op.Path, op.Version = r.Path, r.Version
	case OpSetData:
		var r SetDataRequest
		r.Decode(d)
		op.Path, op.Data, op.Version = r.Path, r.Data, r.Version
	case OpGetData, OpGetChildren:
		var r PathWatchRequest
		r.Decode(d)
		op.Path, op.Watch = r.Path, r.Watch
	default:
		d.Fail("multi: op type %d", op.Type)
	}
}

// MultiRequest is a multi (op multi) or a multiRead (op multiRead): a
// sequence of ops, each after its MultiHeader, ended by the done header.
type MultiRequest struct {
	Ops []MultiOp
}

// Encode implements Record.
func (r *MultiRequest) Encode(e *Encoder) {
	for i := range r.Ops {
		(&MultiHeader{Type: r.Ops[i].Type, Err: -1}).Encode(e)
		r.Ops[i].encode(e)
	}
	multiEnd.Encode(e)
}

// Decode implements Record. Each op takes at least its 9-byte header, so
// the number of ops is bounded by the input's size.
func (r *MultiRequest) Decode(d *Decoder) {
	r.Ops = nil
	for d.Err() == nil {
		var h MultiHeader
		h.Decode(d)
		if h.Done || d.Err() != nil {
			return
		}
		op := MultiOp{Type: h.Type}
		op.decode(d)
		r.Ops = append(r.Ops, op)
	}
}

// MultiResult is one result of a multi response. Type is the op's code
// (create, create2, delete, setData, check, getData, getChildren) or OpError
// with Err set.
type MultiResult struct {
	Type     int32
	Err      int32
	Path     string
	Stat     Stat
	Data     []byte
	Children []string
}

// MultiResponse answers a multi or a multiRead.
type MultiResponse struct {
	Results []MultiResult
}

// Encode implements Record.
func (r *MultiResponse) Encode(e *Encoder) {
	for i := range r.Results {
		res := &r.Results[i]
		var code int32
		if res.Type == OpError {
			code = res.Err
		}
		(&MultiHeader{Type: res.Type, Err: code}).Encode(e)
		switch res.Type {
		case OpCreate:
			e.String(res.Path)
		case OpCreate2:
			(&Create2Response{Path: res.Path, Stat: res.Stat}).Encode(e)
		case OpSetData:
			res.Stat.Encode(e)
		case OpGetData:
			(&GetDataResponse{Data: res.Data, Stat: res.Stat}).Encode(e)
		case OpGetChildren:
			e.Strings(res.Children)
		case OpError:
			e.Int(res.Err)
		}
	}
	multiEnd.Encode(e)
}

// Decode implements Record.
func (r *MultiResponse) Decode(d *Decoder) {
	r.Results = nil
	for d.Err() == nil {
		var h MultiHeader
		h.Decode(d)
		if h.Done || d.Err() != nil {
			return
		}
		res := MultiResult{Type: h.Type}
		switch h.Type {
		case OpCreate:
			res.Path = d.String()
		case OpCreate2:
			res.Path = d.String()
			res.Stat.Decode(d)
		case OpSetData:
			res.Stat.Decode(d)
		case OpGetData:
			res.Data = d.Buffer()
			res.Stat.Decode(d)
		case OpGetChildren:
			res.Children = d.Strings()
		case OpError:
			res.Err = d.Int()
		case OpDelete, OpCheck:
		default:
			d.Fail("multi response: result type %d", h.Type)
		}
		r.Results = append(r.Results, res)
	}
}
