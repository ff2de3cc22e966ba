package props

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestRead: the separators, comments, continuations, escapes and line
// ends of java.util.Properties, a repeated key's last value, trimmed.
func TestRead(t *testing.T) {
	text := "# comment\n! comment too\na=1\nb: 2\nc 3\r\nd\\ e = x\\ty\rf = one \\\n    two\ng=\\u0041\\=\na=last  \nempty\n"
	got, err := Read(strings.NewReader(text), "test")
	if err != nil {
		t.Fatal(err)
	}
	want := "[{6 a last} {4 b 2} {5 c 3} {6 d e x\ty} {7 f one two} {9 g A=} {11 empty }]"
	// a's first value was on line 3; it keeps its place, with the last value's line.
	want = strings.Replace(want, "{6 a last}", "{10 a last}", 1)
	if s := fmt.Sprint(got); s != want {
		t.Errorf("Read:\n got %s\nwant %s", s, want)
	}
}

// TestReadMalformed: a malformed \uXXXX is a *SyntaxError naming the file
// and the line.
func TestReadMalformed(t *testing.T) {
	_, err := Read(strings.NewReader("a=1\nb=\\u00zz\n"), "client.properties")
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 2 || !strings.HasPrefix(err.Error(), "client.properties line 2: ") {
		t.Errorf("err %v, want a SyntaxError at client.properties line 2", err)
	}
}
