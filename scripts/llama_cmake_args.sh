#!/usr/bin/env bash
# Prints the llama.cpp CMake options for this CPU's x86 instruction sets, each from the flags it
# needs (never -march=native: on a CPU with AMX that build crashes where the VM does not grant AMX;
# AMX is never turned on). Usage: llama_cmake_args.sh [auto|avx2] [CPU flags...]
#   auto (default): every option whose flags /proc/cpuinfo lists (or the flags given after it)
#   avx2: llama.cpp's portable default (SSE4.2, AVX, AVX2, FMA, F16C, BMI2), whatever the CPU has
set -euo pipefail
mode=${1:-auto}
shift || true
echo -n "-DGGML_NATIVE=OFF"
[ "$mode" = "avx2" ] && { echo; exit 0; }
if [ $# -gt 0 ]; then
  flags=" $* "
else
  flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
fi
# not an x86 CPU (no x86 flags line): llama.cpp's own defaults for its architecture
[[ "$flags" == *" sse2 "* ]] || { echo; exit 0; }
has_all() { for f in "$@"; do [[ "$flags" == *" $f "* ]] || return 1; done; }
option() {  # option name, then the CPU flags it needs
  local name=$1; shift
  if has_all "$@"; then echo -n " -D$name=ON"; else echo -n " -D$name=OFF"; fi
}
option GGML_SSE42 sse4_2
option GGML_AVX avx
option GGML_AVX2 avx2
option GGML_FMA fma
option GGML_F16C f16c
option GGML_BMI2 bmi2
option GGML_AVX_VNNI avx_vnni
option GGML_AVX512 avx512f avx512cd avx512vl avx512dq avx512bw
option GGML_AVX512_VBMI avx512f avx512vbmi
option GGML_AVX512_VNNI avx512f avx512_vnni
option GGML_AVX512_BF16 avx512f avx512_bf16
echo
