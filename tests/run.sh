#!/usr/bin/env bash
# Runs every test against the sanitized build and ends with "N passed, N failed".
# Each test program prints "ok NAME" or "FAIL NAME" lines; a program that exits non-zero
# without printing a FAIL line counts as one failure of its own.
# Usage: tests/run.sh [FILTER] — only programs whose path contains FILTER.
set -u
cd "$(dirname "$0")/.."
export QUORUM_BIN="${QUORUM_BIN:-$PWD/build/asan/bin}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
filter="${1:-}"
# The ledger and the cache go to a scratch folder, never the user's home.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export XDG_STATE_HOME="$scratch/state" XDG_CACHE_HOME="$scratch/cache"
passed=0 failed=0
log=build/test-logs
mkdir -p "$log"

run_program() { # name, command...
  local name=$1; shift
  local out="$log/$(echo "$name" | tr '/ ' '__').log"
  "$@" >"$out" 2>&1
  local rc=$?
  local ok fail
  ok=$(grep -c '^ok ' "$out")
  fail=$(grep -c '^FAIL ' "$out")
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; echo "FAIL $name (exit $rc)"; fi
  grep -E '^(ok|FAIL) ' "$out"
  if [ "$fail" -gt 0 ]; then echo "--- $out:"; tail -n 40 "$out"; fi
  passed=$((passed + ok)); failed=$((failed + fail))
}

programs=("unit:$QUORUM_BIN/unit-tests" "torture:$QUORUM_BIN/torture")
for f in "$QUORUM_BIN"/fuzz-*; do
  [ -x "$f" ] || continue
  n=${f##*/fuzz-}
  programs+=("fuzz-replay/$n:$f tests/fuzz/corpus/$n")
done
for f in tests/e2e/test_*; do
  [ -x "$f" ] && programs+=("e2e/${f##*/}:$f")
done

for p in "${programs[@]}"; do
  name=${p%%:*}; cmd=${p#*:}
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
  # shellcheck disable=SC2086
  run_program "$name" $cmd
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
