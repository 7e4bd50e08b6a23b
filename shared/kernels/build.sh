#!/usr/bin/env bash
# Rebuilds kernels.wasm (plain SIMD, clang/lld 14 or newer) and kernels-relaxed.wasm (relaxed SIMD's
# fused multiply-add: clang 16 or newer, `apt-get install clang-16 lld-16` on Debian 12) from
# kernels.c, and checks that neither module owns memory: they run inside tfjs's heap, so data or
# a stack would clobber it. The committed modules come from clang 16 (CLANG=clang-16); clang 14
# (Debian 12's default) builds a different kernels.wasm that passes the same tests.
set -euo pipefail
cd "$(dirname "$0")"
clang=${CLANG:-clang}
relaxed_clang=${RELAXED_CLANG:-$(command -v /usr/lib/llvm-16/bin/clang || command -v clang-16 || echo clang)}
flags=(--target=wasm32 -O3 -msimd128 -mbulk-memory -nostdlib -ffreestanding -fno-builtin
  -Wl,--no-entry -Wl,--import-memory -Wl,--strip-all)
"$clang" "${flags[@]}" -o kernels.wasm kernels.c
"$relaxed_clang" "${flags[@]}" -mrelaxed-simd -o kernels-relaxed.wasm kernels.c
objdump=$(command -v llvm-objdump-16 || command -v llvm-objdump || command -v llvm-objdump-14)
for module in kernels.wasm kernels-relaxed.wasm; do
  dump=$("$objdump" -d -h "$module")
  if grep -qE '^\s*[0-9]+ DATA' <<<"$dump"; then echo "$module has a data segment" >&2; exit 1; fi
  if grep -q 'global.set' <<<"$dump"; then echo "$module uses a shadow stack" >&2; exit 1; fi
  echo "$module: $(wc -c <"$module") bytes"
done
# f32x4.relaxed_madd is 0xfd 0x105; an older clang spells -mrelaxed-simd's FMA with a prototype opcode.
madds=$(grep -c 'fd 85 02' <<<"$("$objdump" -d kernels-relaxed.wasm)" || true)
if [ "$madds" -eq 0 ]; then echo "kernels-relaxed.wasm has no relaxed_madd: use clang 16 or newer (RELAXED_CLANG)" >&2; exit 1; fi
echo "kernels-relaxed.wasm: $madds fused multiply-adds"
