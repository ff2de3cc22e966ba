package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseZooCfgClientPort(t *testing.T) {
	cfg := "dataDir=/d\nclientPort=2181\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=ruok, srvr ,mntr\njute.maxbuffer=4096\nzk.clientIO=goroutines\n" +
		"DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n"
	got, ignored, err := ParseZooCfg(strings.NewReader(cfg), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ignored) != 0 {
		t.Fatalf("ignored %v", ignored)
	}
	if got.ClientPort != 2181 || got.ClientPortAddress != "127.0.0.1" || got.JuteMaxBuffer != 4096 || got.ClientIO != ClientIOGoroutines ||
		got.SuperDigest != "super:D/InIHSb7yEEbrWz8b9l71RjZJU=" {
		t.Fatalf("got %+v", got)
	}
	if diff := cmp.Diff([]string{"ruok", "srvr", "mntr"}, got.FourLetterWords); diff != "" {
		t.Fatal(diff)
	}
	for _, bad := range []Config{{DataDir: "d", ClientPort: 70000}, {DataDir: "d", ClientPort: -2}, {DataDir: "d", JuteMaxBuffer: -1}, {DataDir: "d", ClientIO: "epoll"}} {
		if err := bad.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: got %v", bad, err)
		}
	}
	if _, _, err := ParseZooCfg(strings.NewReader("clientPort=x\n"), nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("clientPort=x: got %v", err)
	}
	bad, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\nDigestAuthenticationProvider.superDigest=nocolon\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Validate(); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "SuperDigest") {
		t.Errorf("a super digest without a colon: got %v", err)
	}
}
