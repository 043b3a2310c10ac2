package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/userflow"
	"github.com/sluice-dev/sluice/store"
)

// userFlowRoutes registers the platform's user flows (DESIGN.md "User
// flows") on the tenant-key group.
func (s *Server) userFlowRoutes(g *echo.Group) {
	g.POST("/:name/login", s.login)
	g.POST("/:name/register", s.register)
	g.GET("/:name/users", s.listUsers)
	g.GET("/:name/users/search", s.searchUsers)
	g.POST("/:name/users", s.createUser)
	g.GET("/:name/users/:id", s.getUser)
	g.PATCH("/:name/users/:id", s.updateUser)
	g.DELETE("/:name/users/:id", s.deleteUser)
	g.POST("/:name/users/:id/validate-password", s.validatePassword)
	g.GET("/:name/migration", s.migration)
	g.POST("/:name/migration/finish", s.finishMigration)
}

// flowConnector calls the active connector of a connection for the user
// flows, under the tenant's quotas like any other call.
type flowConnector struct {
	s    *Server
	t    store.Tenant
	conn store.Connection
	// wait makes a quota rejection wait and retry instead of failing:
	// for background jobs, which should pace themselves, not die.
	wait bool
	info *engine.ModuleInfo
}

func (fc *flowConnector) Implements(fn string) bool {
	if fc.conn.ActiveVersion == 0 {
		return true // Call answers the seed's "Please implement ..." message
	}
	if fc.info == nil {
		ctx := context.Background()
		sum, err := fc.s.versionSHA(ctx, fc.conn, fc.conn.ActiveVersion)
		if err != nil {
			return true // Call reports the problem
		}
		m, err := fc.s.module(ctx, sum)
		if err != nil {
			return true
		}
		fc.info = m.Info()
	}
	return fc.info.Implements(fn)
}

func (fc *flowConnector) Call(ctx context.Context, fn string, input any) (json.RawMessage, error) {
	if fc.conn.ActiveVersion == 0 {
		return nil, engine.NotImplemented(fn)
	}
	in, err := json.Marshal(input)
	if err != nil {
		return nil, err
	}
	for {
		res, err := fc.s.callCtx(ctx, fc.t, fc.conn, 0, fn, in)
		var ae *Error
		if fc.wait && errors.As(err, &ae) && ae.Code == codeQuotaExceeded {
			select {
			case <-time.After(max(ae.RetryAfter, 100*time.Millisecond)):
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if err != nil {
			return nil, err
		}
		if res.Error != nil {
			return nil, res.Error
		}
		return res.Output, nil
	}
}

// flowConn resolves the connection of a user-flow request.
func (s *Server) flowConn(c echo.Context) (userflow.Conn, error) {
	conn, err := s.connection(c)
	if err != nil {
		return userflow.Conn{}, err
	}
	t := tenantOf(c)
	cc := s.callContext(c, conn)
	return userflow.Conn{
		Tenant:    t.ID,
		Name:      conn.Name,
		Mode:      engine.Mode(conn.Mode),
		Disabled:  !conn.Enabled,
		Connector: &flowConnector{s: s, t: t, conn: conn},
		Context: userflow.CallContext{
			Tenant: cc.Tenant, Connection: cc.Connection, RequestID: cc.RequestID, IP: cc.IP, UserAgent: cc.UserAgent,
		},
	}, nil
}

// POST /v1/connections/{name}/login {"account"|"email"|"username"|"phone","password"}
func (s *Server) login(c echo.Context) error {
	fc, err := s.flowConn(c)
	if err != nil {
		return err
	}
	var req userflow.LoginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.flows.Login(c.Request().Context(), fc, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// POST /v1/connections/{name}/register: a profile and a password.
func (s *Server) register(c echo.Context) error {
	fc, err := s.flowConn(c)
	if err != nil {
		return err
	}
	var u userflow.NewUser
	if err := decodeJSON(c, &u); err != nil {
		return err
	}
	p, err := s.flows.Register(c.Request().Context(), fc, u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

// POST /v1/connections/{name}/users: the console's or API's create.
func (s *Server) createUser(c echo.Context) error {
	fc, err := s.flowConn(c)
	if err != nil {
		return err
	}
	var u userflow.NewUser
	if err := decodeJSON(c, &u); err != nil {
		return err
	}
	p, err := s.flows.Create(c.Request().Context(), fc, u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

// paging reads ?page= (default 1) and ?limit= (default 10).
func paging(c echo.Context) (page, limit int, err error) {
	read := func(name string, def int) (int, error) {
		v := c.QueryParam(name)
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, invalidField(name, "%q is not a number", v)
		}
		return n, nil
	}
	if page, err = read("page", 1); err != nil {
		return
	}
	limit, err = read("limit", 10)
	return
}

// GET /v1/connections/{name}/users?page=&limit=
func (s *Server) listUsers(c echo.Context) error {
	fc, err := s.flowConn(c)
	if err != nil {
		return err
	}
	page, limit, err := paging(c)
	if err != nil {
		return err
	}
	l, err := s.flows.List(c.Request().Context(), fc, page, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

// GET /v1/connections/{name}/users/search?keyword=&page=&limit=
func (s *Server) searchUsers(c echo.Context) error {
	fc, err := s.flowConn(c)
	if err != nil {
		return err
	}
	page, limit, err := paging(c)
	if err != nil {
		return err
	}
	l, err := s.flows.Search(c.Request().Context(), fc, c.QueryParam("keyword"), page, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

// GET /v1/connections/{name}/users/{id}
func (s *Server) getUser(c echo.Context) error {
	fc, err := s.flowConn(c)
	if err != nil {
		return err
	}
	p, err := s.flows.Get(c.Request().Context(), fc, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// PATCH /v1/connections/{name}/users/{id}: the fields to change.
func (s *Server) updateUser(c echo.Context) error {
	fc, err := s.flowConn(c)
	if err != nil {
		return err
	}
	var up userflow.Updates
	if err := decodeJSON(c, &up); err != nil {
		return err
	}
	p, err := s.flows.Update(c.Request().Context(), fc, c.Param("id"), up)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// DELETE /v1/connections/{name}/users/{id}
func (s *Server) deleteUser(c echo.Context) error {
	fc, err := s.flowConn(c)
	if err != nil {
		return err
	}
	if err := s.flows.Delete(c.Request().Context(), fc, c.Param("id")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"deleted": true})
}

// POST /v1/connections/{name}/users/{id}/validate-password {"password"}
func (s *Server) validatePassword(c echo.Context) error {
	fc, err := s.flowConn(c)
	if err != nil {
		return err
	}
	var req struct {
		Password *string `json:"password"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Password == nil {
		return invalidField("password", "is required")
	}
	ok, err := s.flows.ValidatePassword(c.Request().Context(), fc, c.Param("id"), *req.Password)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"valid": ok})
}

// GET /v1/connections/{name}/migration: lazy-migration progress.
func (s *Server) migration(c echo.Context) error {
	fc, err := s.flowConn(c)
	if err != nil {
		return err
	}
	st, err := s.flows.Migration(c.Request().Context(), fc)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

// POST /v1/connections/{name}/migration/finish: import every legacy user
// not migrated yet, in the background; GET .../migration follows it.
func (s *Server) finishMigration(c echo.Context) error {
	fc, err := s.flowConn(c)
	if err != nil {
		return err
	}
	if s.draining.Load() {
		return apiErr(http.StatusServiceUnavailable, codeUnavailable, "the server is shutting down")
	}
	job, err := s.flows.StartFinish(c.Request().Context(), fc)
	if errors.Is(err, userflow.ErrMigrationRunning) {
		return apiErr(http.StatusConflict, "migration_running", "%s", userflow.ErrMigrationRunning.Message)
	}
	if err != nil {
		return err
	}
	fcon := fc.Connector.(*flowConnector)
	fcon.wait = true
	fc.Context.RequestID = requestIDOf(c)
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		if _, err := s.flows.RunFinish(s.jobCtx, fc, job); err != nil {
			s.log.Warn("finish migration failed", "tenant", fc.Tenant, "connection", fc.Name, "err", err)
		}
	}()
	return c.JSON(http.StatusAccepted, job)
}
