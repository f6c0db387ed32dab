#!/usr/bin/env bash
# Runs every test: unit tests, and the CLI scripts that drive real ninja,
# real git and the stand-in aider.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh
# The real Claude Code and Gemini CLI, for the end-to-end tests of their
# profiles (they talk only to a scripted server on loopback). Pinned: the
# profiles' flags are checked against these versions.
if ! command -v claude >/dev/null 2>&1 || ! command -v gemini >/dev/null 2>&1; then
  if [ ! -x .tools/node_modules/.bin/claude ] || [ ! -x .tools/node_modules/.bin/gemini ]; then
    command -v npm >/dev/null 2>&1 || { echo "paraider: npm is needed to install the agent CLIs for the tests" >&2; exit 1; }
    npm install --prefix .tools --no-audit --no-fund --loglevel=error \
      @anthropic-ai/claude-code@2.1.197 @google/gemini-cli@0.61.0 >&2
  fi
  export PATH="$PWD/.tools/node_modules/.bin:$PATH"
fi
go vet ./...
go test -count=1 ./...
