package lint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/embedzk/zk"

// allowed lists, for each package of the module (by path relative to the
// module root, "." for the root), the module packages its non-test code
// may import. A prefix ending in "/" allows every package below it.
var allowed = map[string][]string{
	".":             {"internal/engine", "internal/wire"},
	"recipes":       {"."},
	"zab":           {"election", "internal/"},
	"zab/transport": {"internal/"},
	"election":      {"internal/"},
	"znode":         {"internal/"},
	"watch":         {"znode", "internal/"},
	"session":       {"internal/"},
	"wal":           {"internal/"},
	// The examples' ZooKeeper client speaks the client protocol with the
	// server's own jute records, and reads a client configuration file
	// (java.util.Properties) and its key and trust stores as the server
	// reads its own.
	"examples/internal/zkclient": {".", "internal/jute", "internal/zkerr", "internal/keystore", "internal/props"},
	// The benchmark's -trace sets Config.TestHooks.Trace: the peers' marks
	// of each step of a request, for its latency breakdown (PROFILE.md).
	"examples/bench": {".", "recipes", "examples/internal/", "internal/hooks"},
}

// internalAllowed applies to packages below internal/: they may import the
// lower layers, and the test harnesses (sim, proctest) everything.
var internalAllowed = map[string][]string{
	"internal/zkerr":     {},
	"internal/codec":     {},
	"internal/crashmem":  {},
	"internal/hooks":     {},
	"internal/lincheck":  {},
	"internal/entry":     {"znode", "internal/"},
	"internal/engine":    {"election", "session", "watch", "znode", "wal", "zab", "zab/transport", "internal/"},
	"internal/jute":      {"internal/zkerr"},
	"internal/wire":      {"internal/digestmd5", "internal/engine", "internal/jute", "internal/uring", "internal/zkerr", "watch", "znode"},
	"internal/uring":     {},
	"internal/digestmd5": {},
	"internal/keystore":  {},
	"internal/props":     {},
}

func repoRoot(t *testing.T) string {
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s", dir)
	}
	return dir
}

// goFiles returns the module's Go files (relative paths), testdata and
// hidden directories excluded.
func goFiles(t *testing.T, root string) []string {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && p != root && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(name, ".go") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func allowedFor(pkg string) ([]string, bool) {
	if a, ok := allowed[pkg]; ok {
		return a, true
	}
	if a, ok := internalAllowed[pkg]; ok {
		return a, true
	}
	switch {
	case strings.HasPrefix(pkg, "examples/"):
		return []string{".", "recipes", "examples/internal/"}, true
	case pkg == "internal/sim", pkg == "internal/proctest", pkg == "internal/lint",
		strings.HasPrefix(pkg, "zab/transport/"):
		return nil, false // harnesses and test-support packages: anything
	}
	return nil, false
}

func permits(list []string, dep string) bool {
	for _, a := range list {
		if a == dep || (strings.HasSuffix(a, "/") && strings.HasPrefix(dep, a)) {
			return true
		}
	}
	return false
}

// TestImportGraph holds the design's import graph for non-test code.
func TestImportGraph(t *testing.T) {
	root := repoRoot(t)
	fset := token.NewFileSet()
	for _, rel := range goFiles(t, root) {
		if strings.HasSuffix(rel, "_test.go") {
			continue
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		rules, checked := allowedFor(pkg)
		f, err := parser.ParseFile(fset, filepath.Join(root, rel), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			if path != module && !strings.HasPrefix(path, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
			if dep == "" {
				dep = "."
			}
			if !checked {
				if dep == "." && !strings.HasPrefix(pkg, "internal/") && !strings.HasPrefix(pkg, "examples/") {
					t.Errorf("%s imports the root package", rel)
				}
				continue
			}
			if !permits(rules, dep) {
				t.Errorf("%s (package %s) imports %s: not allowed by the design's import graph", rel, pkg, dep)
			}
		}
	}
}

// TestSizes: non-test files under ~800 lines, functions under ~80.
func TestSizes(t *testing.T) {
	root := repoRoot(t)
	fset := token.NewFileSet()
	for _, rel := range goFiles(t, root) {
		if strings.HasSuffix(rel, "_test.go") {
			continue
		}
		src, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		n := strings.Count(string(src), "\n")
		if rel == "doc.go" {
			// The root's doc.go is mostly the API's documentation: its
			// generated listings (TestRootDocListsAPI) are not code.
			n = codeLines(src)
		}
		if n > 800 {
			t.Errorf("%s has %d lines (limit 800): split it by concept", rel, n)
		}
		f, err := parser.ParseFile(fset, rel, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			lines := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
			if lines > 80 {
				t.Errorf("%s: func %s has %d lines (limit 80)", rel, fn.Name.Name, lines)
			}
		}
	}
}

// TestDocFiles: every package has a doc.go stating its contract.
func TestDocFiles(t *testing.T) {
	root := repoRoot(t)
	dirs := map[string]bool{}
	for _, rel := range goFiles(t, root) {
		if !strings.HasSuffix(rel, "_test.go") {
			dirs[filepath.Dir(rel)] = true
		}
	}
	for dir := range dirs {
		if strings.HasPrefix(dir, "examples") || strings.HasPrefix(dir, "internal") || strings.Contains(dir, "/internal/") {
			continue // commands and internal helpers document themselves in their package clause
		}
		if _, err := os.Stat(filepath.Join(root, dir, "doc.go")); err != nil {
			t.Errorf("package %s has no doc.go", dir)
		}
	}
}

// TestRulesBite checks the rules themselves: forbidden edges are refused.
func TestRulesBite(t *testing.T) {
	bad := []struct{ pkg, dep string }{
		{"zab", "znode"}, {"zab", "watch"}, {"znode", "wal"}, {"wal", "znode"},
		{"election", "zab"}, {"recipes", "znode"}, {"watch", "session"}, {"zab/transport", "zab"},
		{"internal/entry", "."}, {".", "zab"}, {"internal/engine", "."}, {"examples/tickets", "internal/engine"},
	}
	for _, b := range bad {
		rules, checked := allowedFor(b.pkg)
		if !checked || permits(rules, b.dep) {
			t.Errorf("%s -> %s should be forbidden", b.pkg, b.dep)
		}
	}
	good := []struct{ pkg, dep string }{
		{".", "internal/engine"}, {"internal/engine", "zab"}, {"internal/engine", "internal/zkerr"}, {"zab", "election"}, {"watch", "znode"}, {"recipes", "."},
		{"examples/tickets", "examples/internal/demo"},
	}
	for _, g := range good {
		if rules, _ := allowedFor(g.pkg); !permits(rules, g.dep) {
			t.Errorf("%s -> %s should be allowed", g.pkg, g.dep)
		}
	}
}

// codeLines counts the lines of src that are not comments.
func codeLines(src []byte) int {
	n := 0
	for _, line := range strings.Split(string(src), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "//") {
			n++
		}
	}
	return n
}
