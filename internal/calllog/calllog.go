package calllog

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/store"
)

// Sources of calls.
const (
	SourceUserFlow  = "userflow"
	SourceDebug     = "debug"
	SourceTest      = "test"
	SourceMigration = "migration"
)

// Defaults of Config.
const (
	DefaultMaxCalls      = 1000
	DefaultMaxBytes      = 8 << 20
	DefaultQueueSize     = 10000
	DefaultBatchSize     = 200
	DefaultFlushInterval = 100 * time.Millisecond
	// DefaultMaxHostCalls is how many trace entries a record keeps (the
	// first ones); the rest are counted in "hostCallsOmitted".
	DefaultMaxHostCalls = 50
	// DefaultMaxLogBytes is how much log text a record keeps (the first
	// lines); the rest are counted in "logsOmitted".
	DefaultMaxLogBytes = 16 << 10
	// DefaultMaxQueueBytes bounds the memory of a node's queue.
	DefaultMaxQueueBytes = 64 << 20
	// maxMessage bounds a record's error message (cut after redacting).
	maxMessage = 4 << 10
)

// Redacted replaces a secret in recorded text.
const Redacted = "[redacted]"

// minSecret: shorter secrets are not searched for. Replacing a short
// secret would blank out common words and so tell the secret by where
// the gaps are ("the connector [redacted]ked" is a password "panic"),
// even in text the connector never meant as the secret.
const minSecret = 8

// Config configures a Log.
type Config struct {
	Store store.CallStore
	// MaxCalls and MaxBytes bound each connection's log; the oldest calls
	// are dropped first. 0 takes the default.
	MaxCalls int
	MaxBytes int64
	// QueueSize bounds the entries waiting to be written; when it is
	// full, entries are dropped and counted. 0 takes the default.
	QueueSize int
	// BatchSize and FlushInterval: the writer appends up to BatchSize
	// entries at once, and waits at most FlushInterval for a batch to fill.
	BatchSize     int
	FlushInterval time.Duration
	// MaxQueueBytes bounds the memory of the entries waiting (their
	// logs, trace and message); past it entries are dropped and counted
	// as when the queue is full. 0 takes the default.
	MaxQueueBytes int64
	// MaxHostCalls and MaxLogBytes bound one record (0: the defaults).
	MaxHostCalls int
	MaxLogBytes  int
	Logger       *slog.Logger
}

// Entry is one call, as the Runner hands it over. Result must not
// change after Record.
type Entry struct {
	At time.Time
	// Conn is the connection the call ran under; its password and secret
	// env values are redacted from the record.
	Conn      store.Connection
	Source    string
	Route     string
	Function  string
	RequestID string
	Version   int
	// Result is the call's; Record keeps what it records of it (bounded)
	// and not the Result itself (nor its output).
	Result *engine.Result
	// InputPassword, the input's "password", is redacted too (a
	// connector may log it). The input itself is never recorded.
	InputPassword string

	// What Record kept of Result, bounded; size estimates its memory.
	err                       *engine.Error
	message                   string
	logs                      []engine.LogEntry
	trace                     []engine.HostCall
	logsOmitted, traceOmitted int
	duration                  time.Duration
	memoryBytes               uint64
	size                      int64
}

// Record is one call as the API shows it (docs/contract.md, "Call log"),
// without its id, which the store assigns.
type Record struct {
	At               time.Time         `json:"at"`
	Source           string            `json:"source"`
	Route            string            `json:"route"`
	Function         string            `json:"function"`
	RequestID        string            `json:"requestId"`
	Version          int               `json:"version"`
	Outcome          string            `json:"outcome"`
	Code             string            `json:"code,omitempty"`
	Message          string            `json:"message,omitempty"`
	DurationMs       float64           `json:"durationMs"`
	MemoryBytes      uint64            `json:"memoryBytes"`
	Logs             []engine.LogEntry `json:"logs"`
	LogsOmitted      int               `json:"logsOmitted,omitempty"`
	HostCalls        []engine.HostCall `json:"hostCalls"`
	HostCallsOmitted int               `json:"hostCallsOmitted,omitempty"`
}

// Log records calls; see the package documentation. Create it with New
// and Close it after the last call.
type Log struct {
	cfg   Config
	queue chan *Entry
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once

	closed atomic.Bool
	// queuedBytes is the size of the entries in the queue.
	queuedBytes atomic.Int64

	mu sync.Mutex
	// redactors caches each connection's redactor (the writer's only).
	redactors map[connKey]connRedactor

	// waiting: per connection, a channel closed (and removed) after the
	// next batch with a call of the connection (Written).
	waiting map[connKey]chan struct{}

	recorded *prometheus.CounterVec // result: written, dropped reasons
	queued   prometheus.GaugeFunc
}

// New starts a Log's writer.
func New(cfg Config) *Log {
	if cfg.MaxCalls <= 0 {
		cfg.MaxCalls = DefaultMaxCalls
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.MaxHostCalls <= 0 {
		cfg.MaxHostCalls = DefaultMaxHostCalls
	}
	if cfg.MaxLogBytes <= 0 {
		cfg.MaxLogBytes = DefaultMaxLogBytes
	}
	if cfg.MaxQueueBytes <= 0 {
		cfg.MaxQueueBytes = DefaultMaxQueueBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Log{
		cfg:     cfg,
		queue:   make(chan *Entry, cfg.QueueSize),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		waiting: map[connKey]chan struct{}{},
		recorded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_call_log_records_total",
			Help: "Connector calls handed to the call log, by result: written, dropped_queue_full (the writer fell behind), dropped_store_error, skipped (the connection was deleted).",
		}, []string{"result"}),
	}
	l.queued = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sluice_call_log_queue_length", Help: "Calls waiting to be written to the call log.",
	}, func() float64 { return float64(len(l.queue)) })
	for _, r := range []string{"written", "dropped_queue_full", "dropped_store_error", "skipped"} {
		l.recorded.WithLabelValues(r)
	}
	go l.run()
	return l
}

// Bounds are the per-connection bounds the log keeps.
func (l *Log) Bounds() store.CallBounds {
	return store.CallBounds{MaxCalls: l.cfg.MaxCalls, MaxBytes: l.cfg.MaxBytes}
}

// Record queues e for writing; it never blocks. When the queue is full
// (or the Log closed) e is dropped and counted.
//
// Record keeps of e.Result only what the record shows, bounded, and
// clears e.Result; the writer does the rest.
func (l *Log) Record(e *Entry) {
	if l.closed.Load() {
		l.recorded.WithLabelValues("dropped_queue_full").Inc()
		return
	}
	l.prepare(e)
	if l.queuedBytes.Add(e.size) > l.cfg.MaxQueueBytes {
		l.queuedBytes.Add(-e.size)
		l.recorded.WithLabelValues("dropped_queue_full").Inc()
		return
	}
	select {
	case l.queue <- e:
	default:
		l.queuedBytes.Add(-e.size)
		l.recorded.WithLabelValues("dropped_queue_full").Inc()
	}
}

// entryCost is what an entry costs beside its texts.
const entryCost = 512

// prepare bounds what e records of its Result: the first MaxLogBytes of
// logs, the first MaxHostCalls host calls, maxMessage of the error's
// message. The kept slices are the Result's own when nothing was left
// out (nobody changes them), copies when something was.
func (l *Log) prepare(e *Entry) {
	res := e.Result
	e.Result = nil
	e.err, e.duration, e.memoryBytes = res.Error, res.Duration, res.MemoryBytes
	e.size = entryCost
	if res.Error != nil {
		// Cut to maxMessage after redacting (record); here to twice
		// that, so that a secret across maxMessage is whole.
		e.message = res.Error.Message
		if len(e.message) > 2*maxMessage {
			e.message = strings.Clone(e.message[:2*maxMessage])
		}
		e.size += int64(len(e.message))
	}
	left := l.cfg.MaxLogBytes
	e.logs = res.Logs
	for i, lg := range res.Logs {
		if len(lg.Message) > left {
			e.logs, e.logsOmitted = slices.Clone(res.Logs[:i]), len(res.Logs)-i
			break
		}
		left -= len(lg.Message)
		e.size += int64(len(lg.Message)) + 48
	}
	e.trace = res.Trace
	if len(e.trace) > l.cfg.MaxHostCalls {
		e.trace, e.traceOmitted = slices.Clone(res.Trace[:l.cfg.MaxHostCalls]), len(res.Trace)-l.cfg.MaxHostCalls
	}
	for _, hc := range e.trace {
		e.size += int64(len(hc.Target)+len(hc.Statement)+len(hc.Error)) + 96
	}
}

// connKey names a connection.
type connKey struct{ tenant, conn string }

// Written returns a channel closed when the next batch with a call of
// the connection was written: the live streams of the connection on
// this node wake on it (other nodes' calls they poll), not those of
// other connections.
func (l *Log) Written(tenant, conn string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := connKey{tenant, conn}
	ch, ok := l.waiting[k]
	if !ok {
		ch = make(chan struct{})
		l.waiting[k] = ch
	}
	return ch
}

// Close writes what is queued and stops the writer, or gives up when
// ctx ends. Record after Close drops.
func (l *Log) Close(ctx context.Context) error {
	l.closed.Store(true)
	l.once.Do(func() { close(l.stop) })
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Describe implements prometheus.Collector: sluice_call_log_records_total
// and sluice_call_log_queue_length.
func (l *Log) Describe(ch chan<- *prometheus.Desc) {
	l.recorded.Describe(ch)
	l.queued.Describe(ch)
}

// Collect implements prometheus.Collector.
func (l *Log) Collect(ch chan<- prometheus.Metric) {
	l.recorded.Collect(ch)
	l.queued.Collect(ch)
}

// storeTimeout bounds one batch's append.
const storeTimeout = 10 * time.Second

func (l *Log) run() {
	defer close(l.done)
	batch := make([]*Entry, 0, l.cfg.BatchSize)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) > 0 {
			l.write(batch)
			clear(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case e := <-l.queue:
			l.queuedBytes.Add(-e.size)
			if len(batch) == 0 {
				timer.Reset(l.cfg.FlushInterval)
			}
			batch = append(batch, e)
			if len(batch) >= l.cfg.BatchSize {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		case <-l.stop:
			timer.Stop()
			for {
				select {
				case e := <-l.queue:
					l.queuedBytes.Add(-e.size)
					batch = append(batch, e)
					if len(batch) >= l.cfg.BatchSize {
						flush()
					}
				default:
					flush()
					return
				}
			}
		}
	}
}

// write encodes and appends one batch, then wakes the streams.
func (l *Log) write(batch []*Entry) {
	calls := make([]store.Call, 0, len(batch))
	for _, e := range batch {
		rec, err := json.Marshal(l.record(e))
		if err != nil {
			l.cfg.Logger.Warn("call log: encode", "error", err.Error())
			l.recorded.WithLabelValues("dropped_store_error").Inc()
			continue
		}
		c := store.Call{Tenant: e.Conn.Tenant, Connection: e.Conn.Name, Time: e.At, Function: e.Function,
			RequestID: e.RequestID, Outcome: "ok", Record: rec}
		if e.err != nil {
			c.Outcome, c.Code = "error", string(e.err.Code)
		}
		calls = append(calls, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	n, err := l.cfg.Store.AppendCalls(ctx, calls, l.Bounds())
	if err != nil {
		l.cfg.Logger.Warn("call log: append", "error", err.Error(), "calls", len(calls))
		l.recorded.WithLabelValues("dropped_store_error").Add(float64(len(calls)))
		return
	}
	l.recorded.WithLabelValues("written").Add(float64(n))
	l.recorded.WithLabelValues("skipped").Add(float64(len(calls) - n))
	l.mu.Lock()
	for _, c := range calls {
		k := connKey{c.Tenant, c.Connection}
		if ch, ok := l.waiting[k]; ok {
			close(ch)
			delete(l.waiting, k)
		}
	}
	l.mu.Unlock()
}

// record is what e records (prepared: bounded), secrets redacted.
func (l *Log) record(e *Entry) Record {
	rec := Record{
		At: e.At.UTC(), Source: e.Source, Route: e.Route, Function: e.Function, RequestID: e.RequestID,
		Version: e.Version, Outcome: "ok",
		DurationMs:  float64(e.duration.Microseconds()) / 1000,
		MemoryBytes: e.memoryBytes,
		Logs:        make([]engine.LogEntry, 0, len(e.logs)),
		HostCalls:   make([]engine.HostCall, 0, len(e.trace)),
		LogsOmitted: e.logsOmitted, HostCallsOmitted: e.traceOmitted,
	}
	red := l.redactorOf(e)
	if e.err != nil {
		rec.Outcome, rec.Code, rec.Message = "error", string(e.err.Code), red.text(e.message, maxMessage)
	}
	for _, lg := range e.logs {
		lg.Message = red.text(lg.Message, 0)
		rec.Logs = append(rec.Logs, lg)
	}
	for _, hc := range e.trace {
		hc.Op, hc.Kind, hc.Target = red.text(hc.Op, 0), red.text(hc.Kind, 0), red.text(hc.Target, 0)
		hc.Statement, hc.Error = red.text(hc.Statement, 0), red.text(hc.Error, 0)
		rec.HostCalls = append(rec.HostCalls, hc)
	}
	return rec
}

// redactor replaces the secrets of one call in recorded text: each
// secret in every encoding a connector may write it in (forms).
type redactor struct {
	// long are the forms of minSecret bytes or more, longest first,
	// replaced wherever they are; short the shorter ones, replaced only
	// where they stand as a value (shortAt).
	long, short []string
}

// connRedactor is a connection's redactor (its secrets' forms) and what
// it was made of, so the writer makes it once per configuration.
type connRedactor struct {
	password, uri string
	env           map[string]string
	plain         []string
	red           redactor
}

// maxCachedRedactors bounds Log.redactors (cleared when full).
const maxCachedRedactors = 4096

// redactorOf is e's redactor: its connection's, cached by the writer
// (the only goroutine that calls it), with the input's password added.
func (l *Log) redactorOf(e *Entry) redactor {
	k := connKey{e.Conn.Tenant, e.Conn.Name}
	cp := e.Conn.Connection
	cr, ok := l.redactors[k]
	if !ok || cr.password != cp.Password || cr.uri != cp.URI || !maps.Equal(cr.env, e.Conn.Env) || !slices.Equal(cr.plain, e.Conn.PlainEnv) {
		var r redactor
		r.add(cp.Password)
		if cp.URI != "" {
			for _, s := range store.URISecrets(cp.URI) {
				r.add(s)
			}
		}
		for name, v := range e.Conn.Env {
			if !slices.Contains(e.Conn.PlainEnv, name) {
				r.add(v)
			}
		}
		r.sort()
		cr = connRedactor{password: cp.Password, uri: cp.URI, env: e.Conn.Env, plain: e.Conn.PlainEnv, red: r}
		if l.redactors == nil || len(l.redactors) >= maxCachedRedactors {
			l.redactors = map[connKey]connRedactor{}
		}
		l.redactors[k] = cr
	}
	if e.InputPassword == "" {
		return cr.red
	}
	r := redactor{long: slices.Clone(cr.red.long), short: slices.Clone(cr.red.short)}
	r.add(e.InputPassword)
	r.sort()
	return r
}

// newRedactor is e's redactor, made afresh.
func newRedactor(e *Entry) redactor { return (&Log{}).redactorOf(e) }

// add adds the forms of secret s.
func (r *redactor) add(s string) {
	if s == "" {
		return
	}
	for _, f := range forms(s) {
		list := &r.long
		if len(f) < minSecret {
			list = &r.short
		}
		if !slices.Contains(*list, f) {
			*list = append(*list, f)
		}
	}
}

// sort puts the longest forms first, so a secret containing another is
// replaced whole.
func (r *redactor) sort() {
	byLength := func(a, b string) int { return len(b) - len(a) }
	slices.SortFunc(r.long, byLength)
	slices.SortFunc(r.short, byLength)
}

// forms are the encodings of s a connector may write: as is, quoted
// (strconv.Quote, QuoteToASCII: %q and the SDK's log quoting), JSON
// escaped with and without HTML escapes, query and path escaped (hex
// digits upper and lower case), and every byte percent encoded (upper
// and lower case).
func forms(s string) []string {
	out := []string{s, inner(strconv.Quote(s)), inner(strconv.QuoteToASCII(s))}
	if b, err := json.Marshal(s); err == nil {
		out = append(out, inner(string(b)))
	}
	var raw bytes.Buffer
	enc := json.NewEncoder(&raw)
	enc.SetEscapeHTML(false)
	if enc.Encode(s) == nil {
		out = append(out, inner(strings.TrimSuffix(raw.String(), "\n")))
	}
	q, p := url.QueryEscape(s), url.PathEscape(s)
	out = append(out, q, lowerHex(q), p, lowerHex(p))
	const hex = "0123456789ABCDEF"
	up := make([]byte, 0, 3*len(s))
	for i := range len(s) {
		up = append(up, '%', hex[s[i]>>4], hex[s[i]&15])
	}
	return append(out, string(up), lowerHex(string(up)))
}

// inner is a quoted string without its quotes.
func inner(q string) string { return q[1 : len(q)-1] }

// lowerHex writes the hex digits of s's percent escapes in lower case.
func lowerHex(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			for j := i + 1; j <= i+2; j++ {
				if 'A' <= b[j] && b[j] <= 'F' {
					b[j] += 'a' - 'A'
				}
			}
		}
	}
	return string(b)
}

// text redacts s; when it is longer than max bytes (max > 0) it is cut
// after redacting, with "…". A tail of s that is the start (4 bytes or
// more) of a secret is dropped too: text cut before it reached the call
// log (a panic's text, a long statement) must not show a secret's start.
func (r redactor) text(s string, max int) string {
	for _, sec := range r.long {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	for _, sec := range r.short {
		if strings.Contains(s, sec) {
			s = replaceShort(s, sec)
		}
	}
	cut := false
	if max > 0 && len(s) > max {
		s, cut = strings.ToValidUTF8(s[:max], ""), true
	}
	for _, sec := range r.long {
		s = dropPrefixTail(s, sec)
	}
	if cut {
		s += "…"
	}
	return s
}

// minTail is the shortest start of a secret dropped from a text's end.
const minTail = 4

// dropPrefixTail drops from s the start of sec (minTail bytes or more,
// shorter than sec) that ends the text or a cut marked "…" (the engine
// marks where it cut a panic's text or a statement).
func dropPrefixTail(s, sec string) string {
	if len(sec) <= minTail {
		return s
	}
	for end := len(s); end >= minTail; {
		if n := prefixTail(s[:end], sec); n > 0 {
			s = s[:end-n] + s[end:]
			end -= n
		}
		i := strings.LastIndex(s[:end], "…")
		if i < 0 {
			break
		}
		end = i
	}
	return s
}

// prefixTail is the length of the longest end of s (minTail bytes or
// more, shorter than sec) that is a start of sec, or 0.
func prefixTail(s, sec string) int {
	for i := max(0, len(s)-(len(sec)-1)); i <= len(s)-minTail; i++ {
		j := strings.Index(s[i:], sec[:minTail])
		if j < 0 {
			return 0
		}
		i += j
		if strings.HasPrefix(sec, s[i:]) {
			return len(s) - i
		}
	}
	return 0
}

// replaceShort replaces sec in s where it stands as a value (shortAt).
func replaceShort(s, sec string) string {
	var b strings.Builder
	last := 0
	for i := 0; ; {
		j := strings.Index(s[i:], sec)
		if j < 0 {
			break
		}
		at := i + j
		if shortAt(s, at, at+len(sec)) {
			b.WriteString(s[last:at])
			b.WriteString(Redacted)
			last = at + len(sec)
		}
		i = at + len(sec)
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// shortAt tells whether s[i:j], a secret shorter than minSecret, stands
// as a value: it is the whole text, or it follows '=', ':' or a quote
// (", ', `), or ": " / "= " with spaces, and is followed by the end of
// the text or a byte that is not an ASCII letter or digit or part of a
// non-ASCII character. A short secret elsewhere (inside a word, at the
// start of a sentence) is left: replacing it would blank out common
// words and so tell the secret by where the gaps are.
func shortAt(s string, i, j int) bool {
	if j < len(s) && wordByte(s[j]) {
		return false
	}
	if i == 0 {
		return j == len(s)
	}
	k := i
	for k > 0 && s[k-1] == ' ' {
		k--
	}
	if k == 0 {
		return false
	}
	switch s[k-1] {
	case '=', ':':
		return true
	case '"', '\'', '`':
		return k == i
	}
	return false
}

func wordByte(c byte) bool {
	return c >= 0x80 || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
