// Package testbuf is a byte buffer that tests share between a writer
// goroutine (a logger, a child process's copy, a program's output) and
// the test that reads it. Only tests import it.
package testbuf
