#!/usr/bin/env bash
# Runs the auth example end to end, offline: paraider and the stand-in
# aider (internal/fakeaider, which plays Aider without a model) are built,
# the example is copied into a fresh git repository, and
# `paraider gen && ninja` runs it. Nothing reaches the network.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/scripts/ensure-tools.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/paraider-demo.XXXXXX")
mkdir -p "$work/bin" "$work/repo"
(cd "$src" && CGO_ENABLED=0 go build -o "$work/bin/paraider" ./cmd/paraider && go build -o "$work/bin/aider" ./internal/fakeaider)
cp -R "$src/examples/auth/." "$work/repo/"
cd "$work/repo"
git init -q
git add -A
git -c user.name=paraider -c user.email=demo@paraider.invalid commit -qm "auth example"

export PATH="$work/bin:$PATH"
# The stand-in needs no key, but the model is on OpenRouter, and paraider
# refuses to start Aider without one.
export OPENROUTER_API_KEY=offline-demo-not-a-real-key
# Each stand-in agent works this long, so the parallel run shows.
export FAKE_AIDER_SLEEP="${FAKE_AIDER_SLEEP:-1s}"

set -x
paraider validate
paraider gen
# Plain ninja: where Ninja's own -j (3 on two cores) is below what the
# plan's jobs (4) need, the build file runs Ninja again with one that is not.
ninja
# A second run has nothing to do: every task is up to date.
ninja
{ set +x; } 2>/dev/null
# The command printed below works as printed (CI runs this script).
(cd "$work/repo" && "$work/bin/paraider" report >/dev/null)
echo
echo "The demo repository is $work/repo. To see the run again, and to remove it:"
echo "  (cd $work/repo && $work/bin/paraider report)"
echo "  rm -rf $work"
