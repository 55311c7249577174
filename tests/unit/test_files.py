"""workers/files.py: the one write-then-rename helper. No Django."""

from __future__ import annotations

import pytest

from workers.files import atomic_output


def test_success_replaces_dest_and_leaves_only_dest(tmp_path):
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")
    with atomic_output(dest) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".out.bin.") and not tmp.exists()
        assert dest.read_bytes() == b"old"  # readers see the old file until the block ends
        tmp.write_bytes(b"new")
    assert dest.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


@pytest.mark.parametrize("error", [ValueError("boom"), KeyboardInterrupt()])
def test_failure_removes_the_temporary_file_and_keeps_dest(tmp_path, error):
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")
    with pytest.raises(type(error)):
        with atomic_output(dest) as tmp:
            tmp.write_bytes(b"partial")
            raise error
    assert dest.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_failure_before_anything_was_written_is_fine(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_output(tmp_path / "out.bin"):
            raise RuntimeError("nothing written")
    assert list(tmp_path.iterdir()) == []


def test_names_are_unique_and_the_directory_must_exist(tmp_path):
    with atomic_output(tmp_path / "a") as one, atomic_output(tmp_path / "a") as two:
        assert one != two
        one.write_bytes(b"1")
        two.write_bytes(b"2")
    assert (tmp_path / "a").read_bytes() == b"1"  # the block that finishes last wins
    with pytest.raises(FileNotFoundError):
        with atomic_output(tmp_path / "missing" / "a"):
            pass
