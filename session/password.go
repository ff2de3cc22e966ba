package session

import (
	"crypto/subtle"
	"fmt"
	"io"
)

// PasswordLen is the length of a session password, as ZooKeeper's.
const PasswordLen = 16

// NewPassword reads a fresh 16-byte session password from r
// (crypto/rand.Reader in production, a seeded source in tests).
func NewPassword(r io.Reader) ([]byte, error) {
	p := make([]byte, PasswordLen)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, fmt.Errorf("session: new password: %w", err)
	}
	return p, nil
}

// CheckPassword reports whether got equals want, in time that depends only
// on their lengths. An empty want matches nothing.
func CheckPassword(want, got []byte) bool {
	return len(want) > 0 && subtle.ConstantTimeCompare(want, got) == 1
}
