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
	"github.com/sluice-dev/sluice/internal/calllog"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/internal/userflow"
	"github.com/sluice-dev/sluice/store"
)

// userFlowRoutes registers the platform's user flows (docs/contract.md "HTTP API",
// "User flows") on the tenant-key group.
func (s *Server) userFlowRoutes(g *echo.Group) {
	g.POST("/:name/login", flowRoute(s, "login", http.StatusOK, s.login))
	g.POST("/:name/register", flowRoute(s, "register", http.StatusCreated, s.register))
	g.GET("/:name/users", flowRoute(s, "listUsers", http.StatusOK, s.listUsers))
	g.GET("/:name/users/search", flowRoute(s, "searchUsers", http.StatusOK, s.searchUsers))
	g.POST("/:name/users", flowRoute(s, "createUser", http.StatusCreated, s.createUser))
	g.GET("/:name/users/:id", flowRoute(s, "getUser", http.StatusOK, s.getUser))
	g.PATCH("/:name/users/:id", flowRoute(s, "updateUser", http.StatusOK, s.updateUser))
	g.DELETE("/:name/users/:id", flowRoute(s, "deleteUser", http.StatusOK, s.deleteUser))
	g.POST("/:name/users/:id/validate-password", flowRoute(s, "validatePassword", http.StatusOK, s.validatePassword))
	g.GET("/:name/migration", flowRoute(s, "migration", http.StatusOK, s.migration))
	g.POST("/:name/migration/finish", flowRoute(s, "finishMigration", http.StatusAccepted, s.finishMigration))
}

// flowConnector calls the active connector of a connection for the user
// flows through the Runner, under the tenant's quotas like any other call.
type flowConnector struct {
	run  *invoke.Runner
	t    store.Tenant
	conn store.Connection
	// wait makes a quota rejection wait and retry instead of failing:
	// for background jobs, which should pace themselves, not die.
	wait bool
	info *engine.ModuleInfo
	// source, route and reqID describe the calls in the call log.
	source, route, reqID string
}

func (fc *flowConnector) Implements(fn string) bool {
	if fc.conn.ActiveVersion == 0 {
		return false // the seed implements nothing: "Please implement ..."
	}
	if fc.info == nil {
		info, err := fc.run.Info(context.Background(), fc.conn, 0)
		if err != nil {
			return true // Call reports the problem
		}
		fc.info = info
	}
	return fc.info.Implements(fn)
}

func (fc *flowConnector) Call(ctx context.Context, fn string, in json.RawMessage) (json.RawMessage, error) {
	if fc.conn.ActiveVersion == 0 {
		return nil, engine.NotImplemented(fn)
	}
	for {
		res, err := fc.run.Call(ctx, invoke.Call{Tenant: fc.t, Connection: fc.conn, Function: fn, Input: in, Quiet: true,
			Source: fc.source, Route: fc.route, RequestID: fc.reqID})
		var qe *invoke.QuotaError
		if fc.wait && errors.As(err, &qe) {
			select {
			case <-time.After(max(qe.RetryAfter, 100*time.Millisecond)):
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

// flowConn resolves the connection of a request of user-flow route.
func (s *Server) flowConn(c echo.Context, route string) (userflow.Conn, error) {
	conn, err := s.connection(c)
	if err != nil {
		return userflow.Conn{}, err
	}
	t := tenantOf(c)
	return userflow.Conn{
		Tenant:    t.ID,
		Name:      conn.Name,
		Mode:      engine.Mode(conn.Mode),
		Disabled:  !conn.Enabled,
		Connector: &flowConnector{run: s.cfg.Runner, t: t, conn: conn, source: calllog.SourceUserFlow, route: route, reqID: requestIDOf(c)},
		Context:   s.callContext(c, conn),
	}, nil
}

// flowRoute is the handler of user-flow route (its name in the call
// log): it runs fn on the request's
// connection with the decoded JSON body (when In is not struct{}) and
// answers status with fn's result.
func flowRoute[In, Out any](s *Server, route string, status int, fn func(c echo.Context, fc userflow.Conn, in In) (Out, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		fc, err := s.flowConn(c, route)
		if err != nil {
			return err
		}
		var in In
		if _, none := any(in).(struct{}); !none {
			if err := decodeJSON(c, &in); err != nil {
				return err
			}
		}
		out, err := fn(c, fc, in)
		if err != nil {
			return s.flowError(c, err)
		}
		return c.JSON(status, out)
	}
}

// flowError is the answer of a failed user flow: a connector's failure
// is its code and a plain message (userflow.Public), never what the
// connector, a driver or the platform said; that detail goes to the
// server log here and to the audit log (the flows write it), and the
// tenant sees it in full on the debug and test routes.
func (s *Server) flowError(c echo.Context, err error) error {
	pub := userflow.Public(err)
	if pub != err {
		s.log.WarnContext(c.Request().Context(), "user flow: connector call failed",
			"requestId", requestIDOf(c), "tenant", tenantOf(c).ID, "connection", c.Param("name"),
			"path", c.Path(), "code", string(userflow.Precise(err)), "detail", userflow.Detail(err))
	}
	return pub
}

type noBody = struct{}

// POST /v1/connections/{name}/login {"account"|"email"|"username"|"phone","password"}
func (s *Server) login(c echo.Context, fc userflow.Conn, req userflow.LoginRequest) (*userflow.LoginResult, error) {
	return s.flows.Login(c.Request().Context(), fc, req)
}

// POST /v1/connections/{name}/register: a profile and a password.
func (s *Server) register(c echo.Context, fc userflow.Conn, u userflow.NewUser) (*userflow.Profile, error) {
	return s.flows.Register(c.Request().Context(), fc, u)
}

// POST /v1/connections/{name}/users: the console's or API's create.
func (s *Server) createUser(c echo.Context, fc userflow.Conn, u userflow.NewUser) (*userflow.Profile, error) {
	return s.flows.Create(c.Request().Context(), fc, u)
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
func (s *Server) listUsers(c echo.Context, fc userflow.Conn, _ noBody) (*userflow.UserList, error) {
	page, limit, err := paging(c)
	if err != nil {
		return nil, err
	}
	return s.flows.List(c.Request().Context(), fc, page, limit)
}

// GET /v1/connections/{name}/users/search?keyword=&page=&limit=
func (s *Server) searchUsers(c echo.Context, fc userflow.Conn, _ noBody) (*userflow.UserList, error) {
	page, limit, err := paging(c)
	if err != nil {
		return nil, err
	}
	return s.flows.Search(c.Request().Context(), fc, c.QueryParam("keyword"), page, limit)
}

// GET /v1/connections/{name}/users/{id}: in LAZY_MIGRATION {id} is the
// local id or the externalId.
func (s *Server) getUser(c echo.Context, fc userflow.Conn, _ noBody) (*userflow.Profile, error) {
	return s.flows.Get(c.Request().Context(), fc, c.Param("id"))
}

// PATCH /v1/connections/{name}/users/{id}: the fields to change.
func (s *Server) updateUser(c echo.Context, fc userflow.Conn, up userflow.Updates) (*userflow.Profile, error) {
	return s.flows.Update(c.Request().Context(), fc, c.Param("id"), up)
}

// DELETE /v1/connections/{name}/users/{id}
// {"deleted":true}, in LAZY_MIGRATION with "legacy":{"status","code"?}
// for a user that came from the connector.
func (s *Server) deleteUser(c echo.Context, fc userflow.Conn, _ noBody) (*userflow.DeleteResult, error) {
	return s.flows.Delete(c.Request().Context(), fc, c.Param("id"))
}

type passwordBody struct {
	Password *string `json:"password"`
}

// POST /v1/connections/{name}/users/{id}/validate-password {"password"}
func (s *Server) validatePassword(c echo.Context, fc userflow.Conn, req passwordBody) (map[string]bool, error) {
	if req.Password == nil {
		return nil, invalidField("password", "is required")
	}
	ok, err := s.flows.ValidatePassword(c.Request().Context(), fc, c.Param("id"), *req.Password)
	if err != nil {
		return nil, err
	}
	return map[string]bool{"valid": ok}, nil
}

// GET /v1/connections/{name}/migration: lazy-migration progress.
func (s *Server) migration(c echo.Context, fc userflow.Conn, _ noBody) (*userflow.MigrationStatus, error) {
	return s.flows.Migration(c.Request().Context(), fc)
}

// POST /v1/connections/{name}/migration/finish: import every legacy user
// not migrated yet, in the background; GET .../migration follows it.
func (s *Server) finishMigration(c echo.Context, fc userflow.Conn, _ noBody) (*store.MigrationJob, error) {
	if s.draining.Load() {
		return nil, apiErr(http.StatusServiceUnavailable, codeUnavailable, "the server is shutting down")
	}
	job, err := s.flows.StartFinish(c.Request().Context(), fc)
	if errors.Is(err, userflow.ErrMigrationRunning) {
		return nil, apiErr(http.StatusConflict, "migration_running", "%s", userflow.ErrMigrationRunning.Message)
	}
	if err != nil {
		return nil, err
	}
	fcon := fc.Connector.(*flowConnector)
	fcon.wait = true
	fcon.source = calllog.SourceMigration
	fc.Context.RequestID = requestIDOf(c)
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		if _, err := s.flows.RunFinish(s.jobCtx, fc, job); err != nil {
			s.log.Warn("finish migration failed", "tenant", fc.Tenant, "connection", fc.Name, "err", err)
		}
	}()
	return &job, nil
}
