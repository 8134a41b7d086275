#!/usr/bin/env bash
# Installs what the tests use — PostgreSQL (the scale-out store tests start a throwaway server), bubblewrap (the
# read-only store tests and shell episodes run in a sandbox), OpenSSH, rsync and gcc (a shell episode's servers), socat
# (an agent program's way to its model gateway),
# Chromium (the HTML report tests open reports in it) and Inspect's own log viewer (built from the pinned npm
# package) — then runs every test. Arguments go to `dotnet test`, e.g. ./test.sh --filter "FullyQualifiedName~Detectors".
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK (dotnet) is required and was not found" >&2; exit 1; }

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v bwrap >/dev/null || missing+=(bubblewrap)
command -v npm >/dev/null || missing+=(nodejs npm)
command -v tmux >/dev/null || missing+=(tmux)
# A shell episode's SSH servers: sshd and its client, rsync, and a C compiler for the size shim their /data uses.
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null || missing+=(openssh-client)
command -v rsync >/dev/null || missing+=(rsync)
command -v cc >/dev/null || missing+=(gcc)
# An external agent program's episode reaches its model gateway through socat.
command -v socat >/dev/null || missing+=(socat)
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "test.sh: the tests need ${missing[*]}; apt-get was not found, so install them with this system's package manager" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "test.sh: installing ${missing[*]} needs root or sudo" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "test.sh: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

viewer=tests/tools/inspect-viewer
if [ ! -f "$viewer/dist/main.js" ] || [ "$viewer/package-lock.json" -nt "$viewer/dist/main.js" ]; then
  npm ci --prefix "$viewer" --no-audit --no-fund
fi

# The study's released transcripts are read in place from a shared/ folder beside the repository (see
# tests/Shared/StudyFixtures.cs); a clone made elsewhere finds them beside the repository it was cloned from.
if [ -z "${KINSHIP_SHARED:-}" ] && [ ! -d ../shared/fixtures ]; then
  origin=$(git remote get-url origin 2>/dev/null || true)
  if [ -n "$origin" ] && [ -d "$origin/../shared/fixtures" ]; then
    KINSHIP_SHARED=$(cd "$origin/../shared" && pwd)
    export KINSHIP_SHARED
  fi
fi

exec dotnet test "$@"
