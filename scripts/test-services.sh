#!/usr/bin/env bash
# test-services.sh — bring up / tear down the servers Sluice's tests talk to.
#
#   scripts/test-services.sh up     make sure PostgreSQL (127.0.0.1:5432) and
#                                   MariaDB (127.0.0.1:3306) answer, starting them
#                                   if needed; build and start FerretDB (MongoDB
#                                   wire protocol, 127.0.0.1:27017) unless
#                                   something already listens there.
#   scripts/test-services.sh down   stop the FerretDB that `up` started (the
#                                   system PostgreSQL and MariaDB are left running).
#
# Both are idempotent. Only loopback and the Go module proxy are used.
# Environment: SERVICE_WAIT (seconds to wait for each service, default 60).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
BIN="$ROOT/bin/ferretdb"
PIDFILE="$CACHE/ferretdb.pid"
LOGFILE="$CACHE/ferretdb.log"
DATADIR="$CACHE/ferretdb-data"
WAIT="${SERVICE_WAIT:-60}"

PG_HOST=127.0.0.1 PG_PORT=5432
MY_HOST=127.0.0.1 MY_PORT=3306
MONGO_HOST=127.0.0.1 MONGO_PORT=27017

# Go may not be on PATH in CI; it lives in /usr/local/go/bin on our machines.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="$PATH:/usr/local/go/bin"
fi

log() { printf 'test-services: %s\n' "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() {
	timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" >/dev/null 2>&1
}

pg_ready() {
	if command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2
	else
		port_open "$PG_HOST" "$PG_PORT"
	fi
}

mysql_ready() {
	local admin
	admin="$(command -v mariadb-admin || command -v mysqladmin || true)"
	if [[ -n "$admin" ]]; then
		"$admin" ping --silent --connect-timeout=2 -h "$MY_HOST" -P "$MY_PORT" -u root >/dev/null 2>&1
	else
		port_open "$MY_HOST" "$MY_PORT"
	fi
}

mongo_ready() { port_open "$MONGO_HOST" "$MONGO_PORT"; }

# wait_for CHECK: poll the function CHECK once a second for up to $WAIT seconds.
wait_for() {
	local check="$1" i
	for ((i = 0; i < WAIT; i++)); do
		if "$check"; then
			return 0
		fi
		sleep 1
	done
	return 1
}

start_postgres() {
	if pg_ready; then
		log "PostgreSQL: already accepting connections on $PG_HOST:$PG_PORT"
		return
	fi
	command -v pg_ctlcluster >/dev/null 2>&1 || die "PostgreSQL is not answering on $PG_HOST:$PG_PORT and pg_ctlcluster is not installed"
	local version
	version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
	[[ -n "$version" ]] || die "PostgreSQL is not answering and no cluster is configured in /etc/postgresql"
	log "PostgreSQL: starting cluster $version/main"
	pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
		log "PostgreSQL: pg_ctlcluster returned an error (maybe already starting); waiting anyway"
	wait_for pg_ready || die "PostgreSQL did not accept connections on $PG_HOST:$PG_PORT within ${WAIT}s"
	log "PostgreSQL: ready"
}

start_mariadb() {
	if mysql_ready; then
		log "MariaDB: already accepting connections on $MY_HOST:$MY_PORT"
		return
	fi
	[[ -x /usr/sbin/mariadbd ]] || die "MariaDB is not answering on $MY_HOST:$MY_PORT and /usr/sbin/mariadbd is not installed"
	log "MariaDB: starting /usr/sbin/mariadbd"
	start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
	wait_for mysql_ready || die "MariaDB did not accept connections on $MY_HOST:$MY_PORT within ${WAIT}s"
	log "MariaDB: ready"
}

# ensure_databases creates the `test` databases the default DSNs name, if the
# clients are installed and the databases are missing.
ensure_databases() {
	if command -v psql >/dev/null 2>&1; then
		if [[ "$(psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" 2>/dev/null || true)" != 1 ]]; then
			log "PostgreSQL: creating database test"
			psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -qc 'CREATE DATABASE test' >/dev/null ||
				log "PostgreSQL: could not create database test (continuing)"
		fi
	fi
	local client
	client="$(command -v mariadb || command -v mysql || true)"
	if [[ -n "$client" ]]; then
		"$client" -h "$MY_HOST" -P "$MY_PORT" -u root -e 'CREATE DATABASE IF NOT EXISTS test' >/dev/null 2>&1 ||
			log "MariaDB: could not ensure database test (continuing)"
	fi
}

# our_pid prints the pid of the FerretDB we started, if it is still running.
our_pid() {
	[[ -f "$PIDFILE" ]] || return 1
	local pid
	pid="$(<"$PIDFILE")"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	# Guard against pid reuse: the process must be our runner.
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'ferretdb' || return 1
	printf '%s\n' "$pid"
}

build_ferretdb() {
	command -v go >/dev/null 2>&1 || die "go is not on PATH (looked in /usr/local/go/bin too)"
	log "FerretDB: building $BIN (cached by Go's build cache after the first time)"
	local start=$SECONDS
	(cd "$ROOT/testservices/ferretdb" && go build -o "$BIN" .) ||
		die "FerretDB: build failed"
	log "FerretDB: built in $((SECONDS - start))s"
}

start_ferretdb() {
	local pid
	if pid="$(our_pid)" && mongo_ready; then
		log "FerretDB: already running (pid $pid) on $MONGO_HOST:$MONGO_PORT"
		return
	fi
	if mongo_ready; then
		log "FerretDB: something already listens on $MONGO_HOST:$MONGO_PORT; using it"
		return
	fi
	mkdir -p "$CACHE" "$ROOT/bin"
	build_ferretdb
	rm -f "$PIDFILE"
	rm -rf "$DATADIR"
	mkdir -p "$DATADIR"
	log "FerretDB: starting on $MONGO_HOST:$MONGO_PORT (log: ${LOGFILE#"$ROOT"/})"
	local launcher=()
	if command -v setsid >/dev/null 2>&1; then
		launcher=(setsid) # own session: not killed with the caller's terminal
	fi
	"${launcher[@]}" "$BIN" -listen "$MONGO_HOST:$MONGO_PORT" -data "$DATADIR" -log-level warn \
		</dev/null >"$LOGFILE" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$PIDFILE"
	local i
	for ((i = 0; i < WAIT * 5; i++)); do
		if mongo_ready; then
			log "FerretDB: ready (pid $pid)"
			return
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$PIDFILE"
			tail -n 20 "$LOGFILE" >&2 || true
			die "FerretDB exited during startup (log above, full log in $LOGFILE)"
		fi
		sleep 0.2
	done
	stop_ferretdb
	die "FerretDB did not listen on $MONGO_HOST:$MONGO_PORT within ${WAIT}s (see $LOGFILE)"
}

stop_ferretdb() {
	local pid i
	if ! pid="$(our_pid)"; then
		if [[ -f "$PIDFILE" ]]; then
			log "FerretDB: not running (removing stale pid file)"
			rm -f "$PIDFILE"
		else
			log "FerretDB: not started by this script; nothing to stop"
		fi
		rm -rf "$DATADIR"
		return
	fi
	log "FerretDB: stopping pid $pid"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "FerretDB: still running after 10s; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$PIDFILE"
	rm -rf "$DATADIR"
	log "FerretDB: stopped"
}

usage() {
	echo "usage: $0 up|down" >&2
	exit 2
}

[[ $# -eq 1 ]] || usage
case "$1" in
up)
	start_postgres
	start_mariadb
	ensure_databases
	start_ferretdb
	log "all services up: postgres $PG_HOST:$PG_PORT, mariadb $MY_HOST:$MY_PORT, mongodb (FerretDB) $MONGO_HOST:$MONGO_PORT"
	;;
down)
	stop_ferretdb
	;;
*)
	usage
	;;
esac
