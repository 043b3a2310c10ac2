#!/usr/bin/env bash
# tools.sh — make sure the command-line tools the tests need are installed.
#
#   scripts/tools.sh    installs what is missing, from Debian's packages:
#                       wat2wasm (package wabt), which builds the WAT sources
#                       of the hostile corpus (engine/testdata/hostile), and
#                       the C toolchain for wasm that builds examples/c:
#                       clang, lld (wasm-ld), wasi-libc (the sysroot) and
#                       libclang-rt-14-dev-wasm32 (compiler-rt builtins), and
#                       chromium, the headless browser of the console's
#                       end-to-end test (internal/console, driven by chromedp).
#
# Idempotent: it does nothing when every tool is there. Installing needs
# root (CI and our machines run as root) and apt-get.
set -euo pipefail

log() { printf 'tools: %s\n' "$*" >&2; }

# tool (a command, or an absolute path glob for a file) -> Debian package
declare -A packages=(
	[wat2wasm]=wabt
	[clang]=clang
	[wasm-ld]=lld
	[/usr/lib/wasm32-wasi/libc.a]=wasi-libc
	[chromium]=chromium
	['/usr/lib/llvm-14/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a']=libclang-rt-14-dev-wasm32
)

# have reports whether tool is there.
have() {
	if [[ $1 == /* ]]; then
		compgen -G "$1" >/dev/null
	else
		command -v "$1" >/dev/null 2>&1
	fi
}

missing=()
for tool in "${!packages[@]}"; do
	if ! have "$tool"; then
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
	have "$tool" || {
		log "ERROR: $tool still missing after installing ${packages[$tool]}"
		exit 1
	}
done
log "installed ${missing[*]}"
