package engine

import "strings"

// opErr is the error of one operation on one path. It reads
// "zk: <op> <path>: <cause>" without repeating the "zk:" prefix or the path
// the cause already carries, and unwraps to the cause for errors.Is.
type opErr struct {
	op, path string
	err      error
}

func opError(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return &opErr{op: op, path: path, err: err}
}

func (e *opErr) Error() string {
	cause := strings.TrimPrefix(e.err.Error(), "zk: ")
	cause = strings.TrimSuffix(cause, ": "+e.path)
	return "zk: " + e.op + " " + e.path + ": " + cause
}

func (e *opErr) Unwrap() error { return e.err }
