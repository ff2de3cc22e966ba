package session

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

func TestNewPassword(t *testing.T) {
	src := func() io.Reader { return rand.NewChaCha8([32]byte{1, 2, 3}) }
	a, err := NewPassword(src())
	if err != nil || len(a) != PasswordLen {
		t.Fatalf("NewPassword = %x, %v", a, err)
	}
	b, _ := NewPassword(src())
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed gave different passwords")
	}
	r := src()
	c, _ := NewPassword(r)
	d, _ := NewPassword(r)
	if bytes.Equal(c, d) {
		t.Fatal("two passwords from one source are equal")
	}
	if _, err := NewPassword(bytes.NewReader(make([]byte, 15))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short reader: %v", err)
	}
}

func TestCheckPassword(t *testing.T) {
	want := []byte("0123456789abcdef")
	for _, tc := range []struct {
		want, got []byte
		ok        bool
	}{
		{want, []byte("0123456789abcdef"), true},
		{want, []byte("0123456789abcdeF"), false},
		{want, []byte("0123456789abcde"), false},
		{want, nil, false},
		{nil, nil, false},
		{[]byte{}, []byte{}, false},
	} {
		if got := CheckPassword(tc.want, tc.got); got != tc.ok {
			t.Errorf("CheckPassword(%q, %q) = %v", tc.want, tc.got, got)
		}
	}
}
