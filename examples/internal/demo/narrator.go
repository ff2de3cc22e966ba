// Package demo holds what the runnable demos under examples/ share: a
// narrator that prints aligned, timestamped lines (times relative to the
// start of the demo, column widths measured in terminal cells so that
// Chinese names line up), and a cluster of zk peers in one process
// (standalone, or 3 or 5 peers over TCP on 127.0.0.1) that reports its
// elections and can crash a peer.
//
// It uses only zk's public API. Every type is safe for concurrent use; a
// Cluster's peers are closed by Cluster.Close.
package demo

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Narrator prints a demo's output: paragraphs of narration and rows of
// aligned columns, each row stamped with the time since the demo started.
// Writes are serialized, so goroutines may print concurrently.
type Narrator struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	cols  []int // cell widths of the columns of Row, the last one free
}

// NewNarrator returns a narrator writing to w; its clock starts now. cols
// are the widths (in terminal cells) of Row's columns but the last.
func NewNarrator(w io.Writer, cols ...int) *Narrator {
	return &Narrator{w: w, start: time.Now(), cols: cols}
}

// Since returns the time since the narrator started.
func (n *Narrator) Since() time.Duration { return time.Since(n.start) }

// Stamp formats a time since the start as the rows show it.
func Stamp(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// Title prints a heading followed by a paragraph of narration.
func (n *Narrator) Title(title, text string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fmt.Fprintf(n.w, "%s\n%s\n", title, strings.Repeat("=", Width(title)))
	n.para(text)
}

// Para prints a paragraph of narration, wrapped at 78 cells, then an empty
// line.
func (n *Narrator) Para(text string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.para(text)
}

func (n *Narrator) para(text string) {
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && Width(line)+1+Width(word) > 76 {
			fmt.Fprintf(n.w, "  %s\n", line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		fmt.Fprintf(n.w, "  %s\n", line)
	}
	fmt.Fprintln(n.w)
}

// Header prints the column titles of the rows that follow.
func (n *Narrator) Header(cells ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fmt.Fprintf(n.w, "%9s  %s\n", "time", n.join(cells))
}

// Row prints one timestamped row of cells, aligned on the columns.
func (n *Narrator) Row(cells ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fmt.Fprintf(n.w, "%9s  %s\n", Stamp(n.Since()), n.join(cells))
}

// Event prints a timestamped line that spans the columns: something that
// happens to the demo rather than in it (a crash, a kill).
func (n *Narrator) Event(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fmt.Fprintf(n.w, "%9s  ── %s\n", Stamp(n.Since()), fmt.Sprintf(format, args...))
}

// Line prints text as it is (a blank line when empty).
func (n *Narrator) Line(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fmt.Fprintf(n.w, format+"\n", args...)
}

func (n *Narrator) join(cells []string) string {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteString("  ")
		}
		if i < len(n.cols) && i < len(cells)-1 {
			b.WriteString(Pad(c, n.cols[i]))
		} else {
			b.WriteString(c)
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// Pad returns s followed by spaces up to width terminal cells.
func Pad(s string, width int) string {
	if w := Width(s); w < width {
		return s + strings.Repeat(" ", width-w)
	}
	return s
}

// Width returns how many terminal cells s takes: East Asian wide
// characters (Chinese, Japanese, Korean, full-width forms) take two.
func Width(s string) int {
	n := 0
	for _, r := range s {
		n++
		if wide(r) {
			n++
		}
	}
	return n
}

func wide(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case r <= 0x115f, // Hangul Jamo
		r >= 0x2e80 && r <= 0xa4cf && r != 0x303f, // CJK radicals .. Yi
		r >= 0xac00 && r <= 0xd7a3,                // Hangul syllables
		r >= 0xf900 && r <= 0xfaff,                // CJK compatibility ideographs
		r >= 0xfe30 && r <= 0xfe4f,                // CJK compatibility forms
		r >= 0xff00 && r <= 0xff60,                // full-width forms
		r >= 0xffe0 && r <= 0xffe6,
		r >= 0x20000 && r <= 0x3fffd:
		return true
	}
	return false
}

// Token formats a fencing token (a zxid) as ZooKeeper prints zxids.
func Token(t int64) string { return fmt.Sprintf("0x%x", t) }

// Epoch returns the epoch part of a zxid: which leader's term of the
// ensemble wrote it.
func Epoch(zxid int64) int64 { return zxid >> 32 }
