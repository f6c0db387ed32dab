#!/usr/bin/env bash
# Installs what paraider's demo and tests need and a fresh Debian machine
# lacks: ninja (Debian's ninja-build, 1.11 on bookworm) and git; with
# --test, strace too (a test traces the portable build's system calls).
set -euo pipefail

missing=()
command -v ninja >/dev/null 2>&1 || missing+=(ninja-build)
command -v git >/dev/null 2>&1 || missing+=(git)
if [ "${1:-}" = --test ]; then
  command -v strace >/dev/null 2>&1 || missing+=(strace)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "paraider: ${missing[*]} missing, and no root to install them" >&2
  echo "hint: install them with your package manager (Debian: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing ${missing[*]} from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
