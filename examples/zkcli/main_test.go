package main

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"strings"
	"testing"
)

// TestOneShot runs commands as "zkcli [flags] cmd args", as zkCli.sh
// -server host:port cmd args: one command, its output, its exit code (0,
// 1 for a failed command, 127 for an unknown one), on a kept data
// directory.
func TestOneShot(t *testing.T) {
	dir := t.TempDir()
	oneShot := func(args ...string) (string, int) {
		var out bytes.Buffer
		code := run(append([]string{"-data", dir}, args...), strings.NewReader(""), &out, &out)
		return normalize(out.String()), code
	}
	out, code := oneShot("create", "/kept", "v1")
	want := "Connecting to <server>\n\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\nCreated /kept\n"
	if code != 0 || out != want {
		t.Fatalf("create: exit %d, output:\n%s\nwant:\n%s", code, out, want)
	}
	if out, code = oneShot("get", "/kept"); code != 0 || !strings.HasSuffix(out, "path:null\nv1\n") {
		t.Errorf("get after a restart on the same directory: exit %d, output:\n%s", code, out)
	}
	if out, code = oneShot("get", "/missing"); code != 1 || !strings.HasSuffix(out, "Node does not exist: /missing\n") {
		t.Errorf("get /missing: exit %d, output:\n%s", code, out)
	}
	if out, code = oneShot("nosuch"); code != 127 || !strings.HasSuffix(out, "Command not found: Command not found nosuch\n") {
		t.Errorf("nosuch: exit %d, output:\n%s", code, out)
	}
}

// TestBadFlag: an unknown flag exits 2.
func TestBadFlag(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"-nosuchflag"}, strings.NewReader(""), &out, &out); code != 2 {
		t.Errorf("a bad flag: exit %d, want 2", code)
	}
}

// TestScriptWithoutEcho: without a terminal and without -echo, zkcli
// prints no prompt, as zkCli without JLine; a script ending without quit
// ends the session quietly, with the last command's exit code.
func TestScriptWithoutEcho(t *testing.T) {
	var out bytes.Buffer
	code := run([]string{"-data", t.TempDir()}, strings.NewReader("create /x 1\r\nget /x\nget /y"), &out, &out)
	got := normalize(out.String())
	want := "Connecting to <server>\nWelcome to ZooKeeper!\n<line editing>\n\nWATCHER::\n\n" +
		"WatchedEvent state:SyncConnected type:None path:null\nCreated /x\n1\nNode does not exist: /y\n"
	if code != 1 || got != want {
		t.Errorf("exit %d, output:\n%s\nwant:\n%s", code, got, want)
	}
}

// TestLineEditor drives the editor with keys: editing, history, Ctrl-C,
// completion and Ctrl-D.
func TestLineEditor(t *testing.T) {
	keys := "ls /x\x7fa\r" + // backspace
		"\x1b[A\x01get \x05\r" + // up, Ctrl-A, insert, Ctrl-E
		"abc\x03" + // Ctrl-C abandons
		"create /q\x1b[D\x1b[Dz\r" + // two lefts, insert
		"one two\x17three\r" + // Ctrl-W deletes a word
		"cre\t/p\t\r" + // completion: a command, then a path
		"\x04" // Ctrl-D on an empty line
	ed := newLineEditor(-1, strings.NewReader(keys), io.Discard)
	ed.complete = func(line string) []string {
		if !strings.Contains(line, " ") {
			return []string{"create"}
		}
		return []string{"/path"}
	}
	var got []string
	for {
		line, err := ed.readLine("> ")
		if errors.Is(err, errInterrupted) {
			got = append(got, "^C")
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		got = append(got, line)
	}
	want := []string{"ls /a", "get ls /a", "^C", "create z/q", "one three", "create /path "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", got, want)
	}
}

// TestLineEditorRandomKeys feeds the editor seeded random bytes (escape
// sequences, control keys, invalid UTF-8): it must never panic and must
// end at the end of its input.
func TestLineEditorRandomKeys(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	pieces := []string{"\x1b[A", "\x1b[B", "\x1b[C", "\x1b[D", "\x1b[3~", "\x1b[1~", "\x1b[4~", "\x1bO", "\x1b",
		"\t", "\x7f", "\x01", "\x05", "\x0b", "\x15", "\x17", "\x03", "\x04", "\r", "a", "/", " ", "é", "\xff"}
	var sb strings.Builder
	for i := 0; i < 20000; i++ {
		if rng.Intn(3) == 0 {
			sb.WriteByte(byte(rng.Intn(256)))
		} else {
			sb.WriteString(pieces[rng.Intn(len(pieces))])
		}
	}
	in := strings.NewReader(sb.String())
	ed := newLineEditor(-1, in, io.Discard)
	ed.complete = func(line string) []string { return []string{"/a", "/ab", "/abc/"} }
	lines := 0
	for {
		_, err := ed.readLine("> ")
		switch {
		case err == nil:
			lines++
		case errors.Is(err, errInterrupted):
		case errors.Is(err, io.EOF): // Ctrl-D on an empty line, or the end
			if ed.ended != nil { // the input's end, not a Ctrl-D
				if lines < 100 {
					t.Errorf("only %d lines read", lines)
				}
				return
			}
		default:
			t.Fatal(err)
		}
	}
}

// noQuotas is a session of a service without quotas (the Conn interface
// alone).
type noQuotas struct{ Conn }

// TestQuotasUnsupported: on a service without quotas, setquota, listquota
// and delquota say so (after checking their arguments, as zkCli does).
func TestQuotasUnsupported(t *testing.T) {
	b, err := openEmbedded(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sh := NewShell(ShellConfig{Backend: b, Out: &out, Err: &out})
	defer sh.Close() //nolint:errcheck // test cleanup
	if err := sh.Connect(); err != nil {
		t.Fatal(err)
	}
	sh.conn = noQuotas{sh.conn}
	sh.PrintEvents()
	out.Reset()
	for _, line := range []string{"setquota -n 5 /", "listquota /a", "delquota -n /a", "setquota /a"} {
		sh.ExecuteLine(line)
	}
	want := "quotas are not supported by this peer\n" +
		"quotas are not supported by this peer\n" +
		"quotas are not supported by this peer\n" +
		"org.apache.commons.cli.MissingOptionException: Missing required option: " +
		"[-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestOneShotHistory: one-shot history prints "0 - null", as zkCli's: a
// one-shot command is run without being numbered into the history.
func TestOneShotHistory(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"-data", t.TempDir(), "history"}, strings.NewReader(""), &out, &out); code != 0 ||
		!strings.HasSuffix(out.String(), "path:null\n0 - null\n") {
		t.Errorf("exit %d, output:\n%s", code, out.String())
	}
}
