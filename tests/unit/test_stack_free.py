"""The embedded CI run leaves out stack-free tests (tests/stack_free.py): the rule must never
call a test stack-free when what it runs could differ between PostgreSQL + Redis and SQLite +
the filesystem broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import stack_free

UNIT = Path(__file__).resolve().parent


@pytest.mark.parametrize(
    "module", ["test_media.py", "test_ratings.py", "test_backend_common.py", "test_demo_backend.py"]
)
def test_modules_of_django_free_code_are_stack_free(module):
    assert not stack_free.reaches_a_stack(UNIT / module)


@pytest.mark.parametrize("module", ["test_api.py", "test_battles.py", "test_gallery_search.py", "test_vote_tallies.py"])
def test_modules_that_import_the_site_reach_a_stack(module):
    assert stack_free.reaches_a_stack(UNIT / module)


def test_a_stack_reached_through_a_first_party_helper_counts():
    """tests.arena_support imports webapp: a module that only imports the helper reaches a stack,
    and so does one that imports it lazily, inside a function, or relatively."""
    for source in (
        "from tests.arena_support import *\n",
        "def later():\n    import tests.arena_support\n",
        "from ..arena_support import vote\n",
    ):
        module = UNIT / f"_probe_{abs(hash(source))}.py"
        try:
            module.write_text(source)
            stack_free.reaches_a_stack.cache_clear()
            assert stack_free.reaches_a_stack(module), source
        finally:
            module.unlink()


class _Item:
    def __init__(self, path, fixturenames=(), marks=()):
        self.path, self.fixturenames, self._marks = path, fixturenames, marks

    def get_closest_marker(self, name):
        return name if name in self._marks else None


def test_database_fixtures_and_stack_marks_make_a_test_stack_bound():
    free_module = UNIT / "test_media.py"
    assert stack_free.is_stack_free(_Item(free_module, ("tmp_path",)))
    assert not stack_free.is_stack_free(_Item(free_module, ("tmp_path", "db")))
    assert not stack_free.is_stack_free(_Item(free_module, ("live_server",)))
    assert not stack_free.is_stack_free(_Item(free_module, marks=("integration",)))
    assert not stack_free.is_stack_free(_Item(free_module, marks=("django_db",)))
