//go:build !linux

package main

import "errors"

// termState is a terminal's saved settings (none: no raw mode here).
type termState struct{}

// isTerminal reports false: line editing needs raw mode, written for
// Linux only; elsewhere the shell reads plain lines.
func isTerminal(int) bool { return false }

func makeRaw(int) (*termState, error) {
	return nil, errors.New("raw mode is not supported on this system")
}

func restore(int, *termState) error { return nil }
