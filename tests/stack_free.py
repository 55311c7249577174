"""Which tests cannot tell the two test stacks apart, so that CI runs them once, not twice.

CI runs the suite on the PostgreSQL + Redis stack and again on the embedded one (SQLite, the
filesystem broker, the file cache). About half the tests exercise only the Django-free
libraries (workers/media, workers/backends, workers/ratings) or the deployment files: the
second run repeats them to the byte and cost minutes of CI. A test is stack-free when
- it asks for no database, live server or Django test client fixture, is not an integration
  or e2e test, and
- its module imports nothing that reaches a stack, directly or through the first-party modules
  it imports (`tests.*`, `workers.*`, followed transitively, packages' `__init__` included):
  no `webapp`, `django`, `celery`, `kombu`, `redis`, `psycopg`, `pytest_django`.
The check reads the source (imports inside functions count too); it never imports a module.
On the embedded stack scripts/test.sh deselects stack-free tests unless
SCREENTEST_STACK_FREE_TESTS=run; the summary line says how many."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = ("tests", "workers")
REACHES_A_STACK = frozenset({"webapp", "django", "celery", "kombu", "redis", "psycopg", "pytest_django"})
STACK_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_setup",
        "live_server",
        "client",
        "async_client",
        "admin_client",
        "admin_user",
        "django_user_model",
        "rf",
        "async_rf",
        "django_capture_on_commit_callbacks",
    }
)
STACK_MARKS = ("django_db", "integration", "e2e", "postgresql", "redis")


def _module_files(dotted: str) -> list[Path]:
    """The files importing `dotted` runs: each package's __init__ on the way, then the module."""
    parts = dotted.split(".")
    files = []
    for depth in range(1, len(parts) + 1):
        base = ROOT.joinpath(*parts[:depth])
        for candidate in (base / "__init__.py", base.with_suffix(".py")):
            if candidate.is_file():
                files.append(candidate)
                break
    return files


def _imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from workers.backends import demo` may name a submodule
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom):  # relative: resolve against the file's package
            package = path.parent.relative_to(ROOT).parts
            package = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            module = ".".join((*package, node.module)) if node.module else ".".join(package)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


@cache
def reaches_a_stack(path: Path) -> bool:
    """Whether the module at `path`, or a first-party module it imports, imports a stack."""
    seen: set[Path] = set()
    pending = [path]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for name in _imported_names(current):
            root = name.split(".")[0]
            if root in REACHES_A_STACK:
                return True
            if root in FIRST_PARTY:
                pending.extend(_module_files(name))
    return False


def is_stack_free(item) -> bool:
    if STACK_FIXTURES & set(getattr(item, "fixturenames", ())):
        return False
    if any(item.get_closest_marker(mark) for mark in STACK_MARKS):
        return False
    path = Path(str(item.path)).resolve()
    return path.suffix == ".py" and not reaches_a_stack(path)
