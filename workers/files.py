"""File helpers shared by the workers' libraries. No Django."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write `dest`'s new content to; it replaces `dest` when the
    block succeeds and is removed when it fails (any exception, KeyboardInterrupt included).

    The temporary file sits beside `dest` (same directory, so same filesystem and os.replace
    is atomic) under a hidden, unguessable name: readers see the old file or the complete new
    one, never a partial write. Nothing is created before the block runs; the directory must
    exist (FileNotFoundError otherwise).
    """
    final = Path(os.path.abspath(os.fspath(dest)))
    if not final.parent.is_dir():
        raise FileNotFoundError(f"destination directory does not exist: {final.parent}")
    tmp = final.with_name(f".{final.name}.{secrets.token_hex(8)}.tmp")
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
