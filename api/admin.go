package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sluice-dev/sluice/hostfuncs/egress"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/store"
)

type createTenantRequest struct {
	Name *string `json:"name"`
}

type tenantResponse struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	APIKey    string       `json:"apiKey,omitempty"`
	CreatedAt time.Time    `json:"createdAt"`
	Quotas    store.Quotas `json:"quotas"`
}

func tenantDTO(t store.Tenant) tenantResponse {
	return tenantResponse{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, Quotas: t.Quotas}
}

// POST /v1/admin/tenants {"name"} -> 201 {"id","name","apiKey",...}
func (s *Server) createTenant(c echo.Context) error {
	var req createTenantRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return invalidField("name", "is required")
	}
	name := strings.TrimSpace(*req.Name)
	if name == "" || len(name) > 200 {
		return invalidField("name", "must be 1 to 200 characters")
	}
	key, hash, err := store.NewAPIKey()
	if err != nil {
		return err
	}
	t, err := s.cfg.Store.CreateTenant(c.Request().Context(), name, hash)
	if err != nil {
		return err
	}
	out := tenantDTO(t)
	out.APIKey = key
	return c.JSON(http.StatusCreated, out)
}

// GET /v1/admin/tenants -> {"tenants":[...]}
func (s *Server) listTenants(c echo.Context) error {
	ts, err := s.cfg.Store.ListTenants(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]tenantResponse, 0, len(ts))
	for _, t := range ts {
		out = append(out, tenantDTO(t))
	}
	return c.JSON(http.StatusOK, map[string]any{"tenants": out})
}

// GET /v1/admin/tenants/{tenant}/quotas
func (s *Server) getQuotas(c echo.Context) error {
	t, err := s.cfg.Store.GetTenant(c.Request().Context(), c.Param("tenant"))
	if err != nil {
		return tenantNotFound(err)
	}
	return c.JSON(http.StatusOK, t.Quotas)
}

// PUT /v1/admin/tenants/{tenant}/quotas: the fields given replace the
// current ones (privateNetworks as a whole); the next call of the tenant
// uses them.
func (s *Server) putQuotas(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := s.cfg.Store.GetTenant(ctx, c.Param("tenant"))
	if err != nil {
		return tenantNotFound(err)
	}
	q := t.Quotas
	q.PrivateNetworks = slices.Clone(q.PrivateNetworks) // a given list replaces it; null empties it
	if err := decodeJSON(c, &q); err != nil {
		return err
	}
	if err := validateNetworks(q.PrivateNetworks); err != nil {
		return err
	}
	t, err = s.cfg.Store.UpdateQuotas(ctx, t.ID, q)
	s.auth.clear() // the cached tenants carry their quotas
	if err != nil {
		return tenantNotFound(err)
	}
	return c.JSON(http.StatusOK, t.Quotas)
}

// validateNetworks checks the privateNetworks quota with the egress
// gate's own parser, naming the first bad entry.
func validateNetworks(networks []string) error {
	if len(networks) > store.MaxPrivateNetworks {
		return invalidField("privateNetworks", "has %d entries, more than %d", len(networks), store.MaxPrivateNetworks)
	}
	for i, n := range networks {
		if err := egress.ValidateNetwork(n); err != nil {
			var ee *egress.EntryError
			if errors.As(err, &ee) {
				return invalidField(fmt.Sprintf("privateNetworks[%d]", i), "%q %s", n, reasonPhrase(ee.Reason))
			}
			return invalidField(fmt.Sprintf("privateNetworks[%d]", i), "%s", err.Error())
		}
	}
	return nil
}

// reasonPhrase makes an entry error's reason follow the entry itself:
// "is a host name ..." stays, "empty" becomes "is empty", others get ": ".
func reasonPhrase(r string) string {
	switch {
	case strings.HasPrefix(r, "is "):
		return r
	case r == "empty":
		return "is empty"
	}
	return "is invalid: " + r
}

func tenantNotFound(err error) error {
	if isNotFound(err) {
		return notFound("no such tenant")
	}
	return err
}

// GET /v1/admin/tenants/{tenant}/usage -> the tenant's calls, errors by
// code and quota rejections on this node over the last hour
// (invoke.Usage: the observations behind /metrics, kept per minute).
func (s *Server) getUsage(c echo.Context) error {
	t, err := s.cfg.Store.GetTenant(c.Request().Context(), c.Param("tenant"))
	if err != nil {
		return tenantNotFound(err)
	}
	u := s.cfg.Runner.Usage(t.ID)
	return c.JSON(http.StatusOK, usageResponse{Tenant: t.ID, WindowSeconds: int(invoke.UsageWindow / time.Second), Usage: u})
}

type usageResponse struct {
	Tenant        string `json:"tenant"`
	WindowSeconds int    `json:"windowSeconds"`
	invoke.Usage
}
