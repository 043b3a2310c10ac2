package api

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/store"
)

type versionResponse struct {
	Version        int       `json:"version"`
	SHA256         string    `json:"sha256"`
	Size           int64     `json:"size"`
	Functions      []string  `json:"functions"`
	MissingForMode []string  `json:"missingForMode"`
	ABIVersion     int       `json:"abiVersion"`
	Active         bool      `json:"active"`
	CreatedAt      time.Time `json:"createdAt"`
}

func versionDTO(v store.Version, conn store.Connection) versionResponse {
	info := engine.ModuleInfo{Functions: v.Functions}
	fns := v.Functions
	if fns == nil {
		fns = []string{}
	}
	return versionResponse{
		Version: v.Version, SHA256: v.SHA256, Size: v.Size, Functions: fns,
		MissingForMode: info.MissingFor(engine.Mode(conn.Mode)), ABIVersion: v.ABIVersion,
		Active: conn.ActiveVersion == v.Version, CreatedAt: v.CreatedAt,
	}
}

// POST /v1/connections/{name}/versions (Content-Type: application/wasm)
// stores a new version. It is activated when the connection has no active
// version yet, or with ?activate=true.
func (s *Server) uploadVersion(c echo.Context) error {
	req := c.Request()
	ctx := req.Context()
	t := tenantOf(c)
	conn, err := s.connection(c)
	if err != nil {
		return err
	}
	if mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); err != nil || mt != "application/wasm" {
		return apiErr(http.StatusUnsupportedMediaType, codeUnsupportedMedia, "the body must be a .wasm module sent with Content-Type: application/wasm")
	}
	activate := conn.ActiveVersion == 0
	if a := c.QueryParam("activate"); a != "" {
		b, err := strconv.ParseBool(a)
		if err != nil {
			return invalidField("activate", "must be true or false")
		}
		activate = activate || b
	}
	// An upload runs the tenant's code (the probe) and costs the node
	// like a call: it takes a call of the tenant's quotas before its body
	// is even read, so an upload flood is refused cheaply.
	release, err := s.cfg.Runner.Admit(t)
	if err != nil {
		return err
	}
	defer release()
	limit := t.Quotas.MaxModuleBytes
	if req.ContentLength > limit {
		return apiErr(http.StatusRequestEntityTooLarge, codeTooLarge, "the module is %d bytes, over the tenant's limit of %d", req.ContentLength, limit)
	}
	wasm, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, limit))
	if err != nil {
		if _, ok := err.(*http.MaxBytesError); ok {
			return apiErr(http.StatusRequestEntityTooLarge, codeTooLarge, "the module is over the tenant's limit of %d bytes", limit)
		}
		return apiErr(http.StatusBadRequest, codeInvalidInput, "cannot read the module")
	}
	info, err := s.cfg.Runner.Load(ctx, t.ID, wasm)
	if err != nil {
		return err
	}
	defer s.conns.drop(connKey{t.ID, conn.Name})
	v, err := s.cfg.Store.AddVersion(ctx, t.ID, conn.Name, store.NewVersion{
		SHA256: info.SHA256, Functions: info.Functions, ABIVersion: info.ABIVersion, Activate: activate,
	}, wasm)
	if err != nil {
		return connNotFound(err)
	}
	if activate {
		s.cfg.Runner.Evict(ctx, conn)
		conn.ActiveVersion = v.Version
	}
	return c.JSON(http.StatusCreated, versionDTO(v, conn))
}

// GET /v1/connections/{name}/versions -> {"activeVersion","versions":[...]}
func (s *Server) listVersions(c echo.Context) error {
	conn, err := s.connection(c)
	if err != nil {
		return err
	}
	vs, err := s.cfg.Store.ListVersions(c.Request().Context(), conn.Tenant, conn.Name)
	if err != nil {
		return connNotFound(err)
	}
	out := make([]versionResponse, 0, len(vs))
	for _, v := range vs {
		out = append(out, versionDTO(v, conn))
	}
	return c.JSON(http.StatusOK, map[string]any{"activeVersion": conn.ActiveVersion, "versions": out})
}

// POST /v1/connections/{name}/versions/{version}/activate -> the
// connection. Activating an older version is a rollback.
func (s *Server) activateVersion(c echo.Context) error {
	ctx := c.Request().Context()
	conn, err := s.connection(c)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Param("version"))
	if err != nil || n < 1 {
		return notFound("no such version")
	}
	saved, err := s.cfg.Store.ActivateVersion(ctx, conn.Tenant, conn.Name, n)
	s.conns.drop(connKey{conn.Tenant, conn.Name})
	if err != nil {
		if isNotFound(err) {
			return notFound("no such version")
		}
		return err
	}
	s.cfg.Runner.Evict(ctx, conn)
	return c.JSON(http.StatusOK, connectionDTO(saved))
}
