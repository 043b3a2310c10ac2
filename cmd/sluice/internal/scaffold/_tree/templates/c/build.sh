#!/bin/sh
# build.sh [OUT] — builds this connector into OUT (c.wasm by default) with
# Debian's clang, lld, wasi-libc and libclang-rt-14-dev-wasm32. README.md
# and guest-sdk/ABI.md give the same line; a test checks they agree.
set -eu
cd "$(dirname "$0")"
out=${1:-c.wasm}
clang --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Wextra -Werror -o "$out" main.c sluice.c json.c
