#!/usr/bin/env bash
# Rebuilds kernels.wasm from kernels.c (needs Debian's clang and lld, 14 or newer) and checks
# that the module owns no memory: it runs inside tfjs's heap, so data or stack would clobber it.
set -euo pipefail
cd "$(dirname "$0")"
clang --target=wasm32 -O3 -msimd128 -mbulk-memory -nostdlib -ffreestanding -fno-builtin \
  -Wl,--no-entry -Wl,--import-memory -Wl,--strip-all -o kernels.wasm kernels.c
dump=$(llvm-objdump -d -h kernels.wasm 2>/dev/null || llvm-objdump-14 -d -h kernels.wasm)
if grep -qE '^\s*[0-9]+ DATA' <<<"$dump"; then echo "kernels.wasm has a data segment" >&2; exit 1; fi
if grep -q 'global.set' <<<"$dump"; then echo "kernels.wasm uses a shadow stack" >&2; exit 1; fi
echo "kernels.wasm: $(wc -c <kernels.wasm) bytes"
