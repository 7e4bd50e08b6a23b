#!/usr/bin/env bash
# Rebuilds shared/jpeg/jpeg-decoder.wasm: libjpeg-turbo's decoder plus jpeg-decoder.c, as a
# standalone wasm module with no JS glue, so Node (trainer) and workerd (Worker) load the same
# binary. The .wasm is committed; this script is only for changing it.
#
# Needs Debian's emscripten and libjpeg-turbo source (bookworm: 3.1.6 and 2.1.5):
#   apt-get install emscripten
#   apt-get source --download-only libjpeg-turbo   # needs a deb-src line in apt's sources
# Usage: shared/jpeg/build.sh path/to/libjpeg-turbo_2.1.5.orig.tar.gz
set -euo pipefail
tarball=$(realpath "${1:?usage: $0 libjpeg-turbo_VERSION.orig.tar.gz}")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Debian's emscripten finds its acorn under /usr/share/nodejs, not on Node's default path.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}

tar -xzf "$tarball" -C "$work"
src=$(echo "$work"/libjpeg-turbo-*)
# Only the decoder is built, so CMake runs just to write jconfig.h and jconfigint.h.
emcmake cmake -S "$src" -B "$src/build" -DWITH_SIMD=0 -DWITH_TURBOJPEG=0 -DENABLE_SHARED=0 >/dev/null
# CMake's size probe misreads under emscripten (wasm32: size_t is 4 bytes).
sed -i 's/^#define SIZEOF_SIZE_T .*/#define SIZEOF_SIZE_T  4/' "$src/build/jconfigint.h"

sources=(jaricom jcomapi jdapimin jdapistd jdarith jdatasrc jdcoefct jdcolor jddctmgr jdhuff jdicc jdinput
  jdmainct jdmarker jdmaster jdmerge jdphuff jdpostct jdsample jerror jidctflt jidctfst jidctint jidctred
  jmemmgr jmemnobs jquant1 jquant2 jsimd_none jutils)
files=()
for name in "${sources[@]}"; do files+=("$src/$name.c"); done
emcc -O3 -flto -I"$src" -I"$src/build" "${files[@]}" "$here/jpeg-decoder.c" -o "$here/jpeg-decoder.wasm" \
  --no-entry -sSTANDALONE_WASM -sFILESYSTEM=0 -sALLOW_MEMORY_GROWTH -sMAXIMUM_MEMORY=268435456 \
  -sEXPORTED_FUNCTIONS=_cs_input,_cs_header,_cs_decode,_cs_pixels,_cs_width,_cs_height,_cs_warnings,_cs_message
ls -l "$here/jpeg-decoder.wasm"
