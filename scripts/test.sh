#!/usr/bin/env bash
# Runs every test: unit tests, and the CLI scripts that drive real ninja,
# real git and the stand-in aider.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh
go vet ./...
go test -count=1 ./...
