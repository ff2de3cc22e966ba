package sim

// A call made of two engine calls (Sync, then Get) is woken by its first
// reply in the middle of a peer's step: the peer answers the Sync in one
// Ready and goes on with the step (persisting other clients' writes,
// maybe failing or crashing there), and the world then carries out what
// the step left (a crash: Close). Were the Get made at once, it would
// race the rest of the step and the crash, and see data, "notserving" or
// "closed" by goroutine timing. Instead the call waits between its two
// halves for its turn, which the world gives in settle, once every call
// has returned or parked: after the step and what followed it, at a point
// of the seed's schedule.

// waitTurn parks the call's goroutine until the world gives it its turn
// or closes (then the call's Get fails on its ended context). Once atTurn
// is set the goroutine does nothing else until then, so settle counts it
// as parked without looking at its stack.
func (op *opRecord) waitTurn() {
	op.atTurn.Store(true)
	select {
	case <-op.turn:
	case <-op.worldDone:
	}
}

// waitingTurn reports whether the call waits for its turn (on the world's
// goroutine).
func (op *opRecord) waitingTurn() bool { return op.atTurn.Load() && !op.turnGiven }

// giveNextTurn lets the first call (in start order) that waits for its
// turn go on, and reports whether there was one. The world calls it only
// when every running call is parked, so the set of waiting calls is the
// schedule's.
func (w *World) giveNextTurn() bool {
	for _, op := range w.outstanding {
		if op.waitingTurn() {
			op.turnGiven = true
			close(op.turn)
			return true
		}
	}
	return false
}
