package main

import (
	"sort"
	"strings"
)

// Complete returns the completions of line's last word: command names for
// the first word, and for a word starting with "/" the paths of existing
// nodes it begins (zkCli's JLine completer does the same).
func (sh *Shell) Complete(line string) []string {
	start := strings.LastIndexByte(line, ' ') + 1
	word := line[start:]
	if start == 0 {
		var out []string
		for _, name := range commandNames() {
			if strings.HasPrefix(name, word) {
				out = append(out, name)
			}
		}
		return out
	}
	if !strings.HasPrefix(word, "/") || !sh.alive() {
		return nil
	}
	dir, base := word[:strings.LastIndexByte(word, '/')], word[strings.LastIndexByte(word, '/')+1:]
	parent := dir
	if parent == "" {
		parent = "/"
	}
	ctx, cancel := sh.call()
	defer cancel()
	children, _, err := sh.conn.Children(ctx, parent, false)
	if err != nil {
		return nil
	}
	sort.Strings(children)
	var out []string
	for _, c := range children {
		if strings.HasPrefix(c, base) {
			out = append(out, dir+"/"+c)
		}
	}
	return out
}
