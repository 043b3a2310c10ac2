package api

import (
	"errors"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-dev/sluice/engine"
)

// metrics are the server's Prometheus metrics.
type metrics struct {
	reg             *prometheus.Registry
	calls           *prometheus.CounterVec   // tenant, function, outcome
	callSeconds     *prometheus.HistogramVec // function, outcome
	quotaRejections *prometheus.CounterVec   // tenant, reason
	hostCalls       *prometheus.CounterVec   // kind, outcome
	requests        *prometheus.CounterVec   // method, route, status
	requestSeconds  *prometheus.HistogramVec // method, route
}

func newMetrics(reg *prometheus.Registry, e *engine.Engine) (*metrics, error) {
	m := &metrics{
		reg: reg,
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_calls_total", Help: "Connector calls by tenant, function and outcome (ok or the error code).",
		}, []string{"tenant", "function", "outcome"}),
		callSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sluice_call_duration_seconds", Help: "Connector call latency in the engine.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"function", "outcome"}),
		quotaRejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_quota_rejections_total", Help: "Calls refused by a tenant's concurrency or rate quota.",
		}, []string{"tenant", "reason"}),
		hostCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_host_calls_total", Help: "Host calls made by connectors, by kind and outcome.",
		}, []string{"kind", "outcome"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sluice_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	cs := []prometheus.Collector{m.calls, m.callSeconds, m.quotaRejections, m.hostCalls, m.requests, m.requestSeconds, &engineCollector{e: e}}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// The process and Go runtime collectors, unless the caller already
	// registered them.
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		var are prometheus.AlreadyRegisteredError
		if err := reg.Register(c); err != nil && !errors.As(err, &are) {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observeCall(tenant, fn string, res *engine.Result, err error) {
	outcome := "ok"
	var ee *engine.Error
	switch {
	case errors.As(err, &ee):
		outcome = string(ee.Code)
	case err != nil:
		outcome = "error"
	}
	m.calls.WithLabelValues(tenant, fn, outcome).Inc()
	if res == nil {
		return
	}
	m.callSeconds.WithLabelValues(fn, outcome).Observe(res.Duration.Seconds())
	for _, hc := range res.Trace {
		o := "ok"
		switch {
		case hc.Denied:
			o = "denied"
		case hc.Error != "":
			o = "error"
		}
		kind := hc.Kind
		if kind == "" {
			kind = "unknown"
		}
		m.hostCalls.WithLabelValues(kind, o).Inc()
	}
}

func (m *metrics) observeRequest(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.requestSeconds.WithLabelValues(method, route).Observe(d.Seconds())
}

// engineCollector reports the engine's pool sizes at scrape time.
type engineCollector struct{ e *engine.Engine }

var (
	descPools     = prometheus.NewDesc("sluice_engine_pools", "Instance pools in the engine.", nil, nil)
	descInstances = prometheus.NewDesc("sluice_engine_instances", "Engine instances by state.", []string{"state"}, nil)
	descModules   = prometheus.NewDesc("sluice_engine_modules", "Compiled modules in the engine.", nil, nil)
)

func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descPools
	ch <- descInstances
	ch <- descModules
}

func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.e.Stats()
	ch <- prometheus.MustNewConstMetric(descPools, prometheus.GaugeValue, float64(st.Pools))
	ch <- prometheus.MustNewConstMetric(descInstances, prometheus.GaugeValue, float64(st.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(descInstances, prometheus.GaugeValue, float64(st.Busy), "busy")
	ch <- prometheus.MustNewConstMetric(descModules, prometheus.GaugeValue, float64(st.Modules))
}

// GET /metrics
func (s *Server) serveMetrics(c echo.Context) error {
	promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(c.Response(), c.Request())
	return nil
}
