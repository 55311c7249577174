#!/usr/bin/env bash
# The static checks CI runs before the tests: formatting, lint, types and the import layers
# (CONTRIBUTING.md). Fast: run it before every commit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh" test
cd "$ROOT"

say "lock files match pyproject.toml"
python scripts/check_lock.py
say "ruff format --check"
ruff format --check --quiet .
say "ruff check"
ruff check --quiet .
say "mypy"
mypy
say "lint-imports"
lint-imports --no-cache
