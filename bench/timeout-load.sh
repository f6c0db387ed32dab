#!/usr/bin/env bash
# Measures how far past its timeout an attempt runs on a loaded machine:
# N agents at once (default 16) on this machine's cores with a CPU hog per
# core, each either ignoring SIGTERM until killed or finishing just before
# its timeout and then running a check that never ends. Prints each
# attempt's wall time and the largest overshoot past the timeout.
#   bench/timeout-load.sh [N] [TIMEOUT]
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
n=${1:-16}
timeout=${2:-5s}
scripts/ensure-tools.sh
work=$(mktemp -d "$PWD/bench/.work/timeout-load.XXXXXX")
hogs=()
cleanup() {
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/bin/paraider" ./cmd/paraider
go build -o "$work/bin/aider" ./internal/fakeaider
repo="$work/repo"
mkdir -p "$repo"
cd "$repo"
export GIT_CEILING_DIRECTORIES="$work"
git init -q
printf 'build.ninja\n.ninja_*\n' > .gitignore
{
  echo "version: 1"
  echo "model: openrouter/test/model"
  echo "jobs: $n"
  echo "retries: 0"
  echo "timeout: $timeout"
  echo "tasks:"
  for i in $(seq 1 "$n"); do
    if [ $((i % 2)) = 0 ]; then
      echo "  - {id: hang$i, files: [f$i.txt], message: hang, env: {FAKE_AIDER_HANG: \"1\"}}"
    else
      echo "  - {id: check$i, files: [f$i.txt], message: check, check: sleep 600, env: {FAKE_AIDER_SLEEP: 4s}}"
    fi
  done
} > paraider.yaml
git add -A
git -c user.name=b -c user.email=b@localhost commit -qm init
for _ in $(seq 1 "$(nproc)"); do
  sh -c 'while :; do :; done' &
  hogs+=($!)
done
export PATH="$work/bin:$PATH" OPENROUTER_API_KEY=sk-or-v1-bench-not-a-key
paraider gen >/dev/null
ninja -k 0 -j "$n" >/dev/null 2>&1 || true
cd "$top"
go run ./bench/cmd/overshoot "$timeout" "$repo"/.paraider/results/*.json
