"""Files in Django's storage (local disk or S3-style) and the scratch space beside it.

Every stored name is random (`opaque_name`), so no URL says which model made a file or when.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as S3ConnectionError
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.db.models.fields.files import FieldFile

from webapp.core import object_storage

log = logging.getLogger(__name__)


DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
STORAGE_FULL = "storage_full"
STORAGE_UNAVAILABLE = "storage_unavailable"
# What an S3-style store answers when it is overloaded or failing, not when a request is wrong.
_S3_UNAVAILABLE_CODES = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "500", "503"}
# Errors a delete may meet that must not hide the failure being cleaned up after.
_DELETE_ERRORS = (OSError, BotoCoreError, ClientError)


class StorageFull(OSError):
    """The disk (or quota) holding media or scratch files is full. Its code is public
    (studio/public_errors.py): the work is retried, and operators see why."""

    code = STORAGE_FULL


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from, says the disk is full (ENOSPC/EDQUOT; an
    ffmpeg that ran out of space says so in its message)."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, OSError) and current.errno in DISK_FULL_ERRNOS:
            return True
        if any("No space left on device" in text for text in (str(current), str(getattr(current, "detail", "")))):
            return True
        current, seen = current.__cause__ or current.__context__, seen + 1
    return False


def is_storage_outage(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from, says the S3-style media storage could not
    be reached or did not answer (connection refused or cut, a timeout, a 5xx answer such as
    503 SlowDown): an outage to wait out, not a fault of the work."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, (S3ConnectionError, HTTPClientError)):
            return True
        if isinstance(current, ClientError):
            answer = current.response or {}
            status = answer.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            if str(answer.get("Error", {}).get("Code")) in _S3_UNAVAILABLE_CODES or int(status) >= 500:
                return True
        # boto3's transfers give up with the last error as an attribute, not as the cause.
        last = getattr(current, "last_exception", None)
        if isinstance(last, BaseException) and is_storage_outage(last):
            return True
        current, seen = current.__cause__ or current.__context__, seen + 1
    return False


def failure_code(exc: BaseException, default: str = "internal_error") -> str:
    """The error code to record for a failed step: `storage_full` for a full disk,
    `storage_unavailable` for media storage that cannot be reached, else the error's own code,
    else `default`."""
    if is_disk_full(exc):
        return STORAGE_FULL
    if is_storage_outage(exc):
        return STORAGE_UNAVAILABLE
    code = getattr(exc, "code", None)  # ours are strings; others' (an HTTP status) are not codes
    return code if isinstance(code, str) and code else default


class AtomicFileSystemStorage(FileSystemStorage):
    """Django's file system storage, except that a file appears under its name only once it is
    complete: the bytes go to a hidden temporary name in the same folder, which is linked to
    the final name and removed. A write that fails (a full disk) removes its partial file and
    raises StorageFull, so MEDIA_ROOT never holds half a clip."""

    def _save(self, name: str, content: File) -> str:
        directory, base = os.path.split(name)
        partial = os.path.join(directory, f".partial-{secrets.token_hex(8)}-{base}")
        try:
            partial = super()._save(partial, content)  # type: ignore[misc]  # the stubs omit _save
            while True:
                try:
                    os.link(self.path(partial), self.path(name))
                    return name.replace("\\", "/")
                except FileExistsError:
                    name = self.get_available_name(name)
        except OSError as exc:
            if is_disk_full(exc):
                raise StorageFull(exc.errno, f"no space left to store {base}: {exc.strerror}") from exc
            raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path(partial))


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


def delete_stored(*names: str | None) -> list[str]:
    """Delete stored files, logging (not raising) what cannot be deleted: callers use it to
    clean up after a failure, which must not be hidden by a second one (with S3 storage down,
    the delete fails too). Returns the names that are still stored, or may be."""
    kept = []
    for name in names:
        if name:
            try:
                default_storage.delete(name)
            except _DELETE_ERRORS:
                log.exception("could not delete %s", name)
                kept.append(name)
    return kept


def local_copy(name: str, workdir: Path, *, stem: str = "original") -> Path:
    """A path ffmpeg can read: the stored file itself on disk storage, a download into
    `workdir` otherwise (S3-style storage has no local path)."""
    try:
        return Path(default_storage.path(name))
    except NotImplementedError:
        target = workdir / (stem + Path(name).suffix)
        if object_storage.is_object_storage():
            object_storage.download(name, target)
            return target
        with default_storage.open(name, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
        return target


def scratch_space_low(needed_bytes: int) -> bool:
    """Whether the scratch disk has less room than `needed_bytes` (an ffmpeg that ran out of
    space does not always say so: its truncated output then looks like a damaged video)."""
    settings.WORK_DIR.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(settings.WORK_DIR).free < needed_bytes


def _owner_dir_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


_OWNER_DIR = re.compile(r"^(?P<host>.+)-(?P<pid>[0-9]+)$")


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A fresh directory under WORK_DIR/<host>-<pid>, removed with everything in it when the
    block ends. A process killed inside the block cannot remove it: `sweep_scratch` does, once
    that pid is gone."""
    parent = settings.WORK_DIR / _owner_dir_name()
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def sweep_scratch(now: float | None = None) -> int:
    """Remove the scratch space of processes that died inside `scratch_dir` (a killed worker):
    on this host, directories whose pid is gone; any directory older than SCRATCH_MAX_AGE_S
    (another host's, sharing WORK_DIR, or one from before per-process directories). Returns
    how many directories were removed. Workers run it at start-up, beat's reaper periodically."""
    root = settings.WORK_DIR
    if not root.is_dir():
        return 0
    now = time.time() if now is None else now
    host, removed = socket.gethostname(), 0
    for entry in root.iterdir():
        if not entry.is_dir() or entry.name == _owner_dir_name():
            continue
        owner = _OWNER_DIR.match(entry.name)
        if owner and owner["host"] == host:
            dead = not _pid_alive(int(owner["pid"]))
        else:
            try:
                dead = now - entry.stat().st_mtime > settings.SCRATCH_MAX_AGE_S
            except FileNotFoundError:
                continue
        if dead:
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    if removed:
        log.info("removed %d scratch director%s of dead workers", removed, "y" if removed == 1 else "ies")
    return removed
