#!/usr/bin/env bash
# Shared setup for up.sh and test.sh: a virtualenv with the pinned packages, and ffmpeg.
# Usage: source scripts/bootstrap.sh [extra]   (extra: "test" adds the test dependencies)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
EXTRA="${1:-}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mError: %s\033[0m\n' "$*" >&2; exit 1; }

find_python() {
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    return 1
}

apt_install() {
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing $* with apt-get"
        if [ ! -f /tmp/.screentest-apt-updated ]; then
            apt-get update -qq && touch /tmp/.screentest-apt-updated
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
        return 0
    fi
    return 1
}

PYTHON="$(find_python)" || die "Python 3.11 is required (Django 5.2 LTS). Install python3.11 and python3.11-venv."

if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtualenv in $VENV"
    "$PYTHON" -m venv "$VENV" || die "could not create a virtualenv: install python3.11-venv"
fi

# Exactly the tested versions, hashes checked: requirements/app.lock for the site, test.lock for
# the suite and the checks (both generated from pyproject.toml's pins; scripts/check_lock.py).
# Reinstall only when the lock file changed.
LOCK="$ROOT/requirements/${EXTRA:-app}.lock"
[ -f "$LOCK" ] || die "no lock file $LOCK"
STAMP="$VENV/.screentest-installed-${EXTRA:-app}"
if [ ! -f "$STAMP" ] || [ "$LOCK" -nt "$STAMP" ]; then
    say "installing Python packages from ${LOCK#"$ROOT"/}"
    "$VENV/bin/pip" install -q --require-hashes -r "$LOCK"
    touch "$STAMP"
fi

if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
    apt_install ffmpeg fonts-dejavu-core ||
        die "ffmpeg and ffprobe are required. Install them (Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install ffmpeg) or set FFMPEG_BINARY and FFPROBE_BINARY."
fi

export PATH="$VENV/bin:$PATH"
