package sim

// A call made of two engine calls (Sync, then Get), or one engine call
// made of two requests (Reattach: a sync round, then the session's
// revalidation at the leader, hooks.BetweenRequests), is woken by its first
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

// callerTurn makes the world's call running on this goroutine, if it is
// one, wait for its turn (hooks.BetweenRequests). Two Reattach calls whose
// sync rounds end in one step would otherwise send their revalidations in
// whichever order their goroutines run, and the seed's run would differ
// from one process to the next.
func (w *World) callerTurn() {
	if w.opts.Sabotage == SabotageNoTurn {
		return
	}
	if op, ok := w.callers.Load(goid()); ok {
		op.(*opRecord).waitTurn()
	}
}

// checkQueued runs on a client's goroutine each time a call queues a
// request for a peer (hooks.Queued). A call of the world may do so while
// the world waits for it after its start, or in its turn: any other
// request would be queued while other calls' goroutines run too, in
// whichever order they happen to run, and a seed would not replay. It is
// recorded, and the run fails (failOutOfTurn).
func (w *World) checkQueued() {
	v, ok := w.callers.Load(goid())
	if !ok {
		return
	}
	op := v.(*opRecord)
	if !op.launched.Load() || op.hasTurn() {
		return
	}
	w.hookMu.Lock()
	w.outOfTurn = append(w.outOfTurn, op.String())
	w.hookMu.Unlock()
}

// hasTurn reports whether the world gave the call its turn.
func (op *opRecord) hasTurn() bool { return isClosed(op.turn) }

// failOutOfTurn fails the run for each call checkQueued caught.
func (w *World) failOutOfTurn() {
	w.hookMu.Lock()
	caught := w.outOfTurn
	w.outOfTurn = nil
	w.hookMu.Unlock()
	for _, op := range caught {
		w.failf("client call %s queued a request for its peer outside its start and its turn: goroutine order, not the seed, placed it", op)
	}
}
