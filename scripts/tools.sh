#!/usr/bin/env bash
# tools.sh — make sure the command-line tools the tests need are installed.
#
#   scripts/tools.sh    installs what is missing, from Debian's packages:
#                       wat2wasm (package wabt), which builds the WAT sources
#                       of the hostile corpus (engine/testdata/hostile), and
#                       chromium, the headless browser of the console's
#                       end-to-end test (internal/console, driven by chromedp).
#
# Idempotent: it does nothing when every tool is there. Installing needs
# root (CI and our machines run as root) and apt-get.
set -euo pipefail

log() { printf 'tools: %s\n' "$*" >&2; }

# tool -> Debian package
declare -A packages=([wat2wasm]=wabt [chromium]=chromium)

missing=()
for tool in "${!packages[@]}"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		missing+=("${packages[$tool]}")
	fi
done
if ((${#missing[@]} == 0)); then
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
	log "ERROR: missing ${missing[*]} and no apt-get to install them; install them by hand"
	exit 1
fi
sudo=()
if ((EUID != 0)); then
	sudo=(sudo)
fi
log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for tool in "${!packages[@]}"; do
	command -v "$tool" >/dev/null 2>&1 || {
		log "ERROR: $tool still missing after installing ${packages[$tool]}"
		exit 1
	}
done
log "installed ${missing[*]}"
