package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-dev/sluice/internal/calllog"
	"github.com/sluice-dev/sluice/internal/console"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/internal/userflow"
	"github.com/sluice-dev/sluice/store"
)

// Config wires a Server. Runner and Store are required; the Server uses
// them but does not close them (their owner does, after Shutdown).
type Config struct {
	// Runner runs every connector call (debug, test, the user flows and
	// migration jobs); the server registers its metrics.
	Runner *invoke.Runner
	Store  store.Store

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
	// TrustProxy takes the client address from X-Forwarded-For / X-Real-IP
	// (only behind a proxy that sets them). Default: the peer address.
	TrustProxy bool
	// CacheTTL is how long a node may serve an API key's tenant (with its
	// quotas) and a connection's configuration from memory. Changes made
	// through this node apply at once; through another node, within the
	// TTL. Default 1s; negative turns caching off.
	CacheTTL time.Duration
	// MaxVersions caps the versions a connection keeps: an upload over it
	// prunes the oldest inactive versions (never the active one). Default
	// DefaultMaxVersions; negative keeps every version; 1 is refused (the
	// active version and the upload must both fit).
	MaxVersions int
	// CallLog is the production call log the Runner records into: its
	// metrics are served, and the live streams of this node wake when it
	// writes. nil: the call-log routes still read the store (calls other
	// nodes recorded), the streams only poll.
	CallLog *calllog.Log
	// StreamPoll is how often a live call-log stream asks the store for
	// new calls (those of other nodes). Default DefaultStreamPoll.
	StreamPoll time.Duration
	// StreamHeartbeat is the interval of a stream's keepalive comments.
	// Default DefaultStreamHeartbeat.
	StreamHeartbeat time.Duration
	// StreamsPerTenant caps the live call-log streams a tenant has open
	// on this node; one more is refused (429 quota_exceeded). Default
	// DefaultStreamsPerTenant.
	StreamsPerTenant int
	// StreamMaxLifetime ends a stream after this long (the client
	// resumes with Last-Event-ID). Default DefaultStreamMaxLifetime.
	StreamMaxLifetime time.Duration
	// StreamWriteTimeout bounds each write of a stream: a client that
	// stops reading ends its stream. Default DefaultStreamWriteTimeout.
	StreamWriteTimeout time.Duration
}

// DefaultMaxVersions is Config.MaxVersions when it is 0.
const DefaultMaxVersions = 50

// Server is the HTTP API. Create it with New.
type Server struct {
	cfg     Config
	echo    *echo.Echo
	log     *slog.Logger
	metrics *metrics
	openapi []byte

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

	// streams ends the live call-log streams (StopStreams).
	streams     context.Context
	stopStreams context.CancelFunc
	// streamCount counts the open streams of each tenant (openStream).
	streamMu    sync.Mutex
	streamCount map[string]int
}

// connKey names a connection in the connection cache.
type connKey struct{ tenant, name string }

// New returns a Server over cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Runner == nil || cfg.Store == nil {
		return nil, errors.New("api: Config needs Runner and Store")
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
	switch {
	case cfg.MaxVersions == 0:
		cfg.MaxVersions = DefaultMaxVersions
	case cfg.MaxVersions == 1:
		return nil, errors.New("api: Config.MaxVersions must be at least 2 (the active version and an upload), or negative for no cap")
	case cfg.MaxVersions < 0:
		cfg.MaxVersions = 0 // the store's "no cap"
	}
	if cfg.StreamPoll <= 0 {
		cfg.StreamPoll = DefaultStreamPoll
	}
	if cfg.StreamHeartbeat <= 0 {
		cfg.StreamHeartbeat = DefaultStreamHeartbeat
	}
	if cfg.StreamsPerTenant <= 0 {
		cfg.StreamsPerTenant = DefaultStreamsPerTenant
	}
	if cfg.StreamMaxLifetime <= 0 {
		cfg.StreamMaxLifetime = DefaultStreamMaxLifetime
	}
	if cfg.StreamWriteTimeout <= 0 {
		cfg.StreamWriteTimeout = DefaultStreamWriteTimeout
	}
	doc, err := openAPIJSON()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		openapi: doc,
		flows:   userflow.New(userflow.Config{Store: cfg.Store, Logger: cfg.Logger}),
		auth:    newTTLCache[string, store.Tenant](cfg.CacheTTL),
		conns:   newTTLCache[connKey, store.Connection](cfg.CacheTTL),

		streamCount: map[string]int{},
	}
	s.jobCtx, s.stopJobs = context.WithCancel(context.Background())
	s.streams, s.stopStreams = context.WithCancel(context.Background())
	collectors := []prometheus.Collector{cfg.Runner}
	if cfg.CallLog != nil {
		collectors = append(collectors, cfg.CallLog)
	}
	if s.metrics, err = newMetrics(cfg.Registry, collectors...); err != nil {
		return nil, err
	}
	s.echo = s.router()
	return s, nil
}

// Handler returns the server's HTTP handler (the Echo instance).
func (s *Server) Handler() *echo.Echo { return s.echo }

// StopStreams ends the live call-log streams: http.Server.Shutdown
// waits for every open request, so register it with
// http.Server.RegisterOnShutdown (Shutdown calls it too).
func (s *Server) StopStreams() { s.stopStreams() }

// Shutdown marks the server not ready (/readyz answers 503), ends the
// live streams, stops the migration jobs and waits for them and for the connector calls in
// flight to finish, or for ctx to end. Stop the http.Server first so no
// new requests arrive; close the engine, host pools and store after.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.stopStreams()
	s.stopJobs()
	done := make(chan struct{})
	go func() {
		s.jobs.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.cfg.Runner.Wait(ctx)
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

	// The web console (internal/console): / and /console lead to it.
	toConsole := func(c echo.Context) error { return c.Redirect(http.StatusFound, "/console/") }
	e.GET("/", toConsole)
	e.GET("/console", toConsole)
	files := echo.WrapHandler(http.StripPrefix("/console", console.Handler()))
	e.GET("/console/", files)
	e.GET("/console/*", files)

	// Operator.
	admin := e.Group("/v1/admin", s.operatorAuth)
	admin.POST("/tenants", s.createTenant)
	admin.GET("/tenants", s.listTenants)
	admin.GET("/tenants/:tenant/quotas", s.getQuotas)
	admin.PUT("/tenants/:tenant/quotas", s.putQuotas)
	admin.GET("/tenants/:tenant/usage", s.getUsage)

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
	conns.GET("/:name/audit", s.listAudit)
	conns.GET("/:name/calls", s.listCalls)
	conns.GET("/:name/calls/stream", s.streamCalls)
	s.userFlowRoutes(conns)
	return e
}
