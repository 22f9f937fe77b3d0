#!/usr/bin/env bash
# Builds url_fuzz with clang + libFuzzer in build-fuzz/ and runs it for a bounded time on a
# copy of the seed corpus (the checked-in corpus stays small and reviewed).
#   FUZZ_SECONDS  run time, default 60
#   CXX / CC      compiler to use; default: the first clang that can compile std::expected
# Extra arguments go to libFuzzer (e.g. -jobs=2).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-fuzz"
seconds="${FUZZ_SECONDS:-60}"

# libstdc++ 12 only declares std::expected when __cpp_concepts >= 202002L, and Debian 12's
# clang 14 and 16 both report 201907L. Defining the macro is not enough for clang 14, which
# lacks conditionally trivial special members (P0848) and rejects <expected>'s destructors;
# clang 16 implements P0848, so there the macro is all it takes.
probe='#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t n) {
  std::expected<std::string, int> e{"x"};
  return e->size() == n ? 0 : 0;
}'
concepts_flags="-D__cpp_concepts=202002L -Wno-macro-redefined"

works() {  # works CXX EXTRA_FLAGS: can CXX compile the probe and link it with libFuzzer?
  command -v "$1" >/dev/null 2>&1 || return 1
  # shellcheck disable=SC2086
  echo "$probe" | "$1" -std=c++2b $2 -fsanitize=fuzzer,address,undefined -x c++ - \
    -o /dev/null 2>/dev/null
}

pick_compiler() {
  local candidates=("${CXX:-}" clang++ clang++-19 clang++-18 clang++-17 clang++-16)
  for cxx in "${candidates[@]}"; do
    [[ -n "$cxx" ]] || continue
    if works "$cxx" ""; then echo "$cxx|"; return 0; fi
    if works "$cxx" "$concepts_flags"; then echo "$cxx|$concepts_flags"; return 0; fi
  done
  return 1
}

if ! choice="$(pick_compiler)"; then
  echo "fuzz: no clang here compiles libstdc++'s <expected>; installing clang-16" >&2
  sudo_cmd=()
  [[ "$(id -u)" -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq >&2
  "${sudo_cmd[@]}" apt-get install -y --no-install-recommends clang-16 libclang-rt-16-dev >&2
  choice="$(pick_compiler)" || { echo "fuzz: clang-16 does not work either" >&2; exit 1; }
fi
cxx="${choice%%|*}"
cxx_flags="${choice#*|}"
cc="${CC:-${cxx/clang++/clang}}"
echo "fuzz: using $cxx ${cxx_flags:+(with $cxx_flags)}"

# SHORTENER_TESTS=ON only because the top level adds tests/ (and so tests/fuzz/) under it;
# in fuzz mode tests/CMakeLists.txt adds the fuzz folder and nothing else.
CC="$cc" CXX="$cxx" cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="$cxx_flags" \
  -DSHORTENER_FUZZ=ON -DSHORTENER_TESTS=ON -DSHORTENER_BENCH=OFF >/dev/null
cmake --build "$build" --target url_fuzz -j"${FUZZ_JOBS:-1}"

corpus="$build/corpus-url"
rm -rf "$corpus"
mkdir -p "$corpus" "$build/artifacts"
cp "$root"/tests/fuzz/corpus/url/* "$corpus"/

# UBSan findings become crashes; reports name functions and lines. Debian's clang-16 runtime
# does not find the unversioned llvm-symbolizer by itself.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
symbolizer="$(readlink -f "$(command -v llvm-symbolizer || true)" || true)"
if [[ -z "${ASAN_SYMBOLIZER_PATH:-}" && -x "$symbolizer" ]]; then
  export ASAN_SYMBOLIZER_PATH="$symbolizer"
fi

"$build/tests/fuzz/url_fuzz" "$corpus" \
  -dict="$root/tests/fuzz/url.dict" \
  -max_len=4096 \
  -max_total_time="$seconds" \
  -timeout=10 \
  -rss_limit_mb=2048 \
  -print_final_stats=1 \
  -artifact_prefix="$build/artifacts/" \
  "$@"
