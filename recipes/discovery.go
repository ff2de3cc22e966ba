package recipes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/embedzk/zk"
)

// ServiceDiscovery is Curator x-discovery's ServiceDiscovery: instances
// of services registered as nodes <base>/<service name>/<instance id>
// holding the instance as JSON (Curator's shape: see ServiceInstance),
// queried directly or followed by a ServiceCache. Dynamic instances are
// ephemeral: they go with the session, and a new session needs a new
// Client, ServiceDiscovery and registration (Curator re-registers on its
// own when its client gets a new session).
type ServiceDiscovery struct {
	c    *Client
	base string

	mu         sync.Mutex
	registered map[string]ServiceInstance // by id
	nodes      map[string]string          // id -> node (sequential types)
	caches     map[*ServiceCache]bool
	closed     bool
}

// NewServiceDiscovery returns the discovery rooted at basePath.
func NewServiceDiscovery(c *Client, basePath string) (*ServiceDiscovery, error) {
	if c == nil {
		return nil, fmt.Errorf("recipes: service discovery %s: %w: nil Client", basePath, zk.ErrBadArguments)
	}
	if err := checkPath("service discovery", basePath); err != nil {
		return nil, err
	}
	return &ServiceDiscovery{c: c, base: basePath, registered: map[string]ServiceInstance{},
		nodes: map[string]string{}, caches: map[*ServiceCache]bool{}}, nil
}

func (d *ServiceDiscovery) errorf(what string, err error) error {
	return fmt.Errorf("recipes: service discovery %s: %s: %w", d.base, what, err)
}

func (d *ServiceDiscovery) usable(ctx context.Context) error {
	if err := usable(ctx, d.c); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return zk.ErrClosed
	}
	return nil
}

// Register registers inst and returns it as registered: a new UUID as its
// ID if it had none, the registration time if it had none, the type
// ServiceDynamic if it had none. A node already at its path (an earlier
// registration of the id) is replaced, as Curator does, so that watchers
// see it change.
func (d *ServiceDiscovery) Register(ctx context.Context, inst ServiceInstance) (ServiceInstance, error) {
	if err := d.usable(ctx); err != nil {
		return inst, d.errorf("register", err)
	}
	if inst.ID == "" {
		inst.ID = newMarker()[3:]
	}
	if inst.RegistrationTimeUTC == 0 {
		inst.RegistrationTimeUTC = time.Now().UnixMilli()
	}
	if inst.ServiceType == "" {
		inst.ServiceType = ServiceDynamic
	}
	if err := inst.check(); err != nil {
		return inst, d.errorf("register", err)
	}
	data, err := json.Marshal(inst)
	if err != nil {
		return inst, d.errorf("register", err)
	}
	node, err := d.create(ctx, inst, data)
	if err != nil {
		return inst, d.errorf("register "+inst.ID, err)
	}
	d.mu.Lock()
	d.registered[inst.ID] = inst
	d.nodes[inst.ID] = node
	d.mu.Unlock()
	return inst, nil
}

// create makes the instance's node: a try whose outcome is unknown is
// resolved by reading the node (or, for a sequential one, the nodes of
// the id) for the same data.
func (d *ServiceDiscovery) create(ctx context.Context, inst ServiceInstance, data []byte) (string, error) {
	mode, _ := inst.ServiceType.mode()
	path := d.base + "/" + inst.Name + "/" + inst.ID
	var b backoff
	unknown := false // an earlier try's outcome is unknown
	for {
		var got string
		err := d.c.write(func() (err error) {
			got, err = d.c.conn.Create(ctx, path, data, zk.WithMode(mode))
			return err
		})
		switch {
		case err == nil:
			return got, nil
		case errors.Is(err, zk.ErrNoNode):
			err = d.c.mkdir(ctx, parentPath(path))
		case errors.Is(err, zk.ErrNodeExists):
			if unknown {
				if found, ferr := d.find(ctx, path, data, false); ferr != nil || found != "" {
					return found, ferr
				}
			}
			err = d.c.write(func() error { return d.c.conn.Delete(ctx, path, -1) })
			if errors.Is(err, zk.ErrNoNode) {
				err = nil
			}
		case transient(err) && ctx.Err() == nil:
			unknown = true
			if err = d.c.pause(ctx, &b); err == nil {
				var found string
				if found, err = d.find(ctx, path, data, sequential(mode)); err == nil && found != "" {
					return found, nil
				}
			}
		}
		if err != nil {
			if err := d.c.retryable(ctx, err, &b); err != nil {
				if unknown && !sequential(mode) {
					d.c.settleDelete(path)
				}
				return "", err
			}
		}
	}
}

// find looks, once the session's earlier writes are settled, for the node
// at path (or path plus a sequence) holding data.
func (d *ServiceDiscovery) find(ctx context.Context, path string, data []byte, seq bool) (string, error) {
	if err := d.c.barrier(ctx, parentPath(path)); err != nil {
		return "", err
	}
	names := []string{path[strings.LastIndexByte(path, '/')+1:]}
	if seq {
		kids, _, err := d.c.conn.Children(ctx, parentPath(path))
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			return "", err
		}
		names = slices.DeleteFunc(kids, func(k string) bool { return !strings.HasPrefix(k, names[0]) })
	}
	for _, n := range names {
		node := parentPath(path) + "/" + n
		got, _, found, err := d.c.readNode(ctx, node)
		if err != nil {
			return "", err
		}
		if found && bytes.Equal(got, data) {
			return node, nil
		}
	}
	return "", nil
}

// Update writes inst (registered before, by its ID) to its node.
func (d *ServiceDiscovery) Update(ctx context.Context, inst ServiceInstance) error {
	if err := d.usable(ctx); err != nil {
		return d.errorf("update", err)
	}
	d.mu.Lock()
	old, ok := d.registered[inst.ID]
	node := d.nodes[inst.ID]
	d.mu.Unlock()
	if !ok || old.Name != inst.Name || (inst.ServiceType != "" && inst.ServiceType != old.ServiceType) {
		return d.errorf("update", fmt.Errorf("%w: instance %s/%s is not registered here", zk.ErrBadArguments, inst.Name, inst.ID))
	}
	inst.ServiceType = old.ServiceType
	if err := inst.check(); err != nil {
		return d.errorf("update", err)
	}
	data, err := json.Marshal(inst)
	if err != nil {
		return d.errorf("update", err)
	}
	var b backoff
	for {
		err := d.c.write(func() error {
			_, err := d.c.conn.Multi(ctx, zk.SetOp(node, data, -1))
			return err
		})
		if err == nil {
			d.mu.Lock()
			d.registered[inst.ID] = inst
			d.mu.Unlock()
			return nil
		}
		if err := d.c.retryable(ctx, err, &b); err != nil {
			return d.errorf("update "+inst.ID, err)
		}
	}
}

// Unregister removes the node of inst, an instance this ServiceDiscovery
// registered (guaranteed), and forgets it. An instance it did not register
// is left alone, as Curator's unregisterService leaves it: another process
// may be serving it.
func (d *ServiceDiscovery) Unregister(ctx context.Context, inst ServiceInstance) error {
	if err := usable(ctx, d.c); err != nil {
		return d.errorf("unregister", err)
	}
	d.mu.Lock()
	node, ok := d.nodes[inst.ID]
	delete(d.registered, inst.ID)
	delete(d.nodes, inst.ID)
	d.mu.Unlock()
	if !ok {
		return nil
	}
	if err := d.c.guaranteedDelete(ctx, node); err != nil {
		return d.errorf("unregister "+inst.ID, err)
	}
	return nil
}

// QueryForNames lists the services.
func (d *ServiceDiscovery) QueryForNames(ctx context.Context) ([]string, error) {
	if err := d.usable(ctx); err != nil {
		return nil, d.errorf("names", err)
	}
	kids, _, err := d.c.conn.Children(ctx, d.base)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, d.errorf("names", err)
	}
	slices.Sort(kids)
	return kids, nil
}

// QueryForInstances reads the instances of the service name, by id (nodes
// that do not decode are left out).
func (d *ServiceDiscovery) QueryForInstances(ctx context.Context, name string) ([]ServiceInstance, error) {
	if err := d.usable(ctx); err != nil {
		return nil, d.errorf("instances", err)
	}
	if pathProblem("/"+name) != "" || strings.Contains(name, "/") {
		return nil, d.errorf("instances", fmt.Errorf("%w: service name %q", zk.ErrInvalidPath, name))
	}
	dir := d.base + "/" + name
	kids, _, err := d.c.conn.Children(ctx, dir)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, d.errorf("instances", err)
	}
	ops := make([]zk.ReadOp, len(kids))
	for i, k := range kids {
		ops[i] = zk.GetDataOp(dir + "/" + k)
	}
	res, err := d.c.conn.MultiRead(ctx, ops...)
	if err != nil {
		return nil, d.errorf("instances", err)
	}
	nodes := map[string]ChildData{}
	for i, r := range res {
		if r.Err == nil {
			nodes[kids[i]] = ChildData{Data: r.Data, Stat: r.Stat}
		}
	}
	return decodeInstances(nodes), nil
}

// QueryForInstance reads one instance; false if it is not registered.
func (d *ServiceDiscovery) QueryForInstance(ctx context.Context, name, id string) (ServiceInstance, bool, error) {
	if err := d.usable(ctx); err != nil {
		return ServiceInstance{}, false, d.errorf("instance", err)
	}
	probe := ServiceInstance{Name: name, ID: id}
	if err := probe.check(); err != nil {
		return ServiceInstance{}, false, d.errorf("instance", err)
	}
	data, _, found, err := d.c.readNode(ctx, d.base+"/"+name+"/"+id)
	if err != nil || !found {
		return ServiceInstance{}, false, err
	}
	var inst ServiceInstance
	if err := json.Unmarshal(data, &inst); err != nil {
		return ServiceInstance{}, false, d.errorf("instance", fmt.Errorf("%w: %w", ErrCorrupt, err))
	}
	return inst, true, nil
}

// decodeInstances decodes a view's children, sorted by id.
func decodeInstances(nodes map[string]ChildData) []ServiceInstance {
	var out []ServiceInstance
	for _, n := range nodes {
		var inst ServiceInstance
		if json.Unmarshal(n.Data, &inst) == nil {
			out = append(out, inst)
		}
	}
	slices.SortFunc(out, func(a, b ServiceInstance) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Close closes the caches made from d and unregisters every instance it
// registered (guaranteed deletes). Closing twice does nothing.
func (d *ServiceDiscovery) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	caches := d.caches
	var nodes []string
	for _, n := range d.nodes {
		nodes = append(nodes, n)
	}
	d.registered, d.nodes, d.caches = map[string]ServiceInstance{}, map[string]string{}, nil
	d.mu.Unlock()
	for sc := range caches {
		sc.Close()
	}
	if ctx == nil {
		ctx = context.Background()
	}
	var errs []error
	for _, n := range sortedKeys(nodes) {
		if err := d.c.guaranteedDelete(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return d.errorf("close", errors.Join(errs...))
	}
	return nil
}
