package zab

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// traceHandler puts the core's log lines into the harness's trace, so that
// a failure shows them next to the messages.
type traceHandler struct {
	h     *harness
	attrs []slog.Attr
}

func (t traceHandler) Enabled(context.Context, slog.Level) bool { return true }

func (t traceHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	for _, a := range t.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	t.h.logf("%s", b.String())
	return nil
}

func (t traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return traceHandler{h: t.h, attrs: append(append([]slog.Attr(nil), t.attrs...), as...)}
}

func (t traceHandler) WithGroup(string) slog.Handler { return t }
