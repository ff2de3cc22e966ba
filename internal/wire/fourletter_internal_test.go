package wire

import (
	"math"
	"testing"
)

// TestJavaDouble: mntr's values read as Java's Double.toString writes them.
func TestJavaDouble(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0.0", 5: "5.0", -2: "-2.0", 0.25: "0.25", 0.001: "0.001", 9999999: "9999999.0",
		1e7: "1.0E7", 4294967298: "4.294967298E9", 0.0001: "1.0E-4", -1.5e-5: "-1.5E-5",
		math.NaN(): "NaN", math.Inf(1): "Infinity", math.Inf(-1): "-Infinity",
	} {
		if got := javaDouble(v); got != want {
			t.Errorf("javaDouble(%v) = %q, want %q", v, got, want)
		}
	}
}
