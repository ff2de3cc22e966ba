package jute

// AuthPacket adds an identity to the session (xid -4, op auth).
type AuthPacket struct {
	Type   int32
	Scheme string
	Auth   []byte
}

// Encode implements Record.
func (r *AuthPacket) Encode(e *Encoder) { e.Int(r.Type); e.String(r.Scheme); e.Buffer(r.Auth) }

// Decode implements Record.
func (r *AuthPacket) Decode(d *Decoder) { r.Type = d.Int(); r.Scheme = d.String(); r.Auth = d.Buffer() }

// WhoAmIResponse lists the session's identities.
type WhoAmIResponse struct {
	ClientInfo []ClientInfo
}

// Encode implements Record.
func (r *WhoAmIResponse) Encode(e *Encoder) {
	if r.ClientInfo == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(r.ClientInfo)))
	for i := range r.ClientInfo {
		r.ClientInfo[i].Encode(e)
	}
}

// Decode implements Record.
func (r *WhoAmIResponse) Decode(d *Decoder) {
	n := d.VectorLen(8)
	if n < 0 || d.Err() != nil {
		r.ClientInfo = nil
		return
	}
	r.ClientInfo = make([]ClientInfo, n)
	for i := range r.ClientInfo {
		r.ClientInfo[i].Decode(d)
	}
}

// SASLToken is one token of a SASL exchange: ZooKeeper's GetSASLRequest
// (op sasl, the client's) and SetSASLResponse (the server's), both a
// single buffer. A nil Token is encoded as a null buffer (length -1), as
// ZooKeeper answers a failed exchange.
type SASLToken struct {
	Token []byte
}

// Encode implements Record.
func (r *SASLToken) Encode(e *Encoder) { e.Buffer(r.Token) }

// Decode implements Record.
func (r *SASLToken) Decode(d *Decoder) { r.Token = d.Buffer() }
