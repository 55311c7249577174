"""Where an export command writes: stdout, or a file that appears only once complete."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from webapp.arena.services.battle_export import TextSink
from workers.files import atomic_output


class _Unterminated:
    """Django's OutputWrapper adds a newline to every write; exports write raw chunks."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")


@contextmanager
def output_stream(path: str | None, stdout) -> Iterator[IO[str] | TextSink]:
    """``stdout`` (a command's OutputWrapper) when path is empty or "-", else the file, written
    under a temporary name and renamed at the end so a failed export leaves no half file."""
    if not path or path == "-":
        yield _Unterminated(stdout)
        return
    with atomic_output(path) as partial, partial.open("w", encoding="utf-8", newline="") as fh:
        yield fh
