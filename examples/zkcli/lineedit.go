package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// errInterrupted is returned by readLine when the user presses Ctrl-C.
var errInterrupted = errors.New("interrupted")

// lineEditor reads lines from a terminal in raw mode, with the usual
// editing keys (arrows, Home/End, Backspace/Delete, Ctrl-A/E/B/F/K/U/W/L),
// history on Up/Down and completion on Tab. Ctrl-D on an empty line is the
// end of input; Ctrl-C abandons the line.
type lineEditor struct {
	fd       int
	in       *bufio.Reader
	out      io.Writer
	history  []string
	complete func(line string) []string // candidates for the line's last word
	// idle, if set, is asked every idlePoll while no key comes: what it
	// returns is printed above the line being edited.
	idle     func() string
	idlePoll time.Duration
	keys     chan keyRead // fed by one reader goroutine, started by the first readLine
	ended    error        // the error that ended the input

	// the line being edited
	prompt string
	buf    []rune
	pos    int
	hist   int // index in history while browsing; len(history) for the new line
	saved  []rune
}

// keyRead is one rune read from the terminal, or the error that ended it.
type keyRead struct {
	r   rune
	err error
}

// newLineEditor edits lines read from in, echoed on out; fd is the
// terminal put in raw mode while a line is read (-1: none, for tests).
func newLineEditor(fd int, in io.Reader, out io.Writer) *lineEditor {
	return &lineEditor{fd: fd, in: bufio.NewReader(in), out: out}
}

// readLine shows prompt and returns the line typed, io.EOF at Ctrl-D on an
// empty line, errInterrupted at Ctrl-C.
func (e *lineEditor) readLine(prompt string) (string, error) {
	if e.fd >= 0 {
		st, err := makeRaw(e.fd)
		if err != nil {
			return "", err
		}
		defer restore(e.fd, st) //nolint:errcheck // nothing better to do if the terminal is gone
	}
	e.prompt, e.buf, e.pos, e.hist, e.saved = prompt, nil, 0, len(e.history), nil
	e.redraw()
	if e.keys == nil {
		e.keys = make(chan keyRead)
		go e.readKeys()
	}
	var poll <-chan time.Time
	if e.idle != nil {
		tick := time.NewTicker(e.idlePoll)
		defer tick.Stop()
		poll = tick.C
	}
	for {
		if e.ended != nil {
			return "", e.ended
		}
		var k keyRead
		select {
		case k = <-e.keys:
			e.ended = k.err
		case <-poll:
			if s := e.idle(); s != "" {
				// Raw mode: a line feed does not return the carriage.
				fmt.Fprint(e.out, "\r\x1b[K", strings.ReplaceAll(s, "\n", "\r\n"))
				e.redraw()
			}
			continue
		}
		if k.err != nil {
			return "", k.err
		}
		done, err := e.key(k.r)
		if err != nil || done {
			fmt.Fprint(e.out, "\r\n")
			if err == nil {
				e.remember(string(e.buf))
			}
			return string(e.buf), err
		}
		e.redraw()
	}
}

// readKeys reads the terminal's runes for readLine until the input ends
// (its last send is that error). It reads ahead while a command runs, as
// the terminal itself buffers what is typed meanwhile; at the program's
// exit it may still wait for a key.
func (e *lineEditor) readKeys() {
	for {
		r, _, err := e.in.ReadRune()
		e.keys <- keyRead{r, err}
		if err != nil {
			return
		}
	}
}

// next is the next rune of an escape sequence (an error once the input
// ended).
func (e *lineEditor) next() (rune, error) {
	if e.ended != nil {
		return 0, e.ended
	}
	k := <-e.keys
	e.ended = k.err
	return k.r, k.err
}

// key applies one key; done when the line is complete.
func (e *lineEditor) key(r rune) (done bool, err error) {
	switch r {
	case '\r', '\n':
		return true, nil
	case 3: // Ctrl-C
		fmt.Fprint(e.out, "^C")
		return false, errInterrupted
	case 4: // Ctrl-D
		if len(e.buf) == 0 {
			return false, io.EOF
		}
		e.deleteAt(e.pos)
	case 1: // Ctrl-A
		e.pos = 0
	case 5: // Ctrl-E
		e.pos = len(e.buf)
	case 2: // Ctrl-B
		e.move(-1)
	case 6: // Ctrl-F
		e.move(1)
	case 11: // Ctrl-K
		e.buf = e.buf[:e.pos]
	case 21: // Ctrl-U
		e.buf = append([]rune(nil), e.buf[e.pos:]...)
		e.pos = 0
	case 23: // Ctrl-W
		e.deleteWord()
	case 12: // Ctrl-L
		fmt.Fprint(e.out, "\x1b[H\x1b[2J")
	case 127, 8: // Backspace
		if e.pos > 0 {
			e.deleteAt(e.pos - 1)
			e.pos--
		}
	case 9: // Tab
		e.completeWord()
	case 16: // Ctrl-P
		e.browse(-1)
	case 14: // Ctrl-N
		e.browse(1)
	case 27:
		e.escape()
	default:
		if r >= 32 && r != utf8.RuneError {
			e.insert(r)
		}
	}
	return false, nil
}

// escape reads the rest of an escape sequence (arrows, Home, End, Delete).
func (e *lineEditor) escape() {
	b, err := e.next()
	if err != nil || (b != '[' && b != 'O') {
		return
	}
	c, err := e.next()
	if err != nil {
		return
	}
	switch c {
	case 'A':
		e.browse(-1)
	case 'B':
		e.browse(1)
	case 'C':
		e.move(1)
	case 'D':
		e.move(-1)
	case 'H':
		e.pos = 0
	case 'F':
		e.pos = len(e.buf)
	case '1', '3', '4', '7', '8':
		t, err := e.next()
		if err != nil || t != '~' {
			return
		}
		switch c {
		case '1', '7':
			e.pos = 0
		case '4', '8':
			e.pos = len(e.buf)
		case '3':
			e.deleteAt(e.pos)
		}
	}
}

func (e *lineEditor) insert(r rune) {
	e.buf = append(e.buf, 0)
	copy(e.buf[e.pos+1:], e.buf[e.pos:])
	e.buf[e.pos] = r
	e.pos++
}

func (e *lineEditor) deleteAt(i int) {
	if i >= 0 && i < len(e.buf) {
		e.buf = append(e.buf[:i], e.buf[i+1:]...)
	}
}

func (e *lineEditor) move(d int) {
	e.pos = min(max(e.pos+d, 0), len(e.buf))
}

func (e *lineEditor) deleteWord() {
	i := e.pos
	for i > 0 && e.buf[i-1] == ' ' {
		i--
	}
	for i > 0 && e.buf[i-1] != ' ' {
		i--
	}
	e.buf = append(e.buf[:i], e.buf[e.pos:]...)
	e.pos = i
}

// browse moves in the history: -1 older, +1 newer.
func (e *lineEditor) browse(d int) {
	n := e.hist + d
	if n < 0 || n > len(e.history) {
		return
	}
	if e.hist == len(e.history) {
		e.saved = append([]rune(nil), e.buf...)
	}
	e.hist = n
	if n == len(e.history) {
		e.buf = append([]rune(nil), e.saved...)
	} else {
		e.buf = []rune(e.history[n])
	}
	e.pos = len(e.buf)
}

func (e *lineEditor) remember(line string) {
	if line == "" || (len(e.history) > 0 && e.history[len(e.history)-1] == line) {
		return
	}
	e.history = append(e.history, line)
}

// completeWord completes the word before the cursor: one candidate
// replaces it; several extend it to their common prefix and are listed.
func (e *lineEditor) completeWord() {
	if e.complete == nil || e.pos != len(e.buf) {
		return
	}
	line := string(e.buf)
	cands := e.complete(line)
	if len(cands) == 0 {
		return
	}
	start := len(line)
	for start > 0 && line[start-1] != ' ' {
		start--
	}
	word := line[start:]
	prefix := commonPrefix(cands)
	if len(cands) == 1 {
		prefix = cands[0]
		if prefix[len(prefix)-1] != '/' {
			prefix += " "
		}
	} else if prefix == word {
		fmt.Fprint(e.out, "\r\n")
		for _, c := range cands {
			fmt.Fprint(e.out, c, "  ")
		}
		fmt.Fprint(e.out, "\r\n")
	}
	e.buf = []rune(line[:start] + prefix)
	e.pos = len(e.buf)
}

func commonPrefix(s []string) string {
	p := s[0]
	for _, x := range s[1:] {
		for len(p) > 0 && (len(x) < len(p) || x[:len(p)] != p) {
			p = p[:len(p)-1]
		}
	}
	return p
}

// redraw rewrites the line and puts the cursor back in place.
func (e *lineEditor) redraw() {
	fmt.Fprint(e.out, "\r", e.prompt, string(e.buf), "\x1b[K")
	if back := len(e.buf) - e.pos; back > 0 {
		fmt.Fprintf(e.out, "\x1b[%dD", back)
	}
}
