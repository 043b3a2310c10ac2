package userflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/userflow"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
	"github.com/sluice-dev/sluice/store"
)

// engineConnector runs a real connector module through a real engine;
// calls counts the calls per function.
type engineConnector struct {
	e     *engine.Engine
	m     *engine.Module
	pool  string
	calls sync.Map // function -> *atomic.Int64
	// cancelAfter cancels cancel once listUsers ran this many times.
	cancelAfter int64
	cancel      context.CancelFunc
}

func (c *engineConnector) Implements(fn string) bool { return c.m.Info().Implements(fn) }

func (c *engineConnector) Call(ctx context.Context, fn string, in json.RawMessage) (json.RawMessage, error) {
	n, _ := c.calls.LoadOrStore(fn, new(atomic.Int64))
	count := n.(*atomic.Int64).Add(1)
	res, err := c.e.Call(ctx, c.m, engine.Request{Tenant: "t1", Pool: c.pool, Function: fn, Input: in})
	if fn == "listUsers" && c.cancel != nil && count >= c.cancelAfter {
		c.cancel()
	}
	if err != nil {
		return nil, err
	}
	return res.Output, nil
}

func (c *engineConnector) count(fn string) int64 {
	n, ok := c.calls.Load(fn)
	if !ok {
		return 0
	}
	return n.(*atomic.Int64).Load()
}

type fixture struct {
	svc   *userflow.Service
	store store.Store
	conn  *engineConnector
	c     userflow.Conn
}

var (
	engOnce sync.Once
	eng     *engine.Engine
	static  *engine.Module
	engErr  error
)

func setup(t *testing.T, mode engine.Mode) *fixture {
	t.Helper()
	wasm := wasmbuild.Test(t, "../../examples/static")
	engOnce.Do(func() {
		eng, engErr = engine.New(context.Background(), engine.Config{CacheDir: filepath.Join(wasmbuild.DefaultCacheDir(), "..", "compile-test")})
		if engErr == nil {
			static, engErr = eng.Load(context.Background(), wasm)
		}
	})
	if engErr != nil {
		t.Fatal(engErr)
	}
	st, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "s.db"), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tenant, err := st.CreateTenant(t.Context(), "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutConnection(t.Context(), store.Connection{
		Tenant: tenant.ID, Name: "legacy", Mode: store.Mode(mode), DBType: "postgres",
		Connection: store.ConnParams{URI: "postgres://legacy.example.com/users"}, Enabled: true,
	}); err != nil {
		t.Fatal(err)
	}
	conn := &engineConnector{e: eng, m: static, pool: t.Name()}
	f := &fixture{
		svc:   userflow.New(userflow.Config{Store: st, ImportPageSize: 2}),
		store: st,
		conn:  conn,
		c:     userflow.Conn{Tenant: tenant.ID, Name: "legacy", Mode: mode, Connector: conn, Context: userflow.CallContext{Tenant: tenant.ID, Connection: "legacy", RequestID: "r1"}},
	}
	return f
}

func code(err error) engine.Code {
	var ee *engine.Error
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ""
}

func TestLazyLoginMigratesOnce(t *testing.T) {
	f := setup(t, engine.ModeLazyMigration)
	ctx := t.Context()
	alice := userflow.LoginRequest{Account: "alice@example.com", Password: "wonderland"}

	if _, err := f.svc.Login(ctx, f.c, userflow.LoginRequest{Account: "alice@example.com", Password: "nope"}); code(err) != engine.CodeWrongPassword || err.Error() != userflow.ErrBadCredentials.Error() {
		t.Fatalf("wrong password before migration: %v", err)
	}
	if p := userflow.Precise(mustErr(f.svc.Login(ctx, f.c, userflow.LoginRequest{Email: "zed@example.com", Password: "x"}))); p != engine.CodeUserNotFound {
		t.Fatalf("precise code of an unknown user: %s", p)
	}
	res, err := f.svc.Login(ctx, f.c, alice)
	if err != nil || res.Source != "connector" || res.User.Email != "alice@example.com" || res.User.ID == "1" {
		t.Fatalf("first login: %+v %v", res, err)
	}
	before := f.conn.count("login")
	again, err := f.svc.Login(ctx, f.c, alice)
	if err != nil || again.Source != "local" || again.User.ID != res.User.ID || again.User.Nickname != "Alice" {
		t.Fatalf("second login: %+v %v", again, err)
	}
	if after := f.conn.count("login"); after != before {
		t.Fatalf("the connector was called again: %d -> %d", before, after)
	}
	if _, err := f.svc.Login(ctx, f.c, userflow.LoginRequest{Username: "alice", Password: "nope"}); code(err) != engine.CodeWrongPassword {
		t.Fatalf("wrong password after migration: %v", err)
	}
	if f.conn.count("login") != before {
		t.Fatal("a local wrong password reached the connector")
	}
	u, err := f.store.GetUserByLogin(ctx, f.c.Tenant, "legacy", store.LoginEmail, "alice@example.com")
	if err != nil || u.ExternalID != "1" || u.Source != store.SourceConnector || u.PasswordHash[:10] != "$argon2id$" {
		t.Fatalf("stored user %+v %v", u, err)
	}
	audit, _ := f.store.ListAudit(ctx, f.c.Tenant, store.AuditQuery{})
	if len(audit) != 5 || audit[0].Code != "wrong_password" || audit[0].Action != "login" {
		t.Fatalf("audit %+v", audit)
	}
}

func mustErr(_ *userflow.LoginResult, err error) error { return err }

func TestConcurrentFirstLoginsMigrateOneUser(t *testing.T) {
	f := setup(t, engine.ModeLazyMigration)
	var wg sync.WaitGroup
	// Eight at once: enough to race the migration, few enough that a
	// loaded 2-core machine runs them all within the call's time limit.
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.svc.Login(context.Background(), f.c, userflow.LoginRequest{Email: "bob@example.com", Password: "canwefixit"})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = res.User.ID
		}()
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("different users: %v", ids)
		}
	}
	if _, total, _ := f.store.ListUsers(t.Context(), f.c.Tenant, "legacy", 1, 100); total != 1 {
		t.Fatalf("%d local users", total)
	}
}

func TestLazyRegister(t *testing.T) {
	f := setup(t, engine.ModeLazyMigration)
	ctx := t.Context()
	tests := []struct {
		name string
		user userflow.NewUser
		want engine.Code
	}{
		{"legacy email", userflow.NewUser{Email: "carol@example.org", Password: "longenough"}, engine.CodeUserExists},
		{"legacy username", userflow.NewUser{Username: "dave", Password: "longenough"}, engine.CodeUserExists},
		{"bad email", userflow.NewUser{Email: "not-an-email", Password: "longenough"}, engine.CodeInvalidInput},
		{"bad phone", userflow.NewUser{Phone: "0123", Password: "longenough"}, engine.CodeInvalidInput},
		{"short password", userflow.NewUser{Email: "new@example.com", Password: "short"}, engine.CodeInvalidInput},
		{"nothing to log in with", userflow.NewUser{Nickname: "x", Password: "longenough"}, engine.CodeInvalidInput},
		{"new", userflow.NewUser{Email: "new@example.com", Phone: "+15550001111", Password: "longenough"}, ""},
		{"local duplicate", userflow.NewUser{Email: "NEW@example.com", Password: "longenough"}, engine.CodeUserExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Register(ctx, f.c, tt.user)
			if code(err) != tt.want || (tt.want == "" && err != nil) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	res, err := f.svc.Login(ctx, f.c, userflow.LoginRequest{Account: "+15550001111", Password: "longenough"})
	if err != nil || res.Source != "local" {
		t.Fatalf("login of the registered user: %+v %v", res, err)
	}
}

func TestLazyManagesMigratedUsersLocally(t *testing.T) {
	f := setup(t, engine.ModeLazyMigration)
	ctx := t.Context()
	res, err := f.svc.Login(ctx, f.c, userflow.LoginRequest{Email: "alice@example.com", Password: "wonderland"})
	if err != nil {
		t.Fatal(err)
	}
	id := res.User.ID
	if l, err := f.svc.List(ctx, f.c, 1, 10); err != nil || l.TotalCount != 1 || l.List[0].ID != id {
		t.Fatalf("list %+v %v", l, err)
	}
	if l, err := f.svc.Search(ctx, f.c, "alice", 1, 10); err != nil || l.TotalCount != 1 {
		t.Fatalf("search %+v %v", l, err)
	}
	nick, pw := "Al", "looking-glass"
	if p, err := f.svc.Update(ctx, f.c, id, userflow.Updates{Nickname: &nick, Password: &pw}); err != nil || p.Nickname != "Al" {
		t.Fatalf("update %+v %v", p, err)
	}
	if ok, err := f.svc.ValidatePassword(ctx, f.c, id, pw); err != nil || !ok {
		t.Fatalf("validate new password: %v %v", ok, err)
	}
	if ok, _ := f.svc.ValidatePassword(ctx, f.c, id, "wonderland"); ok {
		t.Fatal("the old password still validates")
	}
	if _, err := f.svc.Delete(ctx, f.c, id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, f.c, id); code(err) != engine.CodeUserNotFound {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := f.svc.List(ctx, f.c, 0, 10); code(err) != engine.CodeInvalidInput {
		t.Fatalf("page 0: %v", err)
	}
	if _, err := f.svc.List(ctx, f.c, 1, 1000); code(err) != engine.CodeInvalidInput {
		t.Fatalf("limit 1000: %v", err)
	}
}

func TestFinishMigrationResumes(t *testing.T) {
	f := setup(t, engine.ModeLazyMigration)
	ctx := t.Context()
	if _, err := f.svc.Login(ctx, f.c, userflow.LoginRequest{Email: "alice@example.com", Password: "wonderland"}); err != nil {
		t.Fatal(err)
	}
	st, err := f.svc.Migration(ctx, f.c)
	if err != nil || st.MigratedUsers != 1 || st.LegacyTotal == nil || *st.LegacyTotal != 4 || *st.MigratedShare != 0.25 {
		t.Fatalf("status %+v %v", st, err)
	}
	// Stop the job in its second page (page size 2).
	runCtx, cancel := context.WithCancel(ctx)
	f.conn.cancel, f.conn.cancelAfter = cancel, f.conn.count("listUsers")+2
	job, err := f.svc.StartFinish(ctx, f.c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.StartFinish(ctx, f.c); !errors.Is(err, userflow.ErrMigrationRunning) {
		t.Fatalf("a second start: %v", err)
	}
	job, err = f.svc.RunFinish(runCtx, f.c, job)
	if err != nil || job.Status != store.JobCanceled || job.NextPage != 2 || job.Imported != 1 {
		t.Fatalf("stopped job %+v %v", job, err)
	}
	f.conn.cancel = nil
	job, err = f.svc.StartFinish(ctx, f.c)
	if err != nil || job.NextPage != 2 {
		t.Fatalf("resume %+v %v", job, err)
	}
	job, err = f.svc.RunFinish(ctx, f.c, job)
	if err != nil || job.Status != store.JobDone || job.Imported != 3 {
		t.Fatalf("finished job %+v %v", job, err)
	}
	st, _ = f.svc.Migration(ctx, f.c)
	if st.MigratedUsers != 4 || *st.MigratedShare != 1 || st.Finish.Status != store.JobDone {
		t.Fatalf("final status %+v", st)
	}
	// An imported user has no password yet: the next login goes to the
	// connector once, then is local.
	u, _ := f.store.GetUserByLogin(ctx, f.c.Tenant, "legacy", store.LoginUsername, "dave")
	if u.PasswordSet || u.Source != store.SourceImport {
		t.Fatalf("imported %+v", u)
	}
	res, err := f.svc.Login(ctx, f.c, userflow.LoginRequest{Username: "dave", Password: "opensesame"})
	if err != nil || res.Source != "connector" || res.User.ID != u.ID {
		t.Fatalf("imported user's first login %+v %v", res, err)
	}
	res, err = f.svc.Login(ctx, f.c, userflow.LoginRequest{Username: "dave", Password: "opensesame"})
	if err != nil || res.Source != "local" {
		t.Fatalf("imported user's second login %+v %v", res, err)
	}
}

func TestCustomUserStoreKeepsNothingLocally(t *testing.T) {
	f := setup(t, engine.ModeCustomUserStore)
	ctx := t.Context()
	res, err := f.svc.Login(ctx, f.c, userflow.LoginRequest{Account: "alice", Password: "wonderland"})
	if err != nil || res.Source != "connector" || res.User.ID != "1" {
		t.Fatalf("login %+v %v", res, err)
	}
	if _, err := f.svc.Register(ctx, f.c, userflow.NewUser{Email: "bob@example.com", Password: "longenough"}); code(err) != engine.CodeUserExists {
		t.Fatalf("register existing: %v", err)
	}
	p, err := f.svc.Register(ctx, f.c, userflow.NewUser{Email: "erin@example.com", Username: "erin", Password: "longenough"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.svc.Get(ctx, f.c, p.ID); err != nil || got.Email != "erin@example.com" {
		t.Fatalf("get %+v %v", got, err)
	}
	if l, err := f.svc.List(ctx, f.c, 1, 10); err != nil || l.TotalCount != 5 {
		t.Fatalf("list %+v %v", l, err)
	}
	if l, err := f.svc.Search(ctx, f.c, "erin", 1, 10); err != nil || l.TotalCount != 1 {
		t.Fatalf("search %+v %v", l, err)
	}
	nick := "E"
	if got, err := f.svc.Update(ctx, f.c, p.ID, userflow.Updates{Nickname: &nick}); err != nil || got.Nickname != "E" {
		t.Fatalf("update %+v %v", got, err)
	}
	if ok, err := f.svc.ValidatePassword(ctx, f.c, p.ID, "longenough"); err != nil || !ok {
		t.Fatalf("validate %v %v", ok, err)
	}
	if _, err := f.svc.Delete(ctx, f.c, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, f.c, p.ID); code(err) != engine.CodeUserNotFound {
		t.Fatalf("get deleted: %v", err)
	}
	if _, total, _ := f.store.ListUsers(ctx, f.c.Tenant, "legacy", 1, 100); total != 0 {
		t.Fatalf("%d users stored locally in CUSTOM_USER_STORE mode", total)
	}
}

// A flow whose client is gone before it starts asks nothing of the
// connector and writes nothing: audited client_canceled.
func TestClientGoneBeforeStart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		action string
		run    func(ctx context.Context, f *fixture) error
	}{
		{"first login", "login", func(ctx context.Context, f *fixture) error {
			_, err := f.svc.Login(ctx, f.c, userflow.LoginRequest{Account: "alice@example.com", Password: "wonderland"})
			return err
		}},
		{"register", "register", func(ctx context.Context, f *fixture) error {
			_, err := f.svc.Register(ctx, f.c, userflow.NewUser{Email: "erin@example.com", Password: "longenough"})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t, engine.ModeLazyMigration)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := tc.run(ctx, f); code(err) != userflow.CodeClientCanceled {
				t.Fatalf("err %v, want client_canceled", err)
			}
			if n := f.conn.count("login") + f.conn.count("getUser"); n != 0 {
				t.Fatalf("%d connector calls", n)
			}
			if _, total, _ := f.store.ListUsers(t.Context(), f.c.Tenant, "legacy", 1, 10); total != 0 {
				t.Fatalf("%d users stored", total)
			}
			audit, _ := f.store.ListAudit(t.Context(), f.c.Tenant, store.AuditQuery{})
			if len(audit) != 1 || audit[0].Action != tc.action || audit[0].Code != "client_canceled" {
				t.Fatalf("audit %+v", audit)
			}
		})
	}
}
