package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/internal/userflow"
	"github.com/sluice-dev/sluice/store"
)

// Config wires a Server. Engine, Store and Hosts are required; the
// Server uses them but does not close them (their owner does, after
// Shutdown).
type Config struct {
	Engine *engine.Engine
	Store  store.Store
	Hosts  *hostfuncs.Manager

	// OperatorToken guards /v1/admin/*. Empty refuses every admin call.
	OperatorToken string
	// PublicIPs are the egress addresses tenants open their firewalls to
	// (GET /api/system/public-ips).
	PublicIPs []string
	// Logger receives the access log and errors; nil discards them.
	Logger *slog.Logger
	// Registry receives the server's metrics and is served at /metrics;
	// nil creates a new registry (never the global default).
	Registry *prometheus.Registry
	// MaxBodyBytes bounds every request body except module uploads (which
	// the tenant's maxModuleBytes quota bounds). Default 2 MiB.
	MaxBodyBytes int64
	// Limits are the engine limits of every call; the tenant's quotas
	// override Timeout, MemoryBytes, MaxInstances, MaxHostCalls and
	// CPUPerMinute (Limits).
	Limits engine.Limits
	// TrustProxy takes the client address from X-Forwarded-For / X-Real-IP
	// (only behind a proxy that sets them). Default: the peer address.
	TrustProxy bool
	// CacheTTL is how long a node may serve an API key's tenant (with its
	// quotas) and a connection's configuration from memory. Changes made
	// through this node apply at once; through another node, within the
	// TTL. Default 1s; negative turns caching off.
	CacheTTL time.Duration
}

// Server is the HTTP API. Create it with New.
type Server struct {
	cfg     Config
	echo    *echo.Echo
	log     *slog.Logger
	metrics *metrics
	limits  *limiter
	openapi []byte

	modMu    sync.Mutex
	modules  map[string]*engine.Module // by sha256
	versions map[versionKey]string     // module sha256 of a connection's version

	inflight sync.WaitGroup
	draining atomic.Bool

	// auth caches the tenant of an API key hash; conns the configuration
	// of a connection (see ttlCache).
	auth  *ttlCache[string, store.Tenant]
	conns *ttlCache[connKey, store.Connection]

	flows *userflow.Service
	// jobs run finish-migration jobs; Shutdown stops them (they resume
	// from their last page on the next start).
	jobs     sync.WaitGroup
	jobCtx   context.Context
	stopJobs context.CancelFunc
}

// connKey names a connection in the connection cache.
type connKey struct{ tenant, name string }

// New returns a Server over cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil || cfg.Store == nil || cfg.Hosts == nil {
		return nil, errors.New("api: Config needs Engine, Store and Hosts")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 2 << 20
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = time.Second
	}
	doc, err := openAPIJSON()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		limits:   newLimiter(),
		openapi:  doc,
		modules:  map[string]*engine.Module{},
		versions: map[versionKey]string{},
		flows:    userflow.New(userflow.Config{Store: cfg.Store, Logger: cfg.Logger}),
		auth:     newTTLCache[string, store.Tenant](cfg.CacheTTL),
		conns:    newTTLCache[connKey, store.Connection](cfg.CacheTTL),
	}
	s.jobCtx, s.stopJobs = context.WithCancel(context.Background())
	if s.metrics, err = newMetrics(cfg.Registry, cfg.Engine); err != nil {
		return nil, err
	}
	s.echo = s.router()
	return s, nil
}

// Handler returns the server's HTTP handler (the Echo instance).
func (s *Server) Handler() *echo.Echo { return s.echo }

// Shutdown marks the server not ready (/readyz answers 503) and waits for
// the connector calls in flight to finish, or for ctx to end. Stop the
// http.Server first so no new requests arrive; close the engine, host
// pools and store after.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.stopJobs()
	done := make(chan struct{})
	go func() {
		s.jobs.Wait()
		s.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// router builds the Echo instance and its routes.
func (s *Server) router() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	if s.cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	e.Use(s.requestID, s.accessLog, s.recoverPanic, s.bodyLimit)

	// Public.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.serveMetrics)
	e.GET("/openapi.json", s.serveOpenAPI)
	e.GET("/api/system/public-ips", s.publicIPs)

	// Operator.
	admin := e.Group("/v1/admin", s.operatorAuth)
	admin.POST("/tenants", s.createTenant)
	admin.GET("/tenants", s.listTenants)
	admin.GET("/tenants/:tenant/quotas", s.getQuotas)
	admin.PUT("/tenants/:tenant/quotas", s.putQuotas)

	// Console (tenant API key).
	conns := e.Group("/v1/connections", s.tenantAuth)
	conns.GET("", s.listConnections)
	conns.PUT("/:name", s.putConnection)
	conns.GET("/:name", s.getConnection)
	conns.DELETE("/:name", s.deleteConnection)
	conns.POST("/:name/versions", s.uploadVersion)
	conns.GET("/:name/versions", s.listVersions)
	conns.POST("/:name/versions/:version/activate", s.activateVersion)
	conns.POST("/:name/debug", s.debug)
	conns.POST("/:name/test", s.test)
	s.userFlowRoutes(conns)
	return e
}
