package keystore

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

const pw = "zksecret" // testdata/gen.sh

func td(name string) string { return filepath.Join("testdata", name) }

// TestLoad: the server's key pair, made by keytool and openssl as
// testdata/gen.sh makes it, reads the same from every store: its chain (the
// server's certificate and the CA's) and the key of the first. A JKS store
// of type PKCS12 and the other way round read too, as in Java 17.
func TestLoad(t *testing.T) {
	for _, c := range []struct{ file, typ string }{
		{"server.jks", ""}, {"server.jks", "jks"}, {"server.jks", "PKCS12"},
		{"server.p12", ""}, {"server.p12", "PKCS12"}, {"server.p12", "JKS"},
		{"server-legacy.p12", ""}, {"server-cafirst.p12", ""}, {"server.pem", ""}, {"server.pem", "PEM"}, {"server-enc.pem", "pem"}, {"server-aes.pem", ""},
	} {
		password := pw
		if c.file == "server.pem" {
			password = "" // a plain key: ZooKeeper refuses a password for it
		}
		cert, err := Load(td(c.file), c.typ, password)
		if err != nil {
			t.Errorf("%s (%q): %v", c.file, c.typ, err)
			continue
		}
		if cert.Leaf.Subject.CommonName != "zk server" || len(cert.Certificate) != 2 {
			t.Errorf("%s (%q): leaf %q, chain of %d", c.file, c.typ, cert.Leaf.Subject, len(cert.Certificate))
		}
		ca, err := x509.ParseCertificate(cert.Certificate[1])
		if err != nil || ca.Subject.CommonName != "keystore test CA" || cert.Leaf.CheckSignatureFrom(ca) != nil {
			t.Errorf("%s (%q): second certificate %v, %v", c.file, c.typ, ca, err)
		}
	}
}

// TestLoadTrust: the CA is the one trusted certificate of every trust
// store, and the server's certificate verifies against it.
func TestLoadTrust(t *testing.T) {
	server, err := Load(td("server.pem"), "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ file, password string }{
		{"trust.jks", pw}, {"trust.p12", pw}, {"ca.pem", ""},
	} {
		pool, err := LoadTrust(td(c.file), "", c.password)
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		if _, err := server.Leaf.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
			t.Errorf("%s: the server's certificate: %v", c.file, err)
		}
	}
	// A key store holds no trusted entry: not a trust store.
	for _, f := range []string{"server.jks", "server.pem"} {
		if _, err := LoadTrust(td(f), "", pw); f == "server.jks" && err == nil {
			t.Errorf("%s as a trust store: no error", f)
		}
	}
}

// TestWrongPassword: a wrong password opens nothing, and says so.
func TestWrongPassword(t *testing.T) {
	for _, f := range []string{"server.jks", "server.p12", "server-legacy.p12", "server-enc.pem", "server-aes.pem"} {
		if _, err := Load(td(f), "", "wrong"); !errors.Is(err, ErrPassword) {
			t.Errorf("%s: %v, want ErrPassword", f, err)
		}
		if _, err := Load(td(f), "", ""); err == nil {
			t.Errorf("%s without a password: read", f)
		}
	}
	// Without a password ZooKeeper opens a store with "", which Java checks
	// a JKS store's digest with: refused too.
	for _, f := range []string{"trust.jks", "trust.p12"} {
		for _, p := range []string{"wrong", ""} {
			if _, err := LoadTrust(td(f), "", p); !errors.Is(err, ErrPassword) {
				t.Errorf("%s with %q: %v, want ErrPassword", f, p, err)
			}
		}
	}
	// A password for a plain PEM key: ZooKeeper takes the key to be
	// encrypted, and fails.
	if _, err := Load(td("server.pem"), "", pw); err == nil {
		t.Error("a plain PEM key with a password: read")
	}
}

// TestBrokenStores: every truncation of each store, and a JKS store with
// one byte changed, is an error, never a panic or a half-read store.
func TestBrokenStores(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"server.jks", "trust.jks", "server.p12", "server-enc.pem", "server-aes.pem"} {
		b, err := os.ReadFile(td(f))
		if err != nil {
			t.Fatal(err)
		}
		step := max(1, len(b)/200)
		for n := 0; n < len(b); n += step {
			if bytes.Equal(bytes.TrimSpace(b[:n]), bytes.TrimSpace(b)) {
				continue // a PEM file without its last line end is whole
			}
			p := filepath.Join(dir, f)
			if err := os.WriteFile(p, b[:n], 0o600); err != nil {
				t.Fatal(err)
			}
			_, err1 := Load(p, "", pw)
			_, err2 := LoadTrust(p, "", pw)
			if err1 == nil && err2 == nil {
				t.Errorf("%s cut at %d of %d: read", f, n, len(b))
			}
		}
	}
	b, _ := os.ReadFile(td("server.jks"))
	b[len(b)/2] ^= 1
	p := filepath.Join(dir, "tampered.jks")
	os.WriteFile(p, b, 0o600)
	if _, err := Load(p, "", pw); !errors.Is(err, ErrPassword) {
		t.Errorf("a JKS store with a byte changed: %v", err)
	}
}

func TestTypeOf(t *testing.T) {
	for _, c := range []struct{ typ, path, want string }{
		{"", "a/b.jks", TypeJKS}, {"", "b.p12", TypePKCS12}, {"", "b.pem", TypePEM},
		{"pkcs12", "b.jks", TypePKCS12}, {"Pem", "b.p12", TypePEM}, {"JKS", "b.crt", TypeJKS},
	} {
		if got, err := TypeOf(c.typ, c.path); got != c.want || err != nil {
			t.Errorf("TypeOf(%q, %q) = %q, %v; want %q", c.typ, c.path, got, err, c.want)
		}
	}
	for _, bad := range []string{"BCFKS", "JCEKS", "x"} {
		if _, err := TypeOf(bad, "a.jks"); err == nil {
			t.Errorf("TypeOf(%q): no error", bad)
		}
	}
	// As ZooKeeper's KeyStoreFileType: exact extensions, or the type set.
	for _, name := range []string{"b.crt", "b.P12", "b.pfx", "b.bcfks", "b"} {
		if _, err := TypeOf("", name); err == nil {
			t.Errorf("TypeOf of %q: no error", name)
		}
	}
}

func TestReadPassword(t *testing.T) {
	dir := t.TempDir()
	for in, want := range map[string]string{"pw\n": "pw", "pw": "pw", "pw\r\n": "pw\r", "pw\n\n": "pw\n", "": ""} {
		p := filepath.Join(dir, "pw")
		os.WriteFile(p, []byte(in), 0o600)
		if got, err := ReadPassword(p); got != want || err != nil {
			t.Errorf("ReadPassword of %q = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ReadPassword(filepath.Join(dir, "none")); err == nil {
		t.Error("a missing password file: no error")
	}
}

// FuzzJKS: any bytes given as a JKS store are read or refused, never a
// panic.
func FuzzJKS(f *testing.F) {
	for _, name := range []string{"server.jks", "trust.jks"} {
		b, err := os.ReadFile(td(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, pw)
		f.Add(b, "")
	}
	f.Fuzz(func(t *testing.T, b []byte, password string) {
		jksKeyPair(b, password)
		jksTrusted(b, password)
	})
}
