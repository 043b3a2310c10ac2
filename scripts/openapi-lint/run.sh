#!/usr/bin/env bash
# run.sh — lint api/openapi.yaml with Redocly's CLI (`make openapi-lint`,
# part of `make test`): 0 errors required, warnings printed.
#
# The CLI is installed from the npm registry with `npm ci` into
# .cache/openapi-lint, at the version package-lock.json pins here, again
# only when the lock file changed. Telemetry is off.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache="$root/.cache/openapi-lint"
if ! command -v npm >/dev/null 2>&1; then
	echo 'openapi-lint: ERROR: npm (Node.js) is needed to run Redocly; install Node.js 20.19+ and npm' >&2
	exit 1
fi
mkdir -p "$cache"
if ! cmp -s "$here/package-lock.json" "$cache/package-lock.json" || [ ! -x "$cache/node_modules/.bin/redocly" ]; then
	cp "$here/package.json" "$here/package-lock.json" "$cache/"
	(cd "$cache" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
"$cache/node_modules/.bin/redocly" lint --format=stylish "$root/api/openapi.yaml"
