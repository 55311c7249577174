"""Files in Django's storage (local disk or S3-style) and the scratch space beside it.

Every stored name is random (`opaque_name`), so no URL says which model made a file or when.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models.fields.files import FieldFile

log = logging.getLogger(__name__)


def opaque_name(folder: str, suffix: str) -> str:
    return f"{folder}/{secrets.token_urlsafe(18)}{suffix}"


def store(local_path: Path, folder: str, suffix: str) -> str:
    """Save a local file under a new random name in `folder`; returns the stored name."""
    with open(local_path, "rb") as fh:
        return default_storage.save(opaque_name(folder, suffix), File(fh))


def name_of(file: FieldFile) -> str:
    """The stored name of a file field that must hold one (a row that says a file exists)."""
    if not file.name:
        raise ValueError(f"{file.field.name} of {file.instance!r} names no stored file")
    return file.name


def delete_stored(*names: str | None) -> None:
    """Delete stored files, logging (not raising) what cannot be deleted: callers use it to
    clean up after a failure, which must not be hidden by a second one."""
    for name in names:
        if name:
            try:
                default_storage.delete(name)
            except OSError:
                log.exception("could not delete %s", name)


def local_copy(name: str, workdir: Path, *, stem: str = "original") -> Path:
    """A path ffmpeg can read: the stored file itself on disk storage, a download into
    `workdir` otherwise (S3-style storage has no local path)."""
    try:
        return Path(default_storage.path(name))
    except NotImplementedError:
        target = workdir / (stem + Path(name).suffix)
        with default_storage.open(name, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
        return target


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A fresh directory under WORK_DIR, removed with everything in it when the block ends."""
    settings.WORK_DIR.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=settings.WORK_DIR))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
