package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/sluice-dev/sluice/store"
)

// maxAuditLimit bounds ?limit= of the audit route.
const maxAuditLimit = 1000

// GET /v1/connections/{name}/audit?limit= -> {"entries":[...]}, newest
// first: the connection's user flows as the audit log has them, with
// each failure's precise code and full detail (what the flows' callers
// never see).
func (s *Server) listAudit(c echo.Context) error {
	conn, err := s.connection(c)
	if err != nil {
		return err
	}
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxAuditLimit {
			return invalidField("limit", "must be a number from 1 to %d", maxAuditLimit)
		}
	}
	entries, err := s.cfg.Store.ListAudit(c.Request().Context(), conn.Tenant, store.AuditQuery{Connection: conn.Name, Limit: limit})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": entries})
}
