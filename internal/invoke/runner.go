package invoke

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/internal/calllog"
	"github.com/sluice-dev/sluice/store"
)

// Store is what a Runner reads of the control-plane store: the module
// SHA-256 of a version and a module's bytes; and the rate buckets it
// keeps there (the upload quota). A store.Store is one.
type Store interface {
	GetVersion(ctx context.Context, tenantID, connection string, version int) (store.Version, error)
	ModuleBytes(ctx context.Context, sha256 string) ([]byte, error)
	TakeQuotaToken(ctx context.Context, tenantID string, perMinute int, now time.Time) (ok bool, retryAfter time.Duration, err error)
}

// Config wires a Runner. Engine, Store and Hosts are required; the Runner
// uses them but does not close them (their owner does, after Wait).
type Config struct {
	Engine *engine.Engine
	Store  Store
	Hosts  *hostfuncs.Manager
	// Limits are the engine limits of every call; the tenant's quotas
	// override Timeout, MemoryBytes, MaxInstances and MaxHostCalls.
	Limits engine.Limits
	// Now is the clock of the rate quota; nil is time.Now.
	Now func() time.Time
	// Cluster, when set, divides the rate and concurrency quotas among
	// the nodes sharing the store: this node enforces its share, and
	// draws on the cluster's shared pool when the share is used up.
	// nil: this node enforces whole quotas (one node).
	Cluster Cluster
	// CallLog, when set, records every call that ran (the production
	// call log); user-flow calls then keep their logs and trace too.
	CallLog *calllog.Log
}

// Cluster divides the tenants' rate and concurrency quotas among the
// nodes sharing a store; an internal/cluster.Membership is one.
type Cluster interface {
	// Split returns the part of a quota of total this node enforces
	// alone and the size of the pool the nodes share through the store.
	Split(total int) (local, shared int)
	// AcquireSlot takes a slot of the tenant's shared concurrency pool
	// of capacity slots, held at most hold.
	AcquireSlot(ctx context.Context, tenant string, capacity int, hold time.Duration) (release func(), ok bool, err error)
	// TakeToken takes a call of the tenant's shared rate pool of
	// perMinute calls per minute.
	TakeToken(ctx context.Context, tenant string, perMinute int) (ok bool, retryAfter time.Duration, err error)
}

// Runner runs connector calls (see the package documentation). It is
// safe for concurrent use. Create it with New.
type Runner struct {
	cfg     Config
	quotas  *limiter
	metrics *metrics
	usage   *usage

	mu       sync.Mutex
	modules  map[string]*engine.Module // by sha256
	versions map[versionKey]string     // module sha256 of a connection's version

	// The JavaScript connectors (scripts.go): their runtime module and
	// the scripts by sha256.
	jsWasm    []byte
	jsRuntime *engine.Module
	scripts   map[string]*script

	inflight inflight

	observe func([]engine.HostCall) // metrics.observeHostCalls, bound once
}

// New returns a Runner over cfg.
func New(cfg Config) (*Runner, error) {
	if cfg.Engine == nil || cfg.Store == nil || cfg.Hosts == nil {
		return nil, errors.New("invoke: Config needs Engine, Store and Hosts")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Runner{
		cfg:      cfg,
		quotas:   newLimiter(),
		metrics:  newMetrics(cfg.Engine),
		usage:    newUsage(),
		modules:  map[string]*engine.Module{},
		versions: map[versionKey]string{},
		scripts:  map[string]*script{},
	}
	r.observe = r.metrics.observeHostCalls
	return r, nil
}

// Call is one connector call.
type Call struct {
	// Tenant owns the call; its Quotas bound it.
	Tenant store.Tenant
	// Connection is the configuration the call runs under (its
	// environment, host functions and active version).
	Connection store.Connection
	// Version is the version to run; 0 is the connection's active one.
	Version int
	// Function is one of the eight connector functions.
	Function string
	// Input is the function's JSON input, "context" included.
	Input []byte
	// Quiet: the caller shows neither the call's logs nor its host-call
	// trace (the user flows), so the engine keeps neither (the metrics
	// still count the host calls). The debug and test routes are not.
	// With a CallLog every call keeps them, for the log.
	Quiet bool
	// Source, Route and RequestID describe the call in the call log:
	// calllog.SourceUserFlow (Route the user-flow route, e.g. "login"),
	// SourceDebug, SourceTest or SourceMigration; and the HTTP request.
	Source    string
	Route     string
	RequestID string
}

// AdmitUpload admits a module upload, which runs the tenant's code (the
// probe): one of the tenant's uploadsPerMinute, counted in the store so
// that the quota holds on all nodes together, then one call of its
// concurrency and rate quotas, which the caller releases when done. It
// refuses with a *QuotaError.
func (r *Runner) AdmitUpload(t store.Tenant) (release func(), err error) {
	ctx, cancel := context.WithTimeout(context.Background(), admitTimeout)
	defer cancel()
	if n := t.Quotas.UploadsPerMinute; n > 0 {
		ok, wait, err := r.cfg.Store.TakeQuotaToken(ctx, uploadBucket(t.ID), n, r.cfg.Now())
		if err != nil {
			return nil, fmt.Errorf("upload quota: %w", err)
		}
		if !ok {
			r.metrics.observeRejection(t.ID, ReasonUploads)
			r.usage.rejection(t.ID, ReasonUploads, r.cfg.Now())
			return nil, &QuotaError{Reason: ReasonUploads, Limit: n, RetryAfter: wait}
		}
	}
	return r.admit(ctx, t)
}

// uploadBucket names a tenant's upload bucket among the store's rate
// buckets, beside the cluster's call buckets (named by the tenant id).
func uploadBucket(tenantID string) string { return "uploads/" + tenantID }

// admitTimeout bounds Admit's look at the cluster's shared pools.
const admitTimeout = 5 * time.Second

// admit takes one call of the tenant's quotas: whole on this node, or
// this node's share and the cluster's shared pools.
func (r *Runner) admit(ctx context.Context, t store.Tenant) (release func(), err error) {
	if r.cfg.Cluster == nil {
		release, qerr := r.quotas.acquire(t.ID, t.Quotas, r.cfg.Now())
		if qerr != nil {
			r.metrics.observeRejection(t.ID, qerr.Reason)
			r.usage.rejection(t.ID, qerr.Reason, r.cfg.Now())
			return nil, qerr
		}
		return release, nil
	}
	release, err = admitShare(ctx, r.quotas, r.cfg.Cluster, t, r.cfg.Now, r.metrics.observePool)
	var qerr *QuotaError
	if errors.As(err, &qerr) {
		r.metrics.observeRejection(t.ID, qerr.Reason)
		r.usage.rejection(t.ID, qerr.Reason, r.cfg.Now())
	}
	return release, err
}

// Call runs c under the tenant's quotas. The Result is non-nil whenever
// the function ran, failed or not: a connector's or the engine's failure
// is Result.Error, and err is nil. err reports what stopped the call
// before it ran: a *VersionError, a *QuotaError, or a store, module,
// host or engine error (engine.ErrClosed, the context's error).
func (r *Runner) Call(ctx context.Context, c Call) (*engine.Result, error) {
	conn, t := c.Connection, c.Tenant
	sum, err := r.versionSHA(ctx, conn, c.Version)
	if err != nil {
		return nil, err
	}
	mod, sc, err := r.module(ctx, t.ID, sum)
	if err != nil {
		return nil, err
	}
	release, err := r.admit(ctx, t)
	if err != nil {
		return nil, err
	}
	r.inflight.add()
	defer func() {
		release()
		r.inflight.done()
	}()
	hc := hostConnection(conn, t.Quotas)
	host, err := r.cfg.Hosts.Host(hc)
	if err != nil {
		return nil, err
	}
	req := engine.Request{
		Tenant:   t.ID,
		Pool:     poolName(conn),
		Function: c.Function,
		Input:    c.Input,
		Env:      hc.Env(conn.Env),
		Limits:   quotaLimits(r.cfg.Limits, t.Quotas),
		Host:     host,
		Quiet:    c.Quiet && r.cfg.CallLog == nil,
		Observe:  r.observe,
	}
	start := time.Now()
	var res *engine.Result
	if sc != nil {
		// A function the script lacks: answered without an instance.
		if res, _ = sc.Prepare(&req); res != nil {
			err = res.Error
		}
	}
	if res == nil {
		res, err = r.cfg.Engine.Call(ctx, mod, req)
	}
	if errors.Is(err, engine.ErrEvicted) {
		// Unused for a while, the engine released its compiled code:
		// load it again (the disk caches make that quick) and retry.
		if sc != nil {
			r.forgetRuntime()
		} else {
			r.forgetModule(sum)
		}
		if mod, _, err = r.module(ctx, t.ID, sum); err != nil {
			return nil, err
		}
		res, err = r.cfg.Engine.Call(ctx, mod, req)
	}
	r.usage.call(t.ID, c.Function, r.metrics.observeCall(t.ID, c.Function, res, err), r.cfg.Now())
	if res == nil {
		return nil, err
	}
	if r.cfg.CallLog != nil {
		version := c.Version
		if version == 0 {
			version = conn.ActiveVersion
		}
		r.cfg.CallLog.Record(&calllog.Entry{
			At: start, Conn: conn, Source: c.Source, Route: c.Route, Function: c.Function,
			RequestID: c.RequestID, Version: version, Result: res, InputPassword: inputPassword(c.Function, c.Input),
		})
	}
	return res, nil
}

// inputPassword is the "password" of the input of the functions that
// take one (login and validatePassword: "password"; createUser:
// "user.password"; updateUser: "updates.password"), or "".
// The call log redacts it from what it records.
func inputPassword(fn string, input []byte) string {
	switch fn {
	case "login", "validatePassword", "createUser", "updateUser":
	default:
		return ""
	}
	if !bytes.Contains(input, []byte(`"password"`)) {
		return ""
	}
	var in struct {
		Password string `json:"password"`
		User     struct {
			Password string `json:"password"`
		} `json:"user"`
		Updates struct {
			Password string `json:"password"`
		} `json:"updates"`
	}
	_ = json.Unmarshal(input, &in)
	return cmp.Or(in.Password, in.User.Password, in.Updates.Password)
}

// Info returns what the module of version (0: the active one) of conn
// exports, loading the module when it is not loaded.
func (r *Runner) Info(ctx context.Context, conn store.Connection, version int) (*engine.ModuleInfo, error) {
	sum, err := r.versionSHA(ctx, conn, version)
	if err != nil {
		return nil, err
	}
	mod, sc, err := r.module(ctx, conn.Tenant, sum)
	if err != nil {
		return nil, err
	}
	if sc != nil {
		info := sc.Info
		return &info, nil
	}
	return mod.Info(), nil
}

// Evict closes the idle engine instances and the host pools of conn, a
// configuration that changed or was deleted. Busy instances finish their
// call first; later calls of the new configuration start new ones.
func (r *Runner) Evict(ctx context.Context, conn store.Connection) {
	r.cfg.Engine.Evict(ctx, conn.Tenant, poolName(conn))
	r.cfg.Hosts.Evict(conn.Tenant, conn.Name)
}

// Wait waits for the calls in flight to finish, or for ctx to end. Stop
// what starts calls first (the HTTP server, jobs). Calls may start again
// after a Wait, whatever it returned.
func (r *Runner) Wait(ctx context.Context) error { return r.inflight.wait(ctx) }

// Describe implements prometheus.Collector: a Runner reports its calls
// (sluice_calls_total, sluice_call_duration_seconds,
// sluice_quota_rejections_total, sluice_host_calls_total,
// sluice_quota_pool_calls_total) and the
// engine's pools, instances and modules. Register it where /metrics is
// served.
func (r *Runner) Describe(ch chan<- *prometheus.Desc) { r.metrics.describe(ch) }

// Collect implements prometheus.Collector.
func (r *Runner) Collect(ch chan<- prometheus.Metric) { r.metrics.collect(ch) }

// poolName names the engine pool of one configuration of a connection,
// so a new configuration never reuses instances holding the old env.
func poolName(c store.Connection) string {
	return c.Name + "@" + strconv.Itoa(c.ConfigVersion)
}

// hostConnection is what host functions need of a connection of a
// tenant whose quotas are q: its configuration and the tenant's
// private-network grant.
func hostConnection(c store.Connection, q store.Quotas) hostfuncs.Connection {
	return hostfuncs.Connection{
		Tenant: c.Tenant, Name: c.Name, ConfigVersion: c.ConfigVersion, DBType: string(c.DBType),
		URI: c.Connection.URI, Host: c.Connection.Host, Port: c.Connection.Port,
		Username: c.Connection.Username, Password: c.Connection.Password, Database: c.Connection.Database,
		Allowlist:            c.EgressAllowlist,
		AllowPrivateNetworks: q.AllowPrivateNetworks,
		PrivateNetworks:      q.PrivateNetworks,
	}
}
