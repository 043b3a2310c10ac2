package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/store"
)

// Bounds of ?limit= of the call log.
const (
	defaultCallsLimit = 50
	maxCallsLimit     = 200
)

// callQuery reads the filters of the call-log routes.
func callQuery(c echo.Context) (store.CallQuery, error) {
	q := store.CallQuery{
		Function: c.QueryParam("function"), Outcome: c.QueryParam("outcome"),
		Code: c.QueryParam("code"), RequestID: c.QueryParam("requestId"),
	}
	if q.Function != "" && !engine.IsFunction(q.Function) {
		return q, invalidField("function", "%q is not one of %s", q.Function, strings.Join(engine.Functions(), ", "))
	}
	if q.Outcome != "" && q.Outcome != "ok" && q.Outcome != "error" {
		return q, invalidField("outcome", "must be ok or error")
	}
	return q, nil
}

// callID parses a call id (the store's, shown as a string) of field.
func callID(field, v string) (int64, error) {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, invalidField(field, "%q is not a call id", v)
	}
	return id, nil
}

// appendCall appends a call as the API shows it: its record with "id"
// spliced in front (the record is a JSON object the call log wrote).
func appendCall(b []byte, call store.Call) []byte {
	b = append(b, `{"id":"`...)
	b = strconv.AppendInt(b, call.ID, 10)
	b = append(b, '"')
	if len(call.Record) > 2 {
		b = append(b, ',')
	}
	return append(b, call.Record[1:]...)
}

// GET /v1/connections/{name}/calls?function=&outcome=&code=&requestId=&limit=&before=
// -> {"calls":[...],"next"?}: the connection's call log, newest first;
// next is the before= of the next page, absent on the last.
func (s *Server) listCalls(c echo.Context) error {
	conn, err := s.connection(c)
	if err != nil {
		return err
	}
	q, err := callQuery(c)
	if err != nil {
		return err
	}
	q.Limit = defaultCallsLimit
	if v := c.QueryParam("limit"); v != "" {
		if q.Limit, err = strconv.Atoi(v); err != nil || q.Limit < 1 || q.Limit > maxCallsLimit {
			return invalidField("limit", "must be a number from 1 to %d", maxCallsLimit)
		}
	}
	if v := c.QueryParam("before"); v != "" {
		if q.Before, err = callID("before", v); err != nil {
			return err
		}
	}
	limit := q.Limit
	q.Limit++ // one more tells whether there is a next page
	calls, err := s.cfg.Store.ListCalls(c.Request().Context(), conn.Tenant, conn.Name, q)
	if err != nil {
		return err
	}
	more := len(calls) > limit
	calls = calls[:min(len(calls), limit)]
	n := 32
	for _, call := range calls {
		n += 32 + len(call.Record)
	}
	b := append(make([]byte, 0, n), `{"calls":[`...)
	for i, call := range calls {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCall(b, call)
	}
	b = append(b, ']')
	if more {
		b = append(b, `,"next":"`...)
		b = strconv.AppendInt(b, calls[len(calls)-1].ID, 10)
		b = append(b, '"')
	}
	b = append(b, "}\n"...)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, b)
}

// Defaults of the live stream.
const (
	DefaultStreamPoll      = time.Second
	DefaultStreamHeartbeat = 15 * time.Second
	// DefaultStreamsPerTenant is Config.StreamsPerTenant when it is 0.
	DefaultStreamsPerTenant = 8
	// DefaultStreamMaxLifetime is Config.StreamMaxLifetime when it is 0.
	DefaultStreamMaxLifetime = 10 * time.Minute
	// DefaultStreamWriteTimeout is Config.StreamWriteTimeout when it is 0.
	DefaultStreamWriteTimeout = 30 * time.Second
)

// A stream's look at the store delivers at most streamPage calls and
// about streamPageBytes of records (at least one call).
const (
	streamPage      = 200
	streamPageBytes = 256 << 10
)

// GET /v1/connections/{name}/calls/stream: Server-Sent Events of the
// connection's new calls, oldest first: "id: ID\nevent: call\ndata: CALL\n\n",
// after Last-Event-ID (or ?after=): a call id, or 0 for the whole log
// from its oldest call; without either, from the next call. A ": keepalive"
// comment every StreamHeartbeat. New calls are found by asking the store
// for calls after the last one sent, when this node wrote a batch with a
// call of the connection and every StreamPoll (the calls other nodes
// wrote), when the key and the connection are checked again too. It ends
// when the client leaves or stops reading (StreamWriteTimeout), the key
// is revoked, the connection deleted, after StreamMaxLifetime, or when
// the server shuts down. A tenant has at most StreamsPerTenant streams
// open on a node: 429 quota_exceeded beyond.
func (s *Server) streamCalls(c echo.Context) error {
	conn, err := s.connection(c)
	if err != nil {
		return err
	}
	q, err := callQuery(c)
	if err != nil {
		return err
	}
	resume, field := c.Request().Header.Get("Last-Event-ID"), "Last-Event-ID"
	if resume == "" {
		resume, field = c.QueryParam("after"), "after"
	}
	ctx := c.Request().Context()
	var cursor int64
	if resume != "" {
		if cursor, err = callID(field, resume); err != nil {
			return err
		}
	} else {
		// Only calls from now on: after the newest one.
		newest, err := s.cfg.Store.ListCalls(ctx, conn.Tenant, conn.Name, store.CallQuery{Limit: 1})
		if err != nil {
			return err
		}
		if len(newest) > 0 {
			cursor = newest[0].ID
		}
	}
	release, ok := s.openStream(conn.Tenant)
	if !ok {
		return &Error{Status: http.StatusTooManyRequests, Code: codeQuotaExceeded, RetryAfter: time.Second,
			Message: "this tenant has " + strconv.Itoa(s.cfg.StreamsPerTenant) + " call-log streams open on this node, the most it may"}
	}
	defer release()
	keyHash := store.HashAPIKey(bearer(c))

	res := c.Response()
	rc := http.NewResponseController(res.Writer)
	// write sends parts within StreamWriteTimeout (flush: and flushes).
	write := func(flush bool, parts ...[]byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.StreamWriteTimeout)) // unsupported: no deadline
		for _, p := range parts {
			if _, err := res.Write(p); err != nil {
				return false
			}
		}
		return !flush || rc.Flush() == nil
	}
	h := res.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Set("X-Accel-Buffering", "no") // proxies: do not buffer
	_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.StreamWriteTimeout))
	res.WriteHeader(http.StatusOK)
	res.Flush()

	poll := time.NewTicker(s.cfg.StreamPoll)
	defer poll.Stop()
	beat := time.NewTicker(s.cfg.StreamHeartbeat)
	defer beat.Stop()
	life := time.NewTimer(s.cfg.StreamMaxLifetime)
	defer life.Stop()
	var head [64]byte
	for {
		var written <-chan struct{}
		if s.cfg.CallLog != nil {
			// Before the look, not to miss a batch.
			written = s.cfg.CallLog.Written(conn.Tenant, conn.Name)
		}
		for {
			page, full, err := s.callsAfter(ctx, conn, q, cursor)
			if err != nil {
				if ctx.Err() != nil || s.streams.Err() != nil {
					return nil
				}
				s.log.WarnContext(ctx, "call log stream", "requestId", requestIDOf(c), "error", err.Error())
				break // try again at the next tick
			}
			for i, call := range page {
				// Straight to the response: no buffer outlives the call.
				b := append(head[:0], "id: "...)
				b = strconv.AppendInt(b, call.ID, 10)
				b = append(b, "\nevent: call\ndata: {\"id\":\""...)
				b = strconv.AppendInt(b, call.ID, 10)
				b = append(b, '"')
				rest := call.Record[1:]
				if len(call.Record) > 2 {
					b = append(b, ',')
				}
				if !write(i == len(page)-1, b, rest, []byte("\n\n")) {
					return nil // the client left or stopped reading
				}
				cursor = call.ID
			}
			if !full {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.streams.Done():
			return nil
		case <-life.C:
			return nil // the client resumes with Last-Event-ID
		case <-written:
		case <-poll.C:
			if s.streamRevoked(ctx, keyHash, conn) {
				return nil
			}
		case <-beat.C:
			if !write(true, []byte(": keepalive\n\n")) {
				return nil
			}
		}
	}
}

// streamRevoked tells whether a stream's key or connection is gone
// (through the caches, so within their TTL). Other errors keep it.
func (s *Server) streamRevoked(ctx context.Context, keyHash string, conn store.Connection) bool {
	t, err := s.tenantByKeyHash(ctx, keyHash)
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.ID != conn.Tenant) {
		return true
	}
	_, err = s.connectionOf(ctx, conn.Tenant, conn.Name)
	var ae *Error
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// openStream counts a tenant's new stream on this node, or refuses it
// (false) when the tenant has StreamsPerTenant open; release uncounts it.
func (s *Server) openStream(tenant string) (release func(), ok bool) {
	s.streamMu.Lock()
	defer s.streamMu.Unlock()
	if s.streamCount[tenant] >= s.cfg.StreamsPerTenant {
		return nil, false
	}
	s.streamCount[tenant]++
	return func() {
		s.streamMu.Lock()
		defer s.streamMu.Unlock()
		if s.streamCount[tenant]--; s.streamCount[tenant] <= 0 {
			delete(s.streamCount, tenant)
		}
	}, true
}

// callsAfter is the next page of calls after cursor (0: from the log's
// oldest call), oldest first; full says the store may hold more.
func (s *Server) callsAfter(ctx context.Context, conn store.Connection, q store.CallQuery, cursor int64) ([]store.Call, bool, error) {
	q.Limit, q.MaxBytes, q.After, q.Oldest = streamPage, streamPageBytes, cursor, true
	calls, err := s.cfg.Store.ListCalls(ctx, conn.Tenant, conn.Name, q)
	if err != nil {
		return nil, false, err
	}
	size := 0
	for _, c := range calls {
		size += len(c.Record)
	}
	return calls, len(calls) == streamPage || size >= streamPageBytes, nil
}
