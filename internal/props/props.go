package props

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Entry is one key of a file, with its last value and the line that value
// is on.
type Entry struct {
	Line       int
	Key, Value string
}

// SyntaxError is a line of the file that Properties' rules do not read.
type SyntaxError struct {
	Name string // the file's name, as Read was given it
	Line int
	Err  error
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s line %d: %v", e.Name, e.Line, e.Err) }

func (e *SyntaxError) Unwrap() error { return e.Err }

// Read reads the keys of a file of properties (name is what errors call
// it) in the order they first appear, each with its last value, key and
// value trimmed. A line it cannot read is a *SyntaxError; a failed read
// of r is returned wrapped.
func Read(r io.Reader, name string) ([]Entry, error) {
	var out []Entry
	at := map[string]int{} // key -> index in out
	add := func(line int, logical string) error {
		key, value, err := splitProp(logical)
		if err != nil {
			return &SyntaxError{Name: name, Line: line, Err: err}
		}
		e := Entry{Line: line, Key: strings.TrimSpace(key), Value: strings.TrimSpace(value)}
		if i, ok := at[e.Key]; ok {
			out[i] = e // the last value, in the first one's place
			return nil
		}
		at[e.Key] = len(out)
		out = append(out, e)
		return nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	sc.Split(scanPropLines)
	var logical strings.Builder
	start, line, continued := 0, 0, false
	for sc.Scan() {
		line++
		text := strings.TrimLeft(sc.Text(), " \t\f")
		if !continued {
			if text == "" || text[0] == '#' || text[0] == '!' {
				continue
			}
			start = line
		}
		if continued = trailingBackslashes(text)%2 == 1; continued {
			logical.WriteString(text[:len(text)-1])
			continue
		}
		logical.WriteString(text)
		err := add(start, logical.String())
		logical.Reset()
		if err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if continued { // a continuation at the end of the file
		if err := add(start, logical.String()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanPropLines splits lines as Properties does: at "\n", "\r\n" or a
// lone "\r".
func scanPropLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	for i, c := range data {
		switch {
		case c == '\n':
			return i + 1, data[:i], nil
		case c == '\r' && i+1 < len(data):
			if data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
			return i + 1, data[:i], nil
		case c == '\r' && atEOF:
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil // more data: a "\r" at the end may precede "\n"
}

func trailingBackslashes(s string) int {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n
}

// splitProp splits a logical line into its key and value, unescaped.
func splitProp(s string) (key, value string, err error) {
	end := len(s)
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == '=' || s[i] == ':' || s[i] == ' ' || s[i] == '\t' || s[i] == '\f' {
			end = i
			break
		}
	}
	rest := strings.TrimLeft(s[end:], " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	if key, err = unescapeProp(s[:end]); err != nil {
		return "", "", err
	}
	value, err = unescapeProp(rest)
	return key, value, err
}

// unescapeProp replaces a Properties file's backslash escapes.
func unescapeProp(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i == len(s)-1 {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", fmt.Errorf(`malformed \uxxxx escape in %q`, s)
			}
			r, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", fmt.Errorf(`malformed \uxxxx escape in %q`, s)
			}
			b.WriteRune(rune(r))
			i += 4
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}
