package recipes

import (
	"context"
	"reflect"
	"testing"
)

// TestReviewWatchStatesLeak: Clients and caches closed on a long-lived
// session leave their WatchStates channels registered with the session.
func TestReviewWatchStatesLeak(t *testing.T) {
	w := newWorld(t)
	s, _ := w.session()
	for i := 0; i < 50; i++ {
		c, err := NewClient(s)
		if err != nil {
			t.Fatal(err)
		}
		c.Close(context.Background())
		cache, err := NewNodeCache(s, "/x", WithConnectionEvents())
		if err != nil {
			t.Fatal(err)
		}
		if err := cache.Start(w.ctx); err != nil {
			t.Fatal(err)
		}
		cache.Close()
	}
	n := reflect.ValueOf(s).Elem().FieldByName("more").Len()
	t.Logf("channels still registered after 50 Clients and 50 caches closed: %d", n)
	if n > 1 {
		t.Fatalf("leak: %d WatchStates channels registered", n)
	}
}
