package znode

import (
	"strings"
	"unicode/utf8"
)

// javaString returns b as Java's new String(b, UTF_8) sees it, so that zk
// hashes a credential exactly as ZooKeeper does: valid UTF-8 stays as it
// is, and each ill-formed sequence becomes U+FFFD by the rules of the JDK's
// UTF-8 decoder (java.lang.String.decodeUTF8_UTF16), which are not quite the
// Unicode Standard's "maximal subparts": an encoded surrogate (ED A0..BF xx)
// is one U+FFFD, ED A0 followed by a non-continuation byte is one, and a
// sequence cut short by the end of the input is one U+FFFD for all that is
// left of it.
func javaString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r != utf8.RuneError || size > 1 {
			sb.Write(b[:size])
			b = b[size:]
			continue
		}
		sb.WriteRune(utf8.RuneError)
		n := javaMalformed(b)
		if n == 0 {
			break // the JDK stops at a truncated sequence at the end
		}
		b = b[n:]
	}
	return sb.String()
}

// javaMalformed returns how many bytes the JDK's decoder replaces with one
// U+FFFD at the start of b, which holds no well-formed sequence there; 0
// means it replaces all of b (a sequence truncated by the end of input).
func javaMalformed(b []byte) int {
	b1 := b[0]
	switch {
	case b1 >= 0xC2 && b1 <= 0xDF:
		if len(b) < 2 {
			return 0
		}
		return 1 // the next byte is not a continuation
	case b1 >= 0xE0 && b1 <= 0xEF:
		return javaMalformed3(b)
	case b1 >= 0xF0 && b1 <= 0xF7:
		return javaMalformed4(b)
	}
	return 1 // a continuation byte, C0, C1 or F8..FF
}

func isContinuation(c byte) bool { return c&0xC0 == 0x80 }

// javaMalformed3 follows the JDK for a three-byte lead (E0..EF).
func javaMalformed3(b []byte) int {
	b1 := b[0]
	badSecond := func(b2 byte) bool { return (b1 == 0xE0 && b2&0xE0 == 0x80) || !isContinuation(b2) }
	if len(b) >= 3 {
		switch {
		case badSecond(b[1]):
			return 1
		case !isContinuation(b[2]):
			return 2
		}
		return 3 // well-formed shape: an encoded surrogate
	}
	if len(b) == 2 && badSecond(b[1]) {
		return 1
	}
	return 0
}

// javaMalformed4 follows the JDK for a four-byte lead (F0..F7).
func javaMalformed4(b []byte) int {
	b1 := b[0]
	badSecond := func(b2 byte) bool {
		return b1 > 0xF4 || (b1 == 0xF0 && (b2 < 0x90 || b2 > 0xBF)) ||
			(b1 == 0xF4 && b2&0xF0 != 0x80) || !isContinuation(b2)
	}
	if len(b) >= 4 {
		switch {
		case badSecond(b[1]):
			return 1
		case !isContinuation(b[2]):
			return 2
		}
		return 3 // the fourth byte is not a continuation
	}
	switch {
	case b1 > 0xF4 || (len(b) >= 2 && badSecond(b[1])):
		return 1
	case len(b) >= 3 && !isContinuation(b[2]):
		return 2
	}
	return 0
}
