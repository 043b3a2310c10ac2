package api

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
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
	// Upload answers only: why the version is not active (a first
	// version that cannot serve the mode, or another version serving the
	// connection), and the versions pruned to stay within the cap.
	NotActivated string `json:"notActivated,omitempty"`
	Pruned       []int  `json:"pruned,omitempty"`
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

// boolParam is the query parameter name as a boolean, false when absent.
func boolParam(c echo.Context, name string) (bool, error) {
	a := c.QueryParam(name)
	if a == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(a)
	if err != nil {
		return false, invalidField(name, "must be true or false")
	}
	return b, nil
}

// modeNotSatisfied refuses to make a module that lacks functions of the
// connection's mode its active version (version 0: an upload).
func modeNotSatisfied(mode store.Mode, version int, missing []string) *Error {
	what := "the module"
	details := map[string]string{"mode": string(mode), "missing": strings.Join(missing, ",")}
	if version > 0 {
		what = fmt.Sprintf("version %d", version)
		details["version"] = strconv.Itoa(version)
	}
	return &Error{
		Status: http.StatusConflict, Code: codeModeNotSatisfied, Details: details,
		Message: fmt.Sprintf("%s cannot serve %s: it lacks %s; add ?force=true to accept that (those calls then answer not_implemented)",
			what, mode, strings.Join(missing, ", ")),
	}
}

// POST /v1/connections/{name}/versions (Content-Type: application/wasm,
// or application/javascript for a script: docs/javascript.md) stores a
// new version (201), or answers the connection's version of the
// same bytes (200). With ?activate=true the version is activated; a
// version that cannot serve the connection's mode is then refused (409
// mode_not_satisfied, nothing stored) unless ?force=true. The first
// version of a connection is activated when it can serve the mode (or
// with ?force=true); otherwise it is stored inactive and notActivated
// says why.
func (s *Server) uploadVersion(c echo.Context) error {
	req := c.Request()
	ctx := req.Context()
	t := tenantOf(c)
	conn, err := s.connection(c)
	if err != nil {
		return err
	}
	mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	isScript := mt == "application/javascript" || mt == "text/javascript"
	if err != nil || (mt != "application/wasm" && !isScript) {
		return apiErr(http.StatusUnsupportedMediaType, codeUnsupportedMedia, "the body must be a .wasm module sent with Content-Type: application/wasm, or a .js script sent with Content-Type: application/javascript")
	}
	explicit, err := boolParam(c, "activate")
	if err != nil {
		return err
	}
	force, err := boolParam(c, "force")
	if err != nil {
		return err
	}
	// An upload compiles and runs the tenant's code (the probe): it takes
	// one of the tenant's uploadsPerMinute and a call of its quotas before
	// its body is even read, so an upload flood is refused cheaply.
	release, err := s.cfg.Runner.AdmitUpload(t)
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
	load := s.cfg.Runner.Load
	if isScript {
		load = s.cfg.Runner.LoadScript
	}
	info, err := load(ctx, t.ID, wasm)
	if err != nil {
		return err
	}
	missing := info.MissingFor(engine.Mode(conn.Mode))
	activate, notActivated := explicit, ""
	switch {
	case explicit && len(missing) > 0 && !force:
		return modeNotSatisfied(conn.Mode, 0, missing)
	case !explicit && conn.ActiveVersion == 0 && len(missing) > 0 && !force:
		notActivated = fmt.Sprintf("not activated: the connection's mode %s needs %s, which this version lacks; activate it with ?force=true or change the mode",
			conn.Mode, strings.Join(missing, ", "))
	case conn.ActiveVersion == 0:
		activate = true
	}
	defer s.conns.drop(connKey{t.ID, conn.Name})
	v, err := s.cfg.Store.AddVersion(ctx, t.ID, conn.Name, store.NewVersion{
		SHA256: info.SHA256, Functions: info.Functions, ABIVersion: info.ABIVersion, Activate: activate,
		MaxVersions: s.cfg.MaxVersions,
	}, wasm)
	if err != nil {
		return connNotFound(err)
	}
	if activate {
		s.cfg.Runner.Evict(ctx, conn)
		conn.ActiveVersion = v.Version
	}
	out := versionDTO(v, conn)
	out.NotActivated, out.Pruned = notActivated, v.Pruned
	if !out.Active && notActivated == "" {
		// Another version serves the connection: say so, and how to
		// put this one live.
		out.NotActivated = fmt.Sprintf("stored inactive: version %d serves the connection; activate this one with POST /v1/connections/%s/versions/%d/activate, or upload with ?activate=true",
			conn.ActiveVersion, conn.Name, v.Version)
	}
	if out.Active {
		out.NotActivated = "" // the same bytes, active already
	}
	if v.Existing {
		return c.JSON(http.StatusOK, out)
	}
	return c.JSON(http.StatusCreated, out)
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
// connection. Activating an older version is a rollback. A version that
// cannot serve the connection's mode is refused (409 mode_not_satisfied)
// unless ?force=true.
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
	force, err := boolParam(c, "force")
	if err != nil {
		return err
	}
	v, err := s.cfg.Store.GetVersion(ctx, conn.Tenant, conn.Name, n)
	if err != nil {
		if isNotFound(err) {
			return notFound("no such version")
		}
		return err
	}
	info := engine.ModuleInfo{Functions: v.Functions}
	if missing := info.MissingFor(engine.Mode(conn.Mode)); len(missing) > 0 && !force {
		return modeNotSatisfied(conn.Mode, n, missing)
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
