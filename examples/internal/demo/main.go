package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// Main is the body of a demo's main: it parses args with parse (flag.ErrHelp
// after -h), then runs the demo within timeout and returns the process's
// exit code: 0 when the demo ran and its proof held, 1 when it failed or
// its proof did not hold, 2 for bad flags. Errors go to stderr, prefixed
// with name.
func Main[O any](name string, args []string, stderr io.Writer,
	parse func(args []string, stderr io.Writer) (O, error),
	timeout func(O) time.Duration,
	demo func(ctx context.Context, o O) (proven bool, err error)) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout(o))
	defer cancel()
	proven, err := demo(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	if !proven {
		return 1
	}
	return 0
}
