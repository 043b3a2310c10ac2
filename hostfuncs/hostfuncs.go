package hostfuncs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs/egress"
	"github.com/sluice-dev/sluice/hostfuncs/internal/hostconn"
)

// Config is the operator's configuration of host functions. It is
// immutable once passed to New.
type Config struct {
	// Egress holds the platform's egress settings: the protected
	// addresses (the store's), the resolver, the dial timeout. What a
	// tenant may reach beyond the deny list is its grant (Connection).
	Egress egress.Config
	// MaxOpenConns bounds each connection's database pool. Default 4.
	MaxOpenConns int
	// IdleTimeout closes pools unused this long. Default 5 minutes.
	IdleTimeout time.Duration
	// QueryTimeout bounds one query or request, inside the call's
	// deadline. Default 10 seconds.
	QueryTimeout time.Duration
	// MaxRows bounds the rows or documents one query returns. Default 1000.
	MaxRows int
	// MaxResponseBytes bounds one host call's result. Default 1 MiB.
	MaxResponseBytes int
}

func (c Config) withDefaults() Config {
	if c.MaxOpenConns <= 0 {
		c.MaxOpenConns = 4
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 5 * time.Minute
	}
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = 10 * time.Second
	}
	if c.MaxRows <= 0 {
		c.MaxRows = 1000
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = 1 << 20
	}
	return c
}

// Connection is a tenant connection's configuration as host functions
// need it (docs/contract.md, "Connection configuration").
type Connection struct {
	Tenant string
	Name   string
	// ConfigVersion changes with every saved configuration; pools of an
	// older version are never reused.
	ConfigVersion int
	// DBType is postgres, mysql, mongodb or http.
	DBType string

	// URI, or the five fields.
	URI      string
	Host     string
	Port     int
	Username string
	Password string
	Database string

	// Allowlist is the connection's egress allowlist.
	Allowlist []string

	// AllowPrivateNetworks and PrivateNetworks are the tenant's
	// private-network grant (its quotas of those names; see
	// egress.ParseGrant): without it no private, loopback or other
	// deny-listed address is reached, and loopback, the node's own and
	// the store's addresses only when PrivateNetworks names them.
	AllowPrivateNetworks bool
	PrivateNetworks      []string
}

// Env returns the WASI environment a connector of this connection sees:
// DB_CONNECTION_URI, or DB_HOST, DB_PORT, DB_USERNAME, DB_PASSWORD and
// DB_DATABASE, plus the tenant's variables.
func (c Connection) Env(tenantEnv map[string]string) map[string]string {
	env := make(map[string]string, len(tenantEnv)+5)
	for k, v := range tenantEnv {
		env[k] = v
	}
	if c.URI != "" {
		env["DB_CONNECTION_URI"] = c.URI
	} else {
		env["DB_HOST"] = c.Host
		if c.Port != 0 {
			env["DB_PORT"] = strconv.Itoa(c.Port)
		}
		env["DB_USERNAME"] = c.Username
		env["DB_PASSWORD"] = c.Password
		env["DB_DATABASE"] = c.Database
	}
	return env
}

// Manager serves the host calls of every connection. It is safe for
// concurrent use; Close it when done.
type Manager struct {
	cfg   Config
	kinds map[string]hostconn.Kind

	mu      sync.Mutex
	targets map[string]*hostconn.Target
	// hosts holds the Host of each current target by the connection's
	// fields as given, so a call finds its Host without parsing the
	// grant or formatting a key. Entries go with their targets.
	hosts map[hostKey]*host

	stop chan struct{}
	done chan struct{}
}

// New returns a Manager.
func New(cfg Config) *Manager {
	cfg = cfg.withDefaults()
	m := &Manager{
		cfg:     cfg,
		kinds:   map[string]hostconn.Kind{},
		targets: map[string]*hostconn.Target{},
		hosts:   map[hostKey]*host{},
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	registerKinds(m)
	go m.janitor()
	return m
}

// Host returns the engine.Host of one connection. It fails when the
// connection's allowlist or the tenant's grant does not parse.
//
// Pools are keyed by the connection's configuration version and by the
// tenant's grant: a pool (and its open connections) never serves a call
// made under another grant.
func (m *Manager) Host(c Connection) (engine.Host, error) {
	hk := hostKey{tenant: c.Tenant, name: c.Name, version: c.ConfigVersion, private: c.AllowPrivateNetworks, networks: strings.Join(c.PrivateNetworks, "\x00")}
	m.mu.Lock()
	h, ok := m.hosts[hk]
	m.mu.Unlock()
	if ok {
		return h, nil
	}
	grant, err := egress.ParseGrant(c.AllowPrivateNetworks, c.PrivateNetworks)
	if err != nil {
		return nil, fmt.Errorf("hostfuncs: tenant %s: private networks: %w", c.Tenant, err)
	}
	prefix := fmt.Sprintf("%s/%s/", c.Tenant, c.Name)
	key := fmt.Sprintf("%s%d/%s", prefix, c.ConfigVersion, grant)
	m.mu.Lock()
	t, ok := m.targets[key]
	m.mu.Unlock()
	if !ok {
		allow, err := egress.ParseAllowlist(c.Allowlist)
		if err != nil {
			return nil, fmt.Errorf("hostfuncs: connection %s: %w", c.Name, err)
		}
		t = &hostconn.Target{
			Key:           key,
			Prefix:        prefix,
			Tenant:        c.Tenant,
			Connection:    c.Name,
			ConfigVersion: c.ConfigVersion,
			DBType:        c.DBType,
			URI:           c.URI,
			Host:          c.Host,
			Port:          c.Port,
			Username:      c.Username,
			Password:      c.Password,
			Database:      c.Database,
			Dialer:        egress.NewDialer(m.cfg.Egress, grant, allow, nil),
			MaxOpenConns:  m.cfg.MaxOpenConns,
			Limits: hostconn.Limits{
				QueryTimeout:     m.cfg.QueryTimeout,
				MaxRows:          m.cfg.MaxRows,
				MaxResponseBytes: m.cfg.MaxResponseBytes,
			},
		}
		m.mu.Lock()
		if prev, ok := m.targets[key]; ok {
			t = prev
		} else {
			// A new configuration or grant of the connection: forget the
			// older targets (their pools close when idle; calls still
			// holding one finish with it).
			for k, old := range m.targets {
				if old.Prefix == prefix {
					delete(m.targets, k)
				}
			}
			m.forgetHosts(c.Tenant, c.Name)
			m.targets[key] = t
		}
		m.mu.Unlock()
	}
	h = &host{m: m, t: t}
	m.mu.Lock()
	if m.targets[key] == t { // still current: later calls skip the parsing
		m.hosts[hk] = h
	}
	m.mu.Unlock()
	return h, nil
}

// hostKey is a Connection's fields that decide its target.
type hostKey struct {
	tenant, name string
	version      int
	private      bool
	networks     string // PrivateNetworks as given, NUL-separated
}

// forgetHosts drops the Hosts of a connection's targets; m.mu is held.
func (m *Manager) forgetHosts(tenant, name string) {
	for k := range m.hosts {
		if k.tenant == tenant && k.name == name {
			delete(m.hosts, k)
		}
	}
}

// Evict closes every pool of a connection, of any configuration version:
// call it when the configuration changed or the connection was deleted.
func (m *Manager) Evict(tenant, name string) {
	prefix := fmt.Sprintf("%s/%s/", tenant, name)
	m.mu.Lock()
	for key := range m.targets {
		if strings.HasPrefix(key, prefix) {
			delete(m.targets, key)
		}
	}
	m.forgetHosts(tenant, name)
	m.mu.Unlock()
	for _, k := range m.kinds {
		k.Evict(prefix)
	}
}

// Close closes every pool.
func (m *Manager) Close() error {
	select {
	case <-m.stop:
		return nil
	default:
	}
	close(m.stop)
	<-m.done
	var first error
	for _, k := range m.kinds {
		if err := k.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (m *Manager) janitor() {
	defer close(m.done)
	tick := time.NewTicker(m.cfg.IdleTimeout / 2)
	defer tick.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
			for _, k := range m.kinds {
				if ie, ok := k.(interface{ EvictIdle(time.Time) }); ok {
					ie.EvictIdle(time.Now().Add(-m.cfg.IdleTimeout))
				}
			}
		}
	}
}

// host is the engine.Host of one connection.
type host struct {
	m *Manager
	t *hostconn.Target
}

// HostCall dispatches op by its prefix ("sql.query" to the sql kind).
func (h *host) HostCall(ctx context.Context, op string, req []byte, tr *engine.HostCall) (json.RawMessage, error) {
	kind, _, _ := strings.Cut(op, ".")
	k, ok := h.m.kinds[kind]
	if !ok {
		return nil, engine.Errorf(engine.CodeNotImplemented, "unknown host call %q", op)
	}
	return k.Call(ctx, h.t, op, req, tr)
}
