package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs/egress"
	"github.com/sluice-dev/sluice/store"
)

// Mask replaces every secret in a response.
const Mask = "********"

var (
	connNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	envNameRE  = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
)

const (
	maxEnvVars       = 100
	maxEnvValueBytes = 8 << 10
	maxAllowEntries  = 100
)

// connectionRequest is the body of PUT /v1/connections/{name}.
type connectionRequest struct {
	Mode            *string                    `json:"mode"`
	DBType          *string                    `json:"dbType"`
	Connection      *connParams                `json:"connection"`
	Env             map[string]json.RawMessage `json:"env"`
	EgressAllowlist []string                   `json:"egressAllowlist"`
	Enabled         *bool                      `json:"enabled"`
}

// plainEnvValue is how an answer shows a plain (not secret) env value:
// the object form a request marks it plain with (envEntry).
type plainEnvValue struct {
	Value  string `json:"value"`
	Secret bool   `json:"secret"`
}

// envEntry is an env value of a request in its object form; the other
// form, a bare string, is a secret. Secret defaults to true.
type envEntry struct {
	Value  *string `json:"value"`
	Secret *bool   `json:"secret"`
}

type connParams struct {
	URI      string `json:"uri,omitempty"`
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Database string `json:"database,omitempty"`
}

// connectionResponse is a connection with its secrets masked. An env
// value is Mask (a secret) or a plainEnvValue.
type connectionResponse struct {
	Name            string         `json:"name"`
	Mode            string         `json:"mode"`
	DBType          string         `json:"dbType"`
	Connection      connParams     `json:"connection"`
	Env             map[string]any `json:"env"`
	EgressAllowlist []string       `json:"egressAllowlist"`
	Enabled         bool           `json:"enabled"`
	ActiveVersion   int            `json:"activeVersion"`
	ConfigVersion   int            `json:"configVersion"`
	CreatedAt       time.Time      `json:"createdAt"`
	UpdatedAt       time.Time      `json:"updatedAt"`
}

func connectionDTO(c store.Connection) connectionResponse {
	p := connParams{
		URI:      maskURI(c.Connection.URI),
		Host:     c.Connection.Host,
		Port:     c.Connection.Port,
		Username: c.Connection.Username,
		Database: c.Connection.Database,
	}
	if c.Connection.Password != "" {
		p.Password = Mask
	}
	env := make(map[string]any, len(c.Env))
	for k, v := range c.Env {
		if slices.Contains(c.PlainEnv, k) {
			env[k] = plainEnvValue{Value: v}
		} else {
			env[k] = Mask
		}
	}
	allow := c.EgressAllowlist
	if allow == nil {
		allow = []string{}
	}
	return connectionResponse{
		Name: c.Name, Mode: string(c.Mode), DBType: string(c.DBType), Connection: p, Env: env,
		EgressAllowlist: allow, Enabled: c.Enabled, ActiveVersion: c.ActiveVersion, ConfigVersion: c.ConfigVersion,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

// maskURI masks the password of a URI's user info and the values of
// secret query parameters (store.IsSecretParam, the list the call log
// redacts too). A URI that does not parse is masked
// whole.
func maskURI(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return Mask
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "MASKEDPASSWORD")
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if store.IsSecretParam(k) {
				q[k] = []string{"MASKEDPASSWORD"}
			}
		}
		u.RawQuery = q.Encode()
	}
	return strings.ReplaceAll(u.String(), "MASKEDPASSWORD", Mask)
}

// unmaskURI puts the secrets of old back into a URI that came back from
// the API masked, so a console can save what it read.
func unmaskURI(given, old string) string {
	if !strings.Contains(given, Mask) || old == "" {
		return given
	}
	if maskURI(old) == given {
		return old
	}
	return given
}

// PUT /v1/connections/{name} saves the whole configuration. A change of
// mode that the active version cannot serve is refused (409
// mode_not_satisfied) unless ?force=true.
func (s *Server) putConnection(c echo.Context) error {
	ctx := c.Request().Context()
	t := tenantOf(c)
	name := c.Param("name")
	if !connNameRE.MatchString(name) {
		return invalidField("name", "must be 1 to 64 letters, digits, '_' or '-', starting with a letter or digit")
	}
	var req connectionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	old, err := s.cfg.Store.GetConnection(ctx, t.ID, name)
	exists := err == nil
	if err != nil && !isNotFound(err) {
		return err
	}
	conn, err := validateConnection(name, &req, old, exists)
	if err != nil {
		return err
	}
	force, err := boolParam(c, "force")
	if err != nil {
		return err
	}
	// A new mode must be one the active version can serve.
	if exists && old.ActiveVersion != 0 && conn.Mode != old.Mode && !force {
		v, err := s.cfg.Store.GetVersion(ctx, t.ID, name, old.ActiveVersion)
		if err != nil {
			return err
		}
		info := engine.ModuleInfo{Functions: v.Functions}
		if missing := info.MissingFor(engine.Mode(conn.Mode)); len(missing) > 0 {
			return modeNotSatisfied(conn.Mode, v.Version, missing)
		}
	}
	conn.Tenant = t.ID
	saved, err := s.cfg.Store.PutConnection(ctx, conn)
	s.conns.drop(connKey{t.ID, name})
	if err != nil {
		return err
	}
	if exists {
		s.cfg.Runner.Evict(ctx, old)
	}
	status := http.StatusOK
	if !exists {
		status = http.StatusCreated
	}
	return c.JSON(status, connectionDTO(saved))
}

// validateConnection checks a saved configuration and returns it as the
// store takes it. Masked secrets sent back unchanged keep their stored
// values.
func validateConnection(name string, req *connectionRequest, old store.Connection, exists bool) (store.Connection, error) {
	var c store.Connection
	c.Name = name
	if req.Mode == nil {
		return c, invalidField("mode", "is required (LAZY_MIGRATION or CUSTOM_USER_STORE)")
	}
	switch m := store.Mode(*req.Mode); m {
	case store.ModeLazyMigration, store.ModeCustomUserStore:
		c.Mode = m
	default:
		return c, invalidField("mode", "must be LAZY_MIGRATION or CUSTOM_USER_STORE, not %q", *req.Mode)
	}
	if req.DBType == nil {
		return c, invalidField("dbType", "is required (postgres, mysql, mongodb or http)")
	}
	schemes := map[store.DBType][]string{
		store.DBPostgres: {"postgres", "postgresql"},
		store.DBMySQL:    {"mysql"},
		store.DBMongoDB:  {"mongodb", "mongodb+srv"},
		store.DBHTTP:     {"http", "https"},
	}
	c.DBType = store.DBType(*req.DBType)
	if _, ok := schemes[c.DBType]; !ok {
		return c, invalidField("dbType", "must be postgres, mysql, mongodb or http, not %q", *req.DBType)
	}
	if req.Connection == nil {
		return c, invalidField("connection", `is required: {"uri"} or {"host","port","username","password","database"}`)
	}
	p := *req.Connection
	parts := p.Host != "" || p.Port != 0 || p.Username != "" || p.Password != "" || p.Database != ""
	switch {
	case p.URI != "" && parts:
		return c, invalidField("connection", "give either uri or host/port/username/password/database, not both")
	case p.URI != "":
		if len(p.URI) > 4096 {
			return c, invalidField("connection.uri", "is longer than 4096 characters")
		}
		p.URI = unmaskURI(p.URI, old.Connection.URI)
		u, err := url.Parse(p.URI)
		if err != nil {
			return c, invalidField("connection.uri", "is not a valid URI")
		}
		if !slices.Contains(schemes[c.DBType], strings.ToLower(u.Scheme)) {
			return c, invalidField("connection.uri", "must start with %s:// for dbType %s", schemes[c.DBType][0], c.DBType)
		}
		// PostgreSQL may name its hosts in the host parameter instead
		// (libpq's postgres:///db?host=...): the egress gate judges them.
		if u.Host == "" && (c.DBType != store.DBPostgres || u.Query().Get("host") == "") {
			return c, invalidField("connection.uri", "has no host")
		}
	case parts:
		if p.Host == "" {
			return c, invalidField("connection.host", "is required")
		}
		if len(p.Host) > 253 || strings.ContainsAny(p.Host, "/ @?#") {
			return c, invalidField("connection.host", "is not a host name or address")
		}
		if p.Port < 0 || p.Port > 65535 {
			return c, invalidField("connection.port", "must be between 1 and 65535")
		}
		if p.Password == Mask && exists {
			p.Password = old.Connection.Password
		}
	default:
		return c, invalidField("connection", `is empty: give {"uri"} or {"host","port","username","password","database"}`)
	}
	c.Connection = store.ConnParams(p)

	if len(req.Env) > maxEnvVars {
		return c, invalidField("env", "has more than %d variables", maxEnvVars)
	}
	c.Env = make(map[string]string, len(req.Env))
	c.PlainEnv = []string{}
	for k, raw := range req.Env {
		if !envNameRE.MatchString(k) || len(k) > 128 {
			return c, invalidField("env."+k, "is not a valid name (A-Z, 0-9 and _, not starting with a digit)")
		}
		if strings.HasPrefix(k, "DB_") {
			return c, invalidField("env."+k, "DB_* names are reserved for the connection")
		}
		v, secret, err := envValue(k, raw, old, exists)
		if err != nil {
			return c, err
		}
		if len(v) > maxEnvValueBytes {
			return c, invalidField("env."+k, "is longer than %d bytes", maxEnvValueBytes)
		}
		c.Env[k] = v
		if !secret {
			c.PlainEnv = append(c.PlainEnv, k)
		}
	}

	if len(req.EgressAllowlist) > maxAllowEntries {
		return c, invalidField("egressAllowlist", "has more than %d entries", maxAllowEntries)
	}
	c.EgressAllowlist = []string{}
	for i, e := range req.EgressAllowlist {
		if err := egress.ValidateEntry(e); err != nil {
			var ee *egress.EntryError
			if errors.As(err, &ee) {
				return c, invalidField(fmt.Sprintf("egressAllowlist[%d]", i), "%q: %s", e, ee.Reason)
			}
			return c, invalidField(fmt.Sprintf("egressAllowlist[%d]", i), "%s", err.Error())
		}
		c.EgressAllowlist = append(c.EgressAllowlist, e)
	}
	c.Enabled = true
	if req.Enabled != nil {
		c.Enabled = *req.Enabled
	}
	return c, nil
}

// envValue reads the env value k of a request: a bare string (a secret),
// or {"value","secret"} (secret unless "secret": false). A secret sent
// back as Mask, or without a value, keeps the stored value. A stored
// secret becomes plain only with its value given again, so a secret
// cannot be read back by flipping it to plain.
func envValue(k string, raw json.RawMessage, old store.Connection, exists bool) (value string, secret bool, err error) {
	stored, had := "", false
	if exists {
		stored, had = old.Env[k]
	}
	wasSecret := had && !slices.Contains(old.PlainEnv, k)
	var bare string
	if err := json.Unmarshal(raw, &bare); err == nil && len(raw) > 0 && raw[0] == '"' {
		if bare == Mask && had {
			return stored, true, nil
		}
		return bare, true, nil
	}
	shape := invalidField("env."+k, `must be a string (a secret) or {"value": "...", "secret": false}`)
	var e envEntry
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if len(raw) == 0 || raw[0] != '{' || dec.Decode(&e) != nil {
		return "", false, shape
	}
	secret = e.Secret == nil || *e.Secret
	switch {
	case secret && (e.Value == nil || *e.Value == Mask) && had:
		return stored, true, nil
	case secret && e.Value == nil:
		return "", false, invalidField("env."+k, "has no value (and none is stored)")
	case secret:
		return *e.Value, true, nil
	case (e.Value == nil || *e.Value == Mask) && wasSecret:
		return "", false, invalidField("env."+k, "is a secret; give its value to make it plain")
	case e.Value == nil && had:
		return stored, false, nil
	case e.Value == nil:
		return "", false, invalidField("env."+k, "has no value (and none is stored)")
	}
	return *e.Value, false, nil
}

// GET /v1/connections -> {"connections":[...]}
func (s *Server) listConnections(c echo.Context) error {
	cs, err := s.cfg.Store.ListConnections(c.Request().Context(), tenantOf(c).ID)
	if err != nil {
		return err
	}
	out := make([]connectionResponse, 0, len(cs))
	for _, conn := range cs {
		out = append(out, connectionDTO(conn))
	}
	return c.JSON(http.StatusOK, map[string]any{"connections": out})
}

// GET /v1/connections/{name}
func (s *Server) getConnection(c echo.Context) error {
	conn, err := s.connection(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, connectionDTO(conn))
}

// DELETE /v1/connections/{name}
func (s *Server) deleteConnection(c echo.Context) error {
	ctx := c.Request().Context()
	conn, err := s.connection(c)
	if err != nil {
		return err
	}
	s.conns.drop(connKey{conn.Tenant, conn.Name})
	if err := s.cfg.Store.DeleteConnection(ctx, conn.Tenant, conn.Name); err != nil {
		return connNotFound(err)
	}
	s.cfg.Runner.Evict(ctx, conn)
	return c.NoContent(http.StatusNoContent)
}

// connection loads the connection named in the path, of the caller's
// tenant only.
func (s *Server) connection(c echo.Context) (store.Connection, error) {
	name := c.Param("name")
	if !connNameRE.MatchString(name) {
		return store.Connection{}, notFound("no such connection")
	}
	return s.connectionOf(c.Request().Context(), tenantOf(c).ID, name)
}

// connectionOf is a connection's configuration, through the connection
// cache.
func (s *Server) connectionOf(ctx context.Context, tenant, name string) (store.Connection, error) {
	key := connKey{tenant, name}
	if conn, ok := s.conns.get(key); ok {
		return conn, nil
	}
	conn, err := s.cfg.Store.GetConnection(ctx, key.tenant, name)
	if err != nil {
		return store.Connection{}, connNotFound(err)
	}
	s.conns.put(key, conn)
	return conn, nil
}

func connNotFound(err error) error {
	if isNotFound(err) {
		return notFound("no such connection")
	}
	return err
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
