package lint

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var updateDoc = flag.Bool("update", false, "TestRootDocListsAPI: rewrite the generated listings in the root doc.go")

// The root package declares its API as aliases of internal/engine, and go
// doc shows an alias without the methods and fields of what it names. So
// every alias's comment in doc.go ends with a listing of those methods and
// fields, generated from the source they are declared in. The listing
// starts at a paragraph that is exactly one of these markers.
const (
	fieldsMarker  = "Fields:"
	methodsMarker = "Methods:"
)

// TestRootDocListsAPI keeps the listings true: it fails when a method or a
// field (or its doc) changed without doc.go following. Rewrite them with
//
//	go test ./internal/lint -run TestRootDocListsAPI -update
func TestRootDocListsAPI(t *testing.T) {
	root := repoRoot(t)
	path := filepath.Join(root, "doc.go")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := rewriteRootDoc(root, src)
	if err != nil {
		t.Fatal(err)
	}
	if *updateDoc {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(want, src) {
		t.Errorf("doc.go's API listings are stale (first difference at line %d); rewrite them with\n\tgo test ./internal/lint -run TestRootDocListsAPI -update", firstDiffLine(src, want))
	}
}

// TestRootDocListingBites: the check sees a method that is missing from a
// listing, and a listing is produced for every alias naming a type with
// methods or exported fields.
func TestRootDocListingBites(t *testing.T) {
	root := repoRoot(t)
	src, err := os.ReadFile(filepath.Join(root, "doc.go"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := rewriteRootDoc(root, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"func (s *Session) Create(", "func (e *Ensemble) NewSession(", "DataDir string", "Czxid int64"} {
		if !bytes.Contains(want, []byte(s)) {
			t.Errorf("the generated doc.go lacks %q", s)
		}
	}
	broken := bytes.Replace(want, []byte("func (s *Session) Create("), []byte("func (s *Session) Kreate("), 1)
	again, err := rewriteRootDoc(root, broken)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again, broken) {
		t.Error("a damaged listing was not noticed")
	}
}

func firstDiffLine(a, b []byte) int {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}

// rewriteRootDoc returns src (the root doc.go) with the listing of every
// alias's comment regenerated.
func rewriteRootDoc(root string, src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "doc.go", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	pkgs := &sourceIndex{root: root, fset: token.NewFileSet(), dirs: map[string]*pkgSource{}}
	type edit struct {
		from, to int
		text     string
	}
	var edits []edit
	for _, d := range f.Decls {
		gen, ok := d.(*ast.GenDecl)
		if !ok || gen.Tok != token.TYPE || len(gen.Specs) != 1 || gen.Doc == nil {
			continue
		}
		spec := gen.Specs[0].(*ast.TypeSpec)
		sel, ok := spec.Type.(*ast.SelectorExpr)
		if !spec.Assign.IsValid() || !ok {
			continue
		}
		listing, err := pkgs.listing("internal/engine", sel.Sel.Name)
		if err != nil {
			return nil, fmt.Errorf("doc.go: %s: %w", spec.Name.Name, err)
		}
		text := strings.TrimRight(handWritten(gen.Doc)+listing, "\n")
		edits = append(edits, edit{fset.Position(gen.Doc.Pos()).Offset, fset.Position(gen.Doc.End()).Offset, text})
	}
	out := append([]byte(nil), src...)
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i]
		out = append(out[:e.from:e.from], append([]byte(e.text), out[e.to:]...)...)
	}
	return out, nil
}

// handWritten returns the comment's lines before its listing (without the
// blank comment line that separates them), each ending in a newline.
func handWritten(doc *ast.CommentGroup) string {
	var lines []string
	for _, c := range doc.List {
		body := strings.TrimSpace(strings.TrimPrefix(c.Text, "//"))
		if body == fieldsMarker || body == methodsMarker {
			break
		}
		lines = append(lines, c.Text)
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "//" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n") + "\n"
}

// pkgSource is what the listings need of one package's non-test source.
type pkgSource struct {
	types   map[string]*ast.TypeSpec
	typeDoc map[string]*ast.CommentGroup
	methods map[string][]*ast.FuncDecl // by receiver type name
	imports map[string]string          // package name -> directory, from every file
}

type sourceIndex struct {
	root string
	fset *token.FileSet
	dirs map[string]*pkgSource
}

func (x *sourceIndex) load(dir string) (*pkgSource, error) {
	if p := x.dirs[dir]; p != nil {
		return p, nil
	}
	p := &pkgSource{types: map[string]*ast.TypeSpec{}, typeDoc: map[string]*ast.CommentGroup{},
		methods: map[string][]*ast.FuncDecl{}, imports: map[string]string{}}
	names, err := filepath.Glob(filepath.Join(x.root, dir, "*.go"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(x.fset, name, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		p.addFile(f)
	}
	x.dirs[dir] = p
	return p, nil
}

func (p *pkgSource) addFile(f *ast.File) {
	for _, imp := range f.Imports {
		path := strings.Trim(imp.Path.Value, `"`)
		if rel, ok := strings.CutPrefix(path, module+"/"); ok {
			p.imports[filepath.Base(rel)] = rel
		}
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			for _, s := range d.Specs {
				if ts, ok := s.(*ast.TypeSpec); ok {
					p.types[ts.Name.Name] = ts
					p.typeDoc[ts.Name.Name] = d.Doc
				}
			}
		case *ast.FuncDecl:
			if d.Recv == nil || !d.Name.IsExported() {
				continue
			}
			recv := d.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			if id, ok := recv.(*ast.Ident); ok {
				p.methods[id.Name] = append(p.methods[id.Name], d)
			}
		}
	}
}

// listing returns the generated part of the comment of an alias of dir's
// type name: its exported fields and methods, following aliases to the
// package that declares them; "" if it has neither.
func (x *sourceIndex) listing(dir, name string) (string, error) {
	p, err := x.load(dir)
	if err != nil {
		return "", err
	}
	ts := p.types[name]
	if ts == nil {
		return "", fmt.Errorf("no type %s in %s", name, dir)
	}
	if sel, ok := ts.Type.(*ast.SelectorExpr); ok && ts.Assign.IsValid() {
		pkg, _ := sel.X.(*ast.Ident)
		if pkg == nil || p.imports[pkg.Name] == "" {
			return "", fmt.Errorf("%s.%s: alias of an unknown package", dir, name)
		}
		return x.listing(p.imports[pkg.Name], sel.Sel.Name)
	}
	var b strings.Builder
	if st, ok := ts.Type.(*ast.StructType); ok {
		x.writeFields(&b, st)
	}
	x.writeMethods(&b, p.methods[name])
	return b.String(), nil
}

func (x *sourceIndex) writeFields(b *strings.Builder, st *ast.StructType) {
	first, prevDoc := true, false
	for _, fl := range st.Fields.List {
		var names []string
		for _, n := range fl.Names {
			if n.IsExported() {
				names = append(names, n.Name)
			}
		}
		if len(names) == 0 {
			continue
		}
		if first {
			b.WriteString("//\n// " + fieldsMarker + "\n//\n")
		} else if fl.Doc != nil || prevDoc {
			b.WriteString("//\n")
		}
		first = false
		prevDoc = fl.Doc != nil
		writeDocLines(b, fl.Doc)
		line := fmt.Sprintf("//\t%s %s", strings.Join(names, ", "), x.node(fl.Type))
		if fl.Comment != nil {
			line += " // " + strings.Join(strings.Fields(fl.Comment.Text()), " ")
		}
		b.WriteString(line + "\n")
	}
}

func (x *sourceIndex) writeMethods(b *strings.Builder, fns []*ast.FuncDecl) {
	fns = append([]*ast.FuncDecl(nil), fns...)
	sort.SliceStable(fns, func(i, j int) bool { return fns[i].Name.Name < fns[j].Name.Name })
	for i, fn := range fns {
		if i == 0 {
			b.WriteString("//\n// " + methodsMarker + "\n")
		}
		b.WriteString("//\n")
		writeDocLines(b, fn.Doc)
		decl := *fn
		decl.Doc, decl.Body = nil, nil
		fmt.Fprintf(b, "//\t%s\n", x.node(&decl))
	}
}

// writeDocLines writes a doc comment as comment lines inside the listing's
// code block.
func writeDocLines(b *strings.Builder, doc *ast.CommentGroup) {
	if doc == nil {
		return
	}
	for _, line := range strings.Split(strings.TrimRight(doc.Text(), "\n"), "\n") {
		if line == "" {
			b.WriteString("//\t//\n")
			continue
		}
		b.WriteString("//\t// " + strings.TrimLeft(line, "\t") + "\n")
	}
}

func (x *sourceIndex) node(n ast.Node) string {
	var buf bytes.Buffer
	if err := printer.Fprint(&buf, x.fset, n); err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return strings.Join(strings.Fields(buf.String()), " ")
}
