package recipes

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/embedzk/zk"
)

// memberIDs lists a member's view, sorted.
func memberIDs(g *GroupMember) []string {
	return slices.Sorted(maps.Keys(g.Members()))
}

// TestGroupMember: members see each other and their payloads; a member
// that leaves, or whose session expires, drops out of the others' views;
// a member's node deleted by someone is made again.
func TestGroupMember(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var gs []*GroupMember
		var sessions []*zk.Session
		for _, id := range []string{"a", "b", "c"} {
			s, c := w.session()
			sessions = append(sessions, s)
			g := must[*GroupMember](t)(NewGroupMember(c, "/group", id, []byte("hello "+id)))
			if err := g.Start(w.ctx); err != nil {
				t.Fatal(err)
			}
			gs = append(gs, g)
		}
		synctest.Wait()
		for _, g := range gs {
			if got := memberIDs(g); !slices.Equal(got, []string{"a", "b", "c"}) {
				t.Fatalf("%s sees %v", g.ID(), got)
			}
		}
		if err := gs[1].SetPayload(w.ctx, []byte("changed")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := string(gs[0].Members()["b"]); got != "changed" {
			t.Fatalf("a sees b's payload %q", got)
		}
		admin := w.client()
		if err := admin.DeleteGuaranteed(w.ctx, "/group/b"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if kids := w.children("/group"); !slices.Equal(kids, []string{"a", "b", "c"}) {
			t.Fatalf("b's node not made again: %v", kids)
		}
		if got := string(gs[0].Members()["b"]); got != "changed" {
			t.Fatalf("b made again with %q", got)
		}
		if err := gs[2].Close(w.ctx); err != nil {
			t.Fatal(err)
		}
		w.expire(sessions[1])
		synctest.Wait()
		if got := memberIDs(gs[0]); !slices.Equal(got, []string{"a"}) {
			t.Fatalf("a sees %v after c left and b expired", got)
		}
		gs[0].Close(w.ctx)
		w.noChildren("/group", "nodes")
	})
}

// TestGroupMemberWaitsOutStaleNode: a member whose id is still held by an
// earlier session joins once that session's node goes.
func TestGroupMemberWaitsOutStaleNode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		old, oc := w.session()
		g0 := must[*GroupMember](t)(NewGroupMember(oc, "/group", "x", nil))
		if err := g0.Start(w.ctx); err != nil {
			t.Fatal(err)
		}
		g1 := must[*GroupMember](t)(NewGroupMember(w.client(), "/group", "x", []byte("new")))
		done := make(chan error, 1)
		go func() { done <- g1.Start(w.ctx) }()
		synctest.Wait()
		if len(done) != 0 {
			t.Fatal("joined while the id was held")
		}
		w.expire(old)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := string(g1.Members()["x"]); got != "new" {
			t.Fatalf("payload %q", got)
		}
		g1.Close(w.ctx)
	})
}

func intp(n int) *int { return &n }

// TestServiceDiscovery: registration, queries, a cache that follows
// registrations and removals, replacement of a registered id.
func TestServiceDiscovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		reg := must[*ServiceDiscovery](t)(NewServiceDiscovery(w.client(), "/services"))
		watcher := must[*ServiceDiscovery](t)(NewServiceDiscovery(w.client(), "/services"))
		cache := must[*ServiceCache](t)(watcher.NewServiceCache("api"))
		var heard atomic.Int64
		cache.AddListener(func() { heard.Add(1) })
		if err := cache.Start(w.ctx); err != nil {
			t.Fatal(err)
		}
		if got := cache.Instances(); len(got) != 0 {
			t.Fatalf("instances before any registration: %v", got)
		}
		spec := must[*URISpec](t)(ParseURISpec("{scheme}://{address}:{port}/v1"))
		a := must[ServiceInstance](t)(reg.Register(w.ctx, ServiceInstance{Name: "api", ID: "a", Address: "10.0.0.1", Port: intp(80),
			Payload: json.RawMessage(`{"zone":"eu"}`), URISpec: spec}))
		b := must[ServiceInstance](t)(reg.Register(w.ctx, ServiceInstance{Name: "api", Address: "10.0.0.2", Port: intp(81)}))
		must[ServiceInstance](t)(reg.Register(w.ctx, ServiceInstance{Name: "db", ID: "d1", ServiceType: ServiceStatic}))
		if b.ID == "" || b.RegistrationTimeUTC == 0 || b.ServiceType != ServiceDynamic {
			t.Fatalf("defaults not filled: %+v", b)
		}
		synctest.Wait()
		if got := cache.Instances(); len(got) != 2 || got[0].ID != "a" && got[1].ID != "a" {
			t.Fatalf("cache %+v", got)
		}
		if heard.Load() == 0 {
			t.Fatal("the listener heard nothing")
		}
		names := must[[]string](t)(watcher.QueryForNames(w.ctx))
		if !slices.Equal(names, []string{"api", "db"}) {
			t.Fatalf("names %v", names)
		}
		got, ok, err := watcher.QueryForInstance(w.ctx, "api", "a")
		if err != nil || !ok || got.Address != "10.0.0.1" || string(got.Payload) != `{"zone":"eu"}` {
			t.Fatalf("instance a: %+v %v %v", got, ok, err)
		}
		if uri := got.URISpec.Build(&got, nil); uri != "http://10.0.0.1:80/v1" {
			t.Fatalf("uri %s", uri)
		}
		a.Address = "10.0.0.9"
		if err := reg.Update(w.ctx, a); err != nil {
			t.Fatal(err)
		}
		again := must[ServiceInstance](t)(reg.Register(w.ctx, a)) // replaces the node
		if kids := w.children("/services/api"); len(kids) != 2 {
			t.Fatalf("nodes after registering a again: %v", kids)
		}
		if err := watcher.Unregister(w.ctx, b); err != nil { // not watcher's: left alone, as Curator's
			t.Fatal(err)
		}
		if kids := w.children("/services/api"); len(kids) != 2 {
			t.Fatalf("nodes after another discovery's unregister: %v", kids)
		}
		if err := reg.Unregister(w.ctx, b); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := cache.Instances(); len(got) != 1 || got[0].Address != again.Address {
			t.Fatalf("cache after unregister and update: %+v", got)
		}
		if err := reg.Close(w.ctx); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := cache.Instances(); len(got) != 0 {
			t.Fatalf("cache after close: %+v", got)
		}
		if kids := w.children("/services/db"); len(kids) != 0 {
			t.Fatalf("static instance left after close: %v", kids)
		}
		if _, err := reg.Register(w.ctx, a); !errors.Is(err, zk.ErrClosed) {
			t.Fatalf("register after close: %v", err)
		}
		watcher.Close(w.ctx)
	})
}

// TestServiceInstanceJSON: the JSON is Curator's shape, member for member
// as its default serializer writes it (no "enabled" unless disabled), and
// Curator's JSON (a payload with Jackson's @class, members this version
// does not know) reads back.
func TestServiceInstanceJSON(t *testing.T) {
	inst := ServiceInstance{Name: "n", ID: "i", Address: "h", Port: intp(1), Payload: json.RawMessage(`{"x":1}`),
		RegistrationTimeUTC: 5, URISpec: &URISpec{Parts: []URISpecPart{{Value: "a", Variable: true}, {Value: "/b"}}}}
	data := must[[]byte](t)(json.Marshal(inst))
	var shape map[string]any
	if err := json.Unmarshal(data, &shape); err != nil {
		t.Fatal(err)
	}
	want := []string{"address", "id", "name", "payload", "port", "registrationTimeUTC", "serviceType", "sslPort", "uriSpec"}
	if got := slices.Sorted(maps.Keys(shape)); !slices.Equal(got, want) {
		t.Fatalf("members %v, want %v", got, want)
	}
	if shape["sslPort"] != nil || shape["serviceType"] != "DYNAMIC" {
		t.Fatalf("json %s", data)
	}
	inst.Disabled = true
	var off ServiceInstance
	if err := json.Unmarshal(must[[]byte](t)(json.Marshal(inst)), &off); err != nil || !off.Disabled {
		t.Fatalf("a disabled instance read back as %+v, %v", off, err)
	}
	curator := `{"name":"test","id":"3d8b","address":"10.1.1.1","port":1234,"sslPort":null,` +
		`"payload":{"@class":"com.example.Details","description":"d"},"registrationTimeUTC":1600000000000,` +
		`"serviceType":"DYNAMIC","uriSpec":{"parts":[{"value":"scheme","variable":true},{"value":"://x","variable":false}]},"newField":7}`
	var got ServiceInstance
	if err := json.Unmarshal([]byte(curator), &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "test" || got.SSLPort != nil || *got.Port != 1234 || got.Disabled || got.URISpec.Build(&got, nil) != "http://x" {
		t.Fatalf("decoded %+v", got)
	}
	for _, bad := range []string{"{a", "a}", "{a{b}}", "{a"} {
		if _, err := ParseURISpec(bad); !errors.Is(err, zk.ErrBadArguments) {
			t.Errorf("spec %q: %v", bad, err)
		}
	}
	spec := must[*URISpec](t)(ParseURISpec("{scheme}://{ address }:{ssl-port}/[x]{[}y{]}"))
	if got := spec.Build(&ServiceInstance{Address: "h", SSLPort: intp(443)}, map[string]string{"x": "no"}); got != "https://h:443/[x]{y}" {
		t.Fatalf("built %s", got)
	}
}
