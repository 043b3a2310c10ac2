package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-dev/sluice/api"
	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/hostfuncs/egress"
	"github.com/sluice-dev/sluice/internal/calllog"
	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/store"
)

// Files serve keeps in the data directory.
const (
	operatorTokenFile = "operator-token"
	masterKeyFile     = "master.key"
	cacheDirName      = "cache"
)

// serve runs the server until ctx ends (SIGINT/SIGTERM in main), then
// shuts it down gracefully. Flags fall back to SLUICE_* variables.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("serve", flag.ContinueOnError)
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), "usage: sluice serve [flags]\n\nruns the server until SIGINT or SIGTERM; every flag falls back to its SLUICE_* variable.\n\n")
		flags.PrintDefaults()
	}
	addr := flags.String("addr", serveEnv("SLUICE_ADDR", "127.0.0.1:8080"), "listen address (SLUICE_ADDR)")
	dataDir := flags.String("data-dir", serveEnv("SLUICE_DATA_DIR", "./sluice-data"), "embedded store, compile cache, generated keys (SLUICE_DATA_DIR)")
	storeURL := flags.String("store", os.Getenv("SLUICE_STORE"), "postgres:// URL of a store shared by several nodes; default: SQLite in --data-dir (SLUICE_STORE)")
	opToken := flags.String("operator-token", os.Getenv("SLUICE_OPERATOR_TOKEN"), "token of /v1/admin/*; generated into <data-dir>/operator-token when empty (SLUICE_OPERATOR_TOKEN)")
	masterKey := flags.String("master-key", os.Getenv("SLUICE_MASTER_KEY"), "base64 of 32 bytes encrypting secrets at rest; generated into <data-dir>/master.key when empty (SLUICE_MASTER_KEY)")
	publicIPs := flags.String("public-ips", os.Getenv("SLUICE_PUBLIC_IPS"), "comma-separated egress IPs shown to tenants (SLUICE_PUBLIC_IPS)")
	// Kept only to refuse it with directions: private networks are a
	// tenant's grant now (quotas allowPrivateNetworks, privateNetworks).
	allowPrivate := flags.Bool("allow-private-networks", serveEnvBool("SLUICE_ALLOW_PRIVATE_NETWORKS"), "removed: grant private networks per tenant with the quotas allowPrivateNetworks and privateNetworks")
	shutdownTimeout := flags.Duration("shutdown-timeout", serveEnvDuration("SLUICE_SHUTDOWN_TIMEOUT", 30*time.Second), "how long calls in flight may finish at shutdown (SLUICE_SHUTDOWN_TIMEOUT)")
	trustProxy := flags.Bool("trust-proxy", serveEnvBool("SLUICE_TRUST_PROXY"), "take client IPs from X-Forwarded-For (SLUICE_TRUST_PROXY)")
	memBudget := flags.String("memory-budget", serveEnv("SLUICE_MEMORY_BUDGET", ""), "guest memory and tables of all instances together, e.g. 8GiB; default half the machine's memory (SLUICE_MEMORY_BUDGET)")
	guestSlots := flags.Int("guest-slots", serveEnvInt("SLUICE_GUEST_SLOTS", 0), "calls running guest code at once, shared fairly between tenants; default one per core (SLUICE_GUEST_SLOTS)")
	instanceRate := flags.Float64("instance-rate", serveEnvFloat("SLUICE_INSTANCE_RATE", 20), "instances one tenant's calls may lose per second on this node (traps, exhausted stack or memory, timeouts), after a burst of --instance-burst; past it the tenant's calls needing a new instance wait (SLUICE_INSTANCE_RATE)")
	instanceBurst := flags.Int("instance-burst", serveEnvInt("SLUICE_INSTANCE_BURST", 32), "instances one tenant's calls may lose at once before --instance-rate applies (SLUICE_INSTANCE_BURST)")
	warmJS := flags.Bool("warm-javascript", serveEnvBoolOr("SLUICE_WARM_JAVASCRIPT", true), "compile the JavaScript runtime module at start, in the background, so that the node's first script upload does not wait for it (seconds on a fresh node; a compile-cache hit after a restart) (SLUICE_WARM_JAVASCRIPT)")
	moduleLimits := flags.String("module-limits", os.Getenv("SLUICE_MODULE_LIMITS"), "module limits over the defaults as name=value,..., e.g. maxNestingDepth=4096,maxFunctions=50000; names: "+strings.Join(engine.ModuleLimitNames(), ", ")+" (SLUICE_MODULE_LIMITS)")
	compileTimeout := flags.Duration("compile-timeout", serveEnvDuration("SLUICE_COMPILE_TIMEOUT", engine.DefaultCompileTimeout), "how long compiling one module may take (SLUICE_COMPILE_TIMEOUT)")
	compileMemory := flags.String("compile-memory", serveEnv("SLUICE_COMPILE_MEMORY", "2GiB"), "how much memory compiling one module may take (SLUICE_COMPILE_MEMORY)")
	clusterHeartbeat := flags.Duration("cluster-heartbeat", serveEnvDuration("SLUICE_CLUSTER_HEARTBEAT", cluster.DefaultHeartbeat), "with a PostgreSQL store: how often this node refreshes its membership row and reads the live nodes (SLUICE_CLUSTER_HEARTBEAT)")
	clusterTTL := flags.Duration("cluster-ttl", serveEnvDuration("SLUICE_CLUSTER_TTL", cluster.DefaultTTL), "with a PostgreSQL store: how long a silent node counts as live, at least three heartbeats (SLUICE_CLUSTER_TTL)")
	maxVersions := flags.Int("max-versions", serveEnvInt("SLUICE_MAX_VERSIONS", api.DefaultMaxVersions), "versions a connection keeps; an upload over it prunes the oldest inactive ones, never the active one; negative keeps all (SLUICE_MAX_VERSIONS)")
	callLogCalls := flags.Int("call-log-max-calls", serveEnvInt("SLUICE_CALL_LOG_MAX_CALLS", calllog.DefaultMaxCalls), "calls the production call log keeps per connection, the oldest dropped first; 0 turns the log off (SLUICE_CALL_LOG_MAX_CALLS)")
	callLogBytes := flags.String("call-log-max-bytes", serveEnv("SLUICE_CALL_LOG_MAX_BYTES", "8MiB"), "bytes of records the call log keeps per connection, the oldest dropped first (SLUICE_CALL_LOG_MAX_BYTES)")
	callLogQueue := flags.Int("call-log-queue", serveEnvInt("SLUICE_CALL_LOG_QUEUE", calllog.DefaultQueueSize), "calls waiting to be written to the call log; beyond it calls are not logged and counted in sluice_call_log_records_total{result=\"dropped_queue_full\"} (SLUICE_CALL_LOG_QUEUE)")
	if err := parseFlags(flags, args, stdout, stderr); err != nil {
		return exitOf(err)
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "sluice serve: unexpected arguments: %s\n", strings.Join(flags.Args(), " "))
		return 2
	}
	var logOut *logWriter // the log's lines, batched (once made)
	fail := func(format string, args ...any) int {
		if logOut != nil {
			logOut.flush() // the lines that led here first
		}
		fmt.Fprintf(stderr, "sluice serve: "+format+"\n", args...)
		return 1
	}
	limits, err := engine.ParseModuleLimits(*moduleLimits, engine.ModuleLimits{})
	if err != nil {
		fmt.Fprintf(stderr, "sluice serve: --module-limits: %v\n", err)
		return 2
	}
	compileMem, err := parseSize(*compileMemory)
	if err != nil {
		fmt.Fprintf(stderr, "sluice serve: --compile-memory: %v\n", err)
		return 2
	}
	logBytes, err := parseSize(*callLogBytes)
	if err != nil || logBytes <= 0 || *callLogCalls < 0 || *callLogQueue <= 0 {
		fmt.Fprintf(stderr, "sluice serve: --call-log-max-calls must be 0 (off) or more, --call-log-max-bytes a positive size (e.g. 8MiB), --call-log-queue positive\n")
		return 2
	}
	worker, err := compileWorkerCommand()
	if err != nil {
		return fail("compile worker: %v", err)
	}
	if *allowPrivate {
		fmt.Fprint(stderr, removedAllowPrivate)
		return 2
	}
	if *clusterHeartbeat <= 0 || *clusterTTL < 3**clusterHeartbeat {
		fmt.Fprintf(stderr, "sluice serve: --cluster-ttl (%v) must be at least three --cluster-heartbeat (%v), which must be positive\n", *clusterTTL, *clusterHeartbeat)
		return 2
	}
	if !(*instanceRate > 0) || *instanceBurst < 1 {
		fmt.Fprintf(stderr, "sluice serve: --instance-rate (%g) must be above 0 and --instance-burst (%d) at least 1\n", *instanceRate, *instanceBurst)
		return 2
	}
	if *maxVersions == 0 || *maxVersions == 1 {
		fmt.Fprintf(stderr, "sluice serve: --max-versions: %d is too few: the active version and an upload must both fit (at least 2; negative keeps all)\n", *maxVersions)
		return 2
	}

	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return fail("data dir: %v", err)
	}
	var key []byte
	if *masterKey != "" {
		key, err = store.ParseMasterKey(*masterKey)
	} else {
		key, err = store.LoadOrCreateMasterKey(filepath.Join(*dataDir, masterKeyFile))
	}
	if err != nil {
		return fail("master key: %v", err)
	}
	token, tokenPath, created := *opToken, "", false
	if token == "" {
		tokenPath = filepath.Join(*dataDir, operatorTokenFile)
		if token, created, err = loadOrCreateToken(tokenPath); err != nil {
			return fail("operator token: %v", err)
		}
	}

	logOut = newLogWriter(stderr, 100*time.Millisecond, 64<<10)
	defer logOut.Close()
	logger := slog.New(slog.NewJSONHandler(logOut, nil))
	st, err := store.Open(ctx, store.Config{URL: *storeURL, DataDir: *dataDir, MasterKey: key})
	if err != nil {
		return fail("%v", err)
	}
	defer st.Close()
	budget, err := memoryBudget(*memBudget)
	if err != nil {
		return fail("--memory-budget: %v", err)
	}
	eng, err := engine.New(ctx, engine.Config{
		CacheDir:           filepath.Join(*dataDir, cacheDirName),
		MaxModuleBytes:     int(store.MaxModuleBytes), // the tenant's quota decides
		NodeMemoryBytes:    budget,
		GuestSlots:         *guestSlots,
		InstanceRate:       *instanceRate,
		InstanceBurst:      *instanceBurst,
		ModuleLimits:       limits,
		CompileWorker:      worker,
		CompileTimeout:     *compileTimeout,
		CompileMemoryBytes: compileMem,
	})
	if err != nil {
		return fail("%v", err)
	}
	defer eng.Close(context.Background())
	// The store's own address stays closed to tenants unless a grant
	// names it, as loopback and this node's addresses do.
	protected, err := storeProtected(ctx, *storeURL)
	if err != nil {
		return fail("%v", err)
	}
	hosts := hostfuncs.New(hostfuncs.Config{Egress: egress.Config{Protected: protected}})
	defer hosts.Close()

	// With a shared store the nodes divide the tenants' rate and
	// concurrency quotas; the embedded store is one node's alone.
	registry := prometheus.NewRegistry()
	var members *cluster.Membership
	if *storeURL != "" {
		members, err = cluster.Join(ctx, cluster.Config{Store: st, Heartbeat: *clusterHeartbeat, TTL: *clusterTTL, Logger: logger})
		if err != nil {
			return fail("%v", err)
		}
		defer func() {
			lctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := members.Leave(lctx); err != nil {
				logger.Warn("cluster leave", "error", err.Error())
			}
		}()
		if err := registry.Register(members); err != nil {
			return fail("%v", err)
		}
	}
	var calls *calllog.Log
	if *callLogCalls > 0 {
		calls = calllog.New(calllog.Config{Store: st, MaxCalls: *callLogCalls, MaxBytes: int64(logBytes), QueueSize: *callLogQueue, Logger: logger})
		defer func() { // after the server stopped: write what is queued
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := calls.Close(cctx); err != nil {
				logger.Warn("call log close", "error", err.Error())
			}
		}()
	}
	icfg := invoke.Config{Engine: eng, Store: st, Hosts: hosts, CallLog: calls}
	if members != nil {
		icfg.Cluster = members
	}
	runner, err := invoke.New(icfg)
	if err != nil {
		return fail("%v", err)
	}
	if *warmJS {
		go func() {
			start := time.Now()
			if err := runner.WarmJavaScript(ctx); err != nil {
				if ctx.Err() == nil {
					logger.Warn("javascript runtime: not compiled at start; the first script upload will", "error", err.Error())
				}
				return
			}
			logger.Info("javascript runtime ready", "took", time.Since(start).Round(time.Millisecond).String())
		}()
	}
	srv, err := api.New(api.Config{
		Runner: runner, Store: st, Registry: registry,
		OperatorToken: token,
		PublicIPs:     splitComma(*publicIPs),
		Logger:        logger,
		TrustProxy:    *trustProxy,
		MaxVersions:   *maxVersions,
		CallLog:       calls,
	})
	if err != nil {
		return fail("%v", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail("%v", err)
	}
	httpSrv := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	httpSrv.RegisterOnShutdown(srv.StopStreams) // open streams would hold Shutdown
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()

	base := "http://" + ln.Addr().String()
	where := "embedded SQLite in " + filepath.Join(*dataDir, store.SQLiteFile)
	if *storeURL != "" {
		where = "PostgreSQL"
	}
	fmt.Fprintf(stdout, "sluice: listening on %s (store: %s)\n", base, where)
	tokenRef := "$SLUICE_OPERATOR_TOKEN"
	switch {
	case tokenPath != "" && created:
		fmt.Fprintf(stdout, "sluice: generated an operator token into %s (keep it secret)\n", tokenPath)
		tokenRef = "$(cat " + tokenPath + ")"
	case tokenPath != "":
		fmt.Fprintf(stdout, "sluice: operator token in %s\n", tokenPath)
		tokenRef = "$(cat " + tokenPath + ")"
	default:
		fmt.Fprintln(stdout, "sluice: operator token from --operator-token / SLUICE_OPERATOR_TOKEN")
	}
	fmt.Fprintf(stdout, "sluice: the web console is at %s/console/ (sign in with the operator token)\n", base)
	fmt.Fprintf(stdout, "next: create a tenant (its API key is shown once):\n  curl -X POST %s/v1/admin/tenants -H \"Authorization: Bearer %s\" -d '{\"name\":\"my-tenant\"}'\n", base, tokenRef)

	select {
	case err := <-served:
		return fail("%v", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "sluice: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	code := 0
	if err := httpSrv.Shutdown(sctx); err != nil {
		logger.Warn("http shutdown", "error", err.Error())
		code = 1
	}
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("calls still running at shutdown", "error", err.Error())
		code = 1
	}
	return code // the deferred closes release host pools, engine and store
}

// removedAllowPrivate answers --allow-private-networks.
const removedAllowPrivate = `sluice serve: --allow-private-networks (SLUICE_ALLOW_PRIVATE_NETWORKS) is no longer supported:
it opened private networks, and this node's own loopback, to every tenant.
Grant private networks per tenant instead, through the tenant's quotas:
  curl -X PUT .../v1/admin/tenants/TENANT/quotas -H "Authorization: Bearer $TOKEN" \
    -d '{"allowPrivateNetworks":true,"privateNetworks":["10.0.0.0/8"]}'
An empty privateNetworks grants every private range. Loopback, this node's own
addresses and the store's stay closed unless privateNetworks names them
(127.0.0.1/32, 10.0.0.5:5432). Start again without the flag.
`

// storeProtected returns the addresses of a PostgreSQL store (every host
// of its URL, resolved now) as protected egress ranges; none for the
// embedded store or a unix socket.
func storeProtected(ctx context.Context, url string) ([]egress.Protected, error) {
	if url == "" {
		return nil, nil
	}
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: postgres url: %w", err)
	}
	var hostports []string
	add := func(host string, port uint16) {
		if host != "" && !strings.HasPrefix(host, "/") {
			hostports = append(hostports, net.JoinHostPort(host, strconv.Itoa(int(port))))
		}
	}
	add(cfg.Host, cfg.Port)
	for _, fb := range cfg.Fallbacks {
		add(fb.Host, fb.Port)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := egress.ProtectHosts(rctx, nil, "the control-plane store's address", hostports...)
	if err != nil {
		return nil, fmt.Errorf("store address: %w", err)
	}
	return p, nil
}

// loadOrCreateToken reads the operator token at path, or generates one
// there (0600) and reports that it did.
func loadOrCreateToken(path string) (token string, created bool, err error) {
	if b, err := os.ReadFile(path); err == nil {
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, false, nil
		}
		return "", false, fmt.Errorf("%s is empty", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", false, err
	}
	token = "op_" + base64.RawURLEncoding.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadOrCreateToken(path)
	}
	if err != nil {
		return "", false, err
	}
	_, werr := f.WriteString(token + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return "", false, err
	}
	return token, true, nil
}

func serveEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func serveEnvBool(name string) bool { return serveEnvBoolOr(name, false) }

func serveEnvBoolOr(name string, def bool) bool {
	if b, err := strconv.ParseBool(os.Getenv(name)); err == nil {
		return b
	}
	return def
}

func serveEnvDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

func serveEnvFloat(name string, def float64) float64 {
	if f, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return f
	}
	return def
}

func serveEnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// memoryBudget reads --memory-budget; empty means half of MemTotal in
// /proc/meminfo (no budget where that cannot be read).
func memoryBudget(s string) (uint64, error) {
	if s != "" {
		n, err := parseSize(s)
		if err == nil && n < 64<<20 {
			err = fmt.Errorf("%s is less than the 64MiB one instance may need", s)
		}
		return n, err
	}
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err == nil {
				return kb << 10 / 2, nil
			}
		}
	}
	return 0, nil
}

func splitComma(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
