package zkerr

import (
	"errors"
	"fmt"
	"testing"
)

func TestCodeRoundTrip(t *testing.T) {
	for _, e := range table {
		wrapped := fmt.Errorf("op /a: %w", e.err)
		if got := CodeOf(wrapped); got != e.code {
			t.Errorf("CodeOf(%v) = %d, want %d", wrapped, got, e.code)
		}
		if got := FromCode(e.code); got != e.err {
			t.Errorf("FromCode(%d) = %v, want %v", e.code, got, e.err)
		}
	}
	if CodeOf(nil) != CodeOK || FromCode(CodeOK) != nil {
		t.Fatal("nil must map to CodeOK and back")
	}
	if CodeOf(errors.New("other")) != CodeSystemError {
		t.Fatal("an unknown error must map to CodeSystemError")
	}
	if FromCode(-9999) != ErrSystem {
		t.Fatal("an unknown code must map to ErrSystem")
	}
}

func TestSubErrorsMatchConnectionLoss(t *testing.T) {
	for _, err := range []error{ErrNotServing, ErrOutcomeUnknown} {
		if !errors.Is(fmt.Errorf("x: %w", err), ErrConnectionLoss) {
			t.Errorf("%v must match ErrConnectionLoss", err)
		}
		if errors.Is(ErrConnectionLoss, err) {
			t.Errorf("ErrConnectionLoss must not match %v", err)
		}
	}
}

// TestOwnCodesWinOverZooKeepers: an error that wraps one of zk's own
// sentinels with a ZooKeeper one (ErrInvalidPath travels as
// ErrBadArguments) keeps zk's code, wherever the sentinel sits in the table.
func TestOwnCodesWinOverZooKeepers(t *testing.T) {
	for _, e := range table {
		if e.code > -1000 {
			continue
		}
		err := fmt.Errorf("%w: %w", ErrBadArguments, e.err)
		if got := CodeOf(err); got != e.code {
			t.Errorf("CodeOf(%v) = %d, want %d", err, got, e.code)
		}
	}
}

func TestRequestTooLargeIsBadArguments(t *testing.T) {
	err := fmt.Errorf("create /a: %w", ErrRequestTooLarge)
	if !errors.Is(err, ErrBadArguments) || !errors.Is(err, ErrRequestTooLarge) {
		t.Fatalf("%v must match ErrRequestTooLarge and ErrBadArguments", err)
	}
	if errors.Is(ErrBadArguments, ErrRequestTooLarge) {
		t.Fatal("ErrBadArguments must not match ErrRequestTooLarge")
	}
	// znode's Apply wraps both; the code is the precise one.
	both := fmt.Errorf("%w: %w: 5 bytes > 4", ErrBadArguments, ErrDataTooLarge)
	if CodeOf(both) != CodeRequestTooLarge || !errors.Is(FromCode(CodeOf(both)), ErrBadArguments) {
		t.Fatalf("CodeOf(%v) = %d", both, CodeOf(both))
	}
}
