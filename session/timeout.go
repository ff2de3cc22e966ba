package session

// NegotiateTimeout clamps a requested session timeout (ms) into [min, max],
// as ZooKeeper's processConnectRequest does: first raised to min, then
// lowered to max (so max wins if min > max).
func NegotiateTimeout(requested, min, max int32) int32 {
	if requested < min {
		requested = min
	}
	if requested > max {
		requested = max
	}
	return requested
}

// DefaultTimeoutBounds returns ZooKeeper's default MinSessionTimeout and
// MaxSessionTimeout for a tick time (ms): 2 and 20 ticks.
func DefaultTimeoutBounds(tickTime int32) (min, max int32) {
	return 2 * tickTime, 20 * tickTime
}

// TimeoutTicks converts a timeout in ms into whole ticks of tickTime ms,
// rounding up so that a session is never given less than it negotiated. It
// returns at least 1 for a positive timeout, and 0 if tickTime <= 0 or
// timeoutMs <= 0.
func TimeoutTicks(timeoutMs, tickTime int32) int {
	if tickTime <= 0 || timeoutMs <= 0 {
		return 0
	}
	return int((int64(timeoutMs) + int64(tickTime) - 1) / int64(tickTime))
}
