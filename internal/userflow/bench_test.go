package userflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/internal/userflow"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
	"github.com/sluice-dev/sluice/store"
)

// The login benchmarks run the lazy-migration login on 2 cores with the
// examples/postgres connector in wasm, and with the same connector logic
// in plain Go (pgx and bcrypt), in the same run (see BENCHMARKS.md).

// wasmConnector is examples/postgres through the engine and host functions.
type wasmConnector struct {
	e    *engine.Engine
	m    *engine.Module
	host engine.Host
	env  map[string]string
}

func (c *wasmConnector) Implements(fn string) bool { return c.m.Info().Implements(fn) }

func (c *wasmConnector) Call(ctx context.Context, fn string, in json.RawMessage) (json.RawMessage, error) {
	res, err := c.e.Call(ctx, c.m, engine.Request{Tenant: "bench", Pool: "legacy", Function: fn, Input: in, Env: c.env, Host: c.host, Limits: engine.Limits{MaxInstances: 4}})
	if err != nil {
		return nil, err
	}
	return res.Output, nil
}

// nativeConnector is the same login in plain Go.
type nativeConnector struct{ pool *pgxpool.Pool }

func (c *nativeConnector) Implements(fn string) bool { return fn == "login" }

func (c *nativeConnector) Call(ctx context.Context, fn string, input json.RawMessage) (json.RawMessage, error) {
	var in struct {
		Query    map[string]string `json:"query"`
		Password string            `json:"password"`
	}
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, err
	}
	q := in.Query
	var id int64
	var email, username, phone, nickname, hash *string
	err := c.pool.QueryRow(ctx, `SELECT id, email, username, phone, nickname, password_hash FROM users
		WHERE lower(email) = lower($1) OR lower(username) = lower($2) OR phone = $3`,
		q["email"], q["username"], q["phone"]).Scan(&id, &email, &username, &phone, &nickname, &hash)
	if err != nil {
		return nil, engine.Errorf(engine.CodeUserNotFound, "no such user")
	}
	if hash == nil || bcrypt.CompareHashAndPassword([]byte(*hash), []byte(in.Password)) != nil {
		return nil, engine.Errorf(engine.CodeWrongPassword, "wrong password")
	}
	return json.Marshal(userflow.Profile{ID: fmt.Sprint(id), Email: deref(email), Username: deref(username), Phone: deref(phone), Nickname: deref(nickname)})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func benchConn(b *testing.B, kind string, legacyURI string) userflow.Connector {
	b.Helper()
	ctx := context.Background()
	if kind == "native" {
		pool, err := pgxpool.New(ctx, legacyURI)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pool.Close)
		return &nativeConnector{pool: pool}
	}
	e, err := engine.New(ctx, engine.Config{CacheDir: filepath.Join(wasmbuild.DefaultCacheDir(), "..", "compile-test")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close(ctx) })
	m, err := e.Load(ctx, wasmbuild.Test(b, "../../examples/postgres"))
	if err != nil {
		b.Fatal(err)
	}
	hosts := hostfuncs.New(hostfuncs.Config{})
	b.Cleanup(func() { hosts.Close() })
	hc := hostfuncs.Connection{Tenant: "bench", Name: "legacy", ConfigVersion: 1, DBType: "postgres", URI: legacyURI, Allowlist: []string{"127.0.0.1:5432"},
		AllowPrivateNetworks: true, PrivateNetworks: []string{"127.0.0.1/32"}} // the legacy database is on loopback
	host, err := hosts.Host(hc)
	if err != nil {
		b.Fatal(err)
	}
	return &wasmConnector{e: e, m: m, host: host, env: hc.Env(nil)}
}

func benchService(b *testing.B, conn userflow.Connector) (*userflow.Service, userflow.Conn) {
	b.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "s.db"), make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	tenant, _ := st.CreateTenant(context.Background(), "bench", "")
	st.PutConnection(context.Background(), store.Connection{Tenant: tenant.ID, Name: "legacy", Mode: store.Mode(engine.ModeLazyMigration), DBType: "postgres", Connection: store.ConnParams{URI: "postgres://x/y"}, Enabled: true})
	svc := userflow.New(userflow.Config{Store: st})
	return svc, userflow.Conn{Tenant: tenant.ID, Name: "legacy", Mode: engine.ModeLazyMigration, Connector: conn}
}

// BenchmarkLazyLogin: first logins (the connector verifies the legacy
// bcrypt hash at cost 10; Sluice stores an argon2id hash) and later logins
// (local argon2id only), with the connector in wasm and in plain Go.
func BenchmarkLazyLogin(b *testing.B) {
	p := userflow.DefaultArgon2()
	b.Logf("argon2id m=%d KiB t=%d p=%d; legacy bcrypt cost 10", p.MemoryKiB, p.Time, p.Threads)
	for _, kind := range []string{"wasm", "native"} {
		b.Run("first/"+kind, func(b *testing.B) {
			uri := testpg.LegacyUsers(b, b.N)
			svc, c := benchService(b, benchConn(b, kind, uri))
			var next atomic.Int64
			runLogins(b, func() error {
				i := next.Add(1) - 1
				res, err := svc.Login(context.Background(), c, userflow.LoginRequest{Username: fmt.Sprintf("user%d", i), Password: testpg.Password})
				if err == nil && res.Source != "connector" {
					err = fmt.Errorf("source %s", res.Source)
				}
				return err
			})
		})
		b.Run("later/"+kind, func(b *testing.B) {
			uri := testpg.LegacyUsers(b, 4)
			svc, c := benchService(b, benchConn(b, kind, uri))
			for i := 0; i < 4; i++ {
				if _, err := svc.Login(context.Background(), c, userflow.LoginRequest{Username: fmt.Sprintf("user%d", i), Password: testpg.Password}); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			runLogins(b, func() error {
				i := next.Add(1) % 4
				res, err := svc.Login(context.Background(), c, userflow.LoginRequest{Username: fmt.Sprintf("user%d", i), Password: testpg.Password})
				if err == nil && res.Source != "local" {
					err = fmt.Errorf("source %s", res.Source)
				}
				return err
			})
		})
	}
}

// runLogins runs b.N logins on every core and reports logins per second.
func runLogins(b *testing.B, login func() error) {
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := login(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
}
