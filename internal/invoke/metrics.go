package invoke

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-dev/sluice/engine"
)

// metrics are the call metrics of a Runner, and the engine's pool sizes
// read at scrape time.
type metrics struct {
	engine          *engine.Engine
	calls           *prometheus.CounterVec   // tenant, function, outcome
	callSeconds     *prometheus.HistogramVec // function, outcome
	quotaRejections *prometheus.CounterVec   // tenant, reason
	hostCalls       *prometheus.CounterVec   // kind, outcome
	poolCalls       *prometheus.CounterVec   // pool, outcome

	pools, instances, modules, slots, memory, instanceWaits *prometheus.Desc
}

func newMetrics(e *engine.Engine) *metrics {
	return &metrics{
		engine: e,
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
		poolCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_quota_pool_calls_total", Help: "Calls past this node's share of a quota that asked the cluster's shared pool in the store, by pool (concurrency or rate) and outcome (taken, full or error).",
		}, []string{"pool", "outcome"}),
		pools:         prometheus.NewDesc("sluice_engine_pools", "Instance pools in the engine.", nil, nil),
		instances:     prometheus.NewDesc("sluice_engine_instances", "Engine instances by state.", []string{"state"}, nil),
		modules:       prometheus.NewDesc("sluice_engine_modules", "Compiled modules in the engine.", nil, nil),
		slots:         prometheus.NewDesc("sluice_engine_guest_slots", "Guest slots (calls running guest code at once) by state.", []string{"state"}, nil),
		memory:        prometheus.NewDesc("sluice_engine_memory_bytes", "Guest memory and tables held by instances, and the node's budget (0: none).", []string{"kind"}, nil),
		instanceWaits: prometheus.NewDesc("sluice_engine_instance_rate_waits_total", "Calls that waited for a new instance under the per-tenant instance rate, by outcome (waited, or timeout: none came before the deadline).", []string{"outcome"}, nil),
	}
}

func (m *metrics) vecs() []prometheus.Collector {
	return []prometheus.Collector{m.calls, m.callSeconds, m.quotaRejections, m.hostCalls, m.poolCalls}
}

func (m *metrics) describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.vecs() {
		c.Describe(ch)
	}
	ch <- m.pools
	ch <- m.instances
	ch <- m.modules
	ch <- m.slots
	ch <- m.memory
	ch <- m.instanceWaits
}

func (m *metrics) collect(ch chan<- prometheus.Metric) {
	for _, c := range m.vecs() {
		c.Collect(ch)
	}
	st := m.engine.Stats()
	ch <- prometheus.MustNewConstMetric(m.pools, prometheus.GaugeValue, float64(st.Pools))
	ch <- prometheus.MustNewConstMetric(m.instances, prometheus.GaugeValue, float64(st.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(m.instances, prometheus.GaugeValue, float64(st.Busy), "busy")
	ch <- prometheus.MustNewConstMetric(m.instances, prometheus.GaugeValue, float64(st.Closing), "closing")
	ch <- prometheus.MustNewConstMetric(m.modules, prometheus.GaugeValue, float64(st.Modules))
	ch <- prometheus.MustNewConstMetric(m.slots, prometheus.GaugeValue, float64(st.SlotsBusy), "busy")
	ch <- prometheus.MustNewConstMetric(m.slots, prometheus.GaugeValue, float64(st.Slots-st.SlotsBusy), "free")
	ch <- prometheus.MustNewConstMetric(m.slots, prometheus.GaugeValue, float64(st.SlotsWaiting), "waiting")
	ch <- prometheus.MustNewConstMetric(m.memory, prometheus.GaugeValue, float64(st.MemoryBytes), "held")
	ch <- prometheus.MustNewConstMetric(m.memory, prometheus.GaugeValue, float64(st.NodeMemoryBytes), "budget")
	ch <- prometheus.MustNewConstMetric(m.instanceWaits, prometheus.CounterValue, float64(st.InstanceWaits), "waited")
	ch <- prometheus.MustNewConstMetric(m.instanceWaits, prometheus.CounterValue, float64(st.InstanceTimeouts), "timeout")
}

func (m *metrics) observeRejection(tenant string, reason Reason) {
	m.quotaRejections.WithLabelValues(tenant, string(reason)).Inc()
}

func (m *metrics) observePool(pool Reason, outcome string) {
	m.poolCalls.WithLabelValues(string(pool), outcome).Inc()
}

// observeCall counts a call and returns its outcome (ok or the code).
func (m *metrics) observeCall(tenant, fn string, res *engine.Result, err error) string {
	outcome := "ok"
	var ee *engine.Error
	switch {
	case errors.As(err, &ee):
		outcome = string(ee.Code)
	case err != nil:
		outcome = "error"
	}
	m.calls.WithLabelValues(tenant, fn, outcome).Inc()
	if res != nil {
		m.callSeconds.WithLabelValues(fn, outcome).Observe(res.Duration.Seconds())
	}
	return outcome
}

// observeHostCalls counts the host calls of a call's trace (the engine
// hands it to Request.Observe, quiet calls included).
func (m *metrics) observeHostCalls(trace []engine.HostCall) {
	for _, hc := range trace {
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
