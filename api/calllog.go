package api

import (
	"context"
	"net/http"
	"slices"
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
)

// streamPage is how many calls one look at the store delivers.
const streamPage = 200

// GET /v1/connections/{name}/calls/stream: Server-Sent Events of the
// connection's new calls, oldest first: "id: ID\nevent: call\ndata: CALL\n\n",
// resumed after Last-Event-ID (or ?after=), a ": keepalive" comment
// every StreamHeartbeat. New calls are found by asking the store for
// calls after the last one sent, when this node wrote a batch and every
// StreamPoll (the calls other nodes wrote). It ends when the client
// leaves or the server shuts down.
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

	res := c.Response()
	h := res.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Set("X-Accel-Buffering", "no") // proxies: do not buffer
	res.WriteHeader(http.StatusOK)
	res.Flush()

	poll := time.NewTicker(s.cfg.StreamPoll)
	defer poll.Stop()
	beat := time.NewTicker(s.cfg.StreamHeartbeat)
	defer beat.Stop()
	var b []byte
	for {
		var written <-chan struct{}
		if s.cfg.CallLog != nil {
			written = s.cfg.CallLog.Written() // before the look, not to miss a batch
		}
		for {
			page, err := s.callsAfter(ctx, conn, q, cursor)
			if err != nil {
				if ctx.Err() != nil || s.streams.Err() != nil {
					return nil
				}
				s.log.WarnContext(ctx, "call log stream", "requestId", requestIDOf(c), "error", err.Error())
				break // try again at the next tick
			}
			if len(page) == 0 {
				break
			}
			b = b[:0]
			for _, call := range page {
				b = append(b, "id: "...)
				b = strconv.AppendInt(b, call.ID, 10)
				b = append(b, "\nevent: call\ndata: "...)
				b = appendCall(b, call)
				b = append(b, "\n\n"...)
				cursor = call.ID
			}
			if _, err := res.Write(b); err != nil {
				return nil // the client left
			}
			res.Flush()
			if len(page) < streamPage {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.streams.Done():
			return nil
		case <-written:
		case <-poll.C:
		case <-beat.C:
			if _, err := res.Write([]byte(": keepalive\n\n")); err != nil {
				return nil
			}
			res.Flush()
		}
	}
}

// callsAfter is the next page of calls after cursor, oldest first.
func (s *Server) callsAfter(ctx context.Context, conn store.Connection, q store.CallQuery, cursor int64) ([]store.Call, error) {
	q.Limit = streamPage
	if cursor > 0 {
		q.After = cursor
		return s.cfg.Store.ListCalls(ctx, conn.Tenant, conn.Name, q)
	}
	// From the start of the log: its oldest page.
	calls, err := s.cfg.Store.ListCalls(ctx, conn.Tenant, conn.Name, q)
	slices.Reverse(calls)
	return calls, err
}
