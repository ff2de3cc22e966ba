package jute

// NewRequest returns an empty record for the body of a request of type op
// (after its RequestHeader), nil for a request without a body (ping,
// closeSession, whoAmI), and false for an op this package does not know.
func NewRequest(op int32) (Record, bool) {
	switch op {
	case OpPing, OpCloseSession, OpWhoAmI:
		return nil, true
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{}, true
	case OpCreateTTL:
		return &CreateRequest{HasTTL: true}, true
	case OpDelete, OpCheck:
		return &PathVersionRequest{}, true
	case OpExists, OpGetData, OpGetChildren, OpGetChildren2:
		return &PathWatchRequest{}, true
	case OpSetData:
		return &SetDataRequest{}, true
	case OpGetACL, OpSync, OpGetAllChildrenNumber, OpGetEphemerals:
		return &PathRequest{}, true
	case OpSetACL:
		return &SetACLRequest{}, true
	case OpMulti, OpMultiRead:
		return &MultiRequest{}, true
	case OpSetWatches:
		return &SetWatches{}, true
	case OpSetWatches2:
		return &SetWatches{V2: true}, true
	case OpAddWatch:
		return &AddWatchRequest{}, true
	case OpCheckWatches, OpRemoveWatches:
		return &WatchesRequest{}, true
	case OpAuth:
		return &AuthPacket{}, true
	case OpSASL:
		return &SASLToken{}, true
	case OpReconfig:
		return &ReconfigRequest{}, true
	}
	return nil, false
}

// NewResponse returns an empty record for the body of a successful reply to
// a request of type op, nil for a reply without a body, and false for an op
// this package does not know. A reply with a non-zero error has no body.
func NewResponse(op int32) (Record, bool) {
	switch op {
	case OpPing, OpCloseSession, OpDelete, OpSetWatches, OpSetWatches2,
		OpCheckWatches, OpRemoveWatches, OpAuth:
		return nil, true
	case OpCreate, OpSync:
		return &PathRequest{}, true
	case OpCreate2, OpCreateContainer, OpCreateTTL:
		return &Create2Response{}, true
	case OpExists, OpSetData, OpSetACL, OpCheck:
		return &StatResponse{}, true
	case OpGetData, OpReconfig:
		return &GetDataResponse{}, true
	case OpGetACL:
		return &GetACLResponse{}, true
	case OpGetChildren, OpGetEphemerals:
		return &StringsResponse{}, true
	case OpGetChildren2:
		return &GetChildren2Response{}, true
	case OpMulti, OpMultiRead:
		return &MultiResponse{}, true
	case OpGetAllChildrenNumber:
		return &IntResponse{}, true
	case OpAddWatch:
		return &ErrorResponse{}, true
	case OpWhoAmI:
		return &WhoAmIResponse{}, true
	case OpSASL:
		return &SASLToken{}, true
	}
	return nil, false
}
