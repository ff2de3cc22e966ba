package lint

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readmeBlocks returns the Go code blocks of a Markdown text.
func readmeBlocks(md string) []string {
	var blocks []string
	var cur []string
	in := false
	for _, line := range strings.Split(md, "\n") {
		switch {
		case !in && strings.TrimSpace(line) == "```go":
			in, cur = true, nil
		case in && strings.TrimSpace(line) == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n")+"\n")
		case in:
			cur = append(cur, line)
		}
	}
	return blocks
}

// TestReadmePrograms builds and runs every Go block of the README: each is
// a whole program (package main), so what a newcomer copies compiles and
// works.
func TestReadmePrograms(t *testing.T) {
	root := repoRoot(t)
	md, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(string(md))
	if len(blocks) == 0 {
		t.Fatal("the README has no Go blocks")
	}
	// testdata is invisible to ./... patterns but inside the module, so the
	// programs import the working tree's zk.
	base := filepath.Join(root, "internal", "lint", "testdata")
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	work, err := os.MkdirTemp(base, "readme-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	var pkgs []string
	for i, src := range blocks {
		if !strings.HasPrefix(src, "package main\n") {
			t.Errorf("README Go block %d is not a whole program (package main)", i+1)
			continue
		}
		dir := filepath.Join(work, fmt.Sprintf("block%d", i+1))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, dir)
	}
	bin := filepath.Join(work, "bin")
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, pkgs...)...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the README's programs do not build: %v\n%s", err, out)
	}
	for i := range pkgs {
		runReadmeProgram(t, filepath.Join(bin, fmt.Sprintf("block%d", i+1)))
	}
}

func runReadmeProgram(t *testing.T, bin string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin).CombinedOutput()
	if err != nil {
		t.Errorf("%s: %v\n%s", filepath.Base(bin), err, out)
		return
	}
	t.Logf("%s:\n%s", filepath.Base(bin), out)
}

// TestReadmeBlocksParsed: the extraction sees blocks and only Go blocks.
func TestReadmeBlocksParsed(t *testing.T) {
	md := "text\n```go\npackage main\n```\n```sh\nls\n```\n```go\nx := 1\n```\n"
	got := readmeBlocks(md)
	if len(got) != 2 || got[0] != "package main\n" || got[1] != "x := 1\n" {
		t.Fatalf("blocks = %q", got)
	}
}
