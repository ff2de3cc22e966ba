package recipes

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/embedzk/zk"
)

// ServiceType is Curator x-discovery's ServiceType: how an instance's node
// lives.
type ServiceType string

// Service types, with Curator's names.
const (
	// ServiceDynamic: an ephemeral node, gone with the session (default).
	ServiceDynamic ServiceType = "DYNAMIC"
	// ServiceStatic and ServicePermanent: a persistent node.
	ServiceStatic    ServiceType = "STATIC"
	ServicePermanent ServiceType = "PERMANENT"
	// ServiceDynamicSequential: an ephemeral sequential node (id and a
	// sequence number).
	ServiceDynamicSequential ServiceType = "DYNAMIC_SEQUENTIAL"
)

// mode is the create mode of an instance of type t.
func (t ServiceType) mode() (zk.CreateMode, bool) {
	switch t {
	case ServiceDynamic, "":
		return zk.ModeEphemeral, true
	case ServiceDynamicSequential:
		return zk.ModeEphemeralSequential, true
	case ServiceStatic, ServicePermanent:
		return zk.ModePersistent, true
	}
	return 0, false
}

// ServiceInstance is one instance of a service, Curator x-discovery's
// ServiceInstance: stored as JSON in the node <base>/<name>/<id> in
// Curator's shape, so that Curator's discovery and this one see each
// other. Payload is the JSON of the instance's payload as it is; for a
// Java reader that deserializes a payload class, it carries Jackson's
// "@class" member. Port and SSLPort are optional (JSON null).
type ServiceInstance struct {
	Name                string
	ID                  string
	Address             string
	Port                *int
	SSLPort             *int
	Payload             json.RawMessage
	RegistrationTimeUTC int64 // Unix milliseconds
	ServiceType         ServiceType
	URISpec             *URISpec
	// Disabled is Curator's enabled=false (Curator 5's ServiceInstance);
	// JSON without "enabled" means enabled.
	Disabled bool
}

// instanceJSON is the JSON shape, member for member as Curator writes it.
// "enabled" is written only for a disabled instance: Curator 5.4's default
// serializer (compatibleSerializationMode) leaves it out, so that clients
// older than CURATOR-275 read the instance.
type instanceJSON struct {
	Name                string          `json:"name"`
	ID                  string          `json:"id"`
	Address             *string         `json:"address"`
	Port                *int            `json:"port"`
	SSLPort             *int            `json:"sslPort"`
	Payload             json.RawMessage `json:"payload"`
	RegistrationTimeUTC int64           `json:"registrationTimeUTC"`
	ServiceType         ServiceType     `json:"serviceType"`
	URISpec             *URISpec        `json:"uriSpec"`
	Enabled             *bool           `json:"enabled,omitempty"`
}

// MarshalJSON writes Curator's shape.
func (s ServiceInstance) MarshalJSON() ([]byte, error) {
	j := instanceJSON{Name: s.Name, ID: s.ID, Port: s.Port, SSLPort: s.SSLPort, Payload: s.Payload,
		RegistrationTimeUTC: s.RegistrationTimeUTC, ServiceType: s.ServiceType, URISpec: s.URISpec}
	if s.Address != "" {
		j.Address = &s.Address
	}
	if len(j.Payload) == 0 {
		j.Payload = json.RawMessage("null")
	}
	if j.ServiceType == "" {
		j.ServiceType = ServiceDynamic
	}
	if s.Disabled {
		enabled := false
		j.Enabled = &enabled
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads Curator's shape (unknown members are ignored, as
// Curator's serializer does).
func (s *ServiceInstance) UnmarshalJSON(data []byte) error {
	var j instanceJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*s = ServiceInstance{Name: j.Name, ID: j.ID, Port: j.Port, SSLPort: j.SSLPort, Payload: j.Payload,
		RegistrationTimeUTC: j.RegistrationTimeUTC, ServiceType: j.ServiceType, URISpec: j.URISpec,
		Disabled: j.Enabled != nil && !*j.Enabled}
	if j.Address != nil {
		s.Address = *j.Address
	}
	if string(s.Payload) == "null" {
		s.Payload = nil
	}
	return nil
}

// check validates an instance to register.
func (s *ServiceInstance) check() error {
	switch {
	case s.Name == "" || strings.Contains(s.Name, "/") || pathProblem("/"+s.Name) != "":
		return fmt.Errorf("%w: service name %q", zk.ErrInvalidPath, s.Name)
	case s.ID == "" || strings.Contains(s.ID, "/") || pathProblem("/"+s.ID) != "":
		return fmt.Errorf("%w: instance id %q", zk.ErrInvalidPath, s.ID)
	case len(s.Payload) > 0 && !json.Valid(s.Payload):
		return fmt.Errorf("%w: payload is not JSON", zk.ErrBadArguments)
	}
	if _, ok := s.ServiceType.mode(); !ok {
		return fmt.Errorf("%w: service type %q", zk.ErrBadArguments, s.ServiceType)
	}
	return nil
}

// URISpec is Curator's UriSpec: a template such as
// "{scheme}://{address}:{port}/api", as literal and variable parts.
type URISpec struct {
	Parts []URISpecPart `json:"parts"`
}

// URISpecPart is one part of a URISpec.
type URISpecPart struct {
	Value    string `json:"value"`
	Variable bool   `json:"variable"`
}

// ParseURISpec reads a template: "{name}" is a variable (Curator's
// fields: scheme, name, id, address, port, ssl-port,
// registration-time-utc, service-type, and "[" and "]" for braces).
func ParseURISpec(spec string) (*URISpec, error) {
	u := &URISpec{}
	for rest := spec; rest != ""; {
		open := strings.IndexAny(rest, "{}")
		switch {
		case open < 0:
			u.Parts = append(u.Parts, URISpecPart{Value: rest})
			rest = ""
		case rest[open] == '}':
			return nil, fmt.Errorf("recipes: uri spec %q: %w: } without {", spec, zk.ErrBadArguments)
		default:
			if open > 0 {
				u.Parts = append(u.Parts, URISpecPart{Value: rest[:open]})
			}
			end := strings.IndexAny(rest[open+1:], "{}")
			if end < 0 || rest[open+1+end] == '{' {
				return nil, fmt.Errorf("recipes: uri spec %q: %w: variable not closed", spec, zk.ErrBadArguments)
			}
			u.Parts = append(u.Parts, URISpecPart{Value: strings.TrimSpace(rest[open+1 : open+1+end]), Variable: true})
			rest = rest[open+2+end:]
		}
	}
	return u, nil
}

// Build fills the template with inst's fields and vars (which override
// them); a variable with no value is left out, as Curator does.
func (u *URISpec) Build(inst *ServiceInstance, vars map[string]string) string {
	local := map[string]string{"[": "{", "]": "}", "scheme": "http"}
	if inst != nil {
		local["name"], local["id"], local["address"] = inst.Name, inst.ID, inst.Address
		if inst.Port != nil {
			local["port"] = strconv.Itoa(*inst.Port)
		}
		if inst.SSLPort != nil {
			local["ssl-port"] = strconv.Itoa(*inst.SSLPort)
			local["scheme"] = "https"
		}
		local["registration-time-utc"] = strconv.FormatInt(inst.RegistrationTimeUTC, 10)
		local["service-type"] = strings.ToLower(string(inst.ServiceType))
	}
	for k, v := range vars {
		local[k] = v
	}
	var b strings.Builder
	for _, p := range u.Parts {
		if p.Variable {
			b.WriteString(local[p.Value])
		} else {
			b.WriteString(p.Value)
		}
	}
	return b.String()
}
