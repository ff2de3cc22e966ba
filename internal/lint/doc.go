// Package lint holds zk's structural rules as tests (run by go test ./...):
// the design's import graph, file and function size limits, and a doc.go in
// every public package. It has no code of its own.
package lint
