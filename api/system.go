package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// GET /healthz: the process is up.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// GET /readyz: the store answers and the server is not shutting down.
func (s *Server) readyz(c echo.Context) error {
	if s.draining.Load() {
		return apiErr(http.StatusServiceUnavailable, codeUnavailable, "the server is shutting down")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "store unreachable", "requestId", requestIDOf(c), "error", err.Error())
		return apiErr(http.StatusServiceUnavailable, codeUnavailable, "the store is unreachable")
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// GET /api/system/public-ips -> {"ips":[...]}
func (s *Server) publicIPs(c echo.Context) error {
	ips := s.cfg.PublicIPs
	if ips == nil {
		ips = []string{}
	}
	return c.JSON(http.StatusOK, map[string][]string{"ips": ips})
}

// GET /openapi.json
func (s *Server) serveOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, s.openapi)
}
