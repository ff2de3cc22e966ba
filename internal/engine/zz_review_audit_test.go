package engine

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestReviewAuditRefusedAfterClose: a closed session's write with an
// invalid path never reaches a server (ZooKeeper's client has no
// connection any more) but is audited as a failure.
func TestReviewAuditRefusedAfterClose(t *testing.T) {
	sink := &auditSink{}
	e := openTest(t, audited(testConfig(vfs.NewMem(), 1), sink))
	t.Cleanup(func() { e.Close() })
	ctx := testCtx(t)
	s := newSession(t, e)
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	sink.Take()
	_, err := s.Create(ctx, "bad", nil)
	t.Logf("create after close: %v", err)
	if got := sink.Take(); len(got) != 0 {
		t.Fatalf("audited after the session closed: %q", got)
	}
}
