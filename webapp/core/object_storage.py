"""Reading stored files from S3-style storage (django-storages' S3Storage) by byte range.

The storage's own `open()` downloads the whole object before the first byte can be read, so a
<video> seek into a 500 MB clip would fetch 500 MB; here one HEAD says the size and age, and a
ranged GET fetches only the bytes a Range request asked for. Every host (web, any worker) reads
the same bucket, which is what lets workers on other machines share nothing but the database,
the broker and the bucket (docs/deployment.md)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from django.core.files.storage import default_storage
from storages.utils import clean_name

CHUNK = 256 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}


@dataclass(frozen=True)
class StoredObject:
    size: int
    modified: float  # seconds since the epoch


def is_object_storage() -> bool:
    """Whether media lives in a bucket (no local path to open or hand to nginx)."""
    return hasattr(default_storage, "bucket")


def _object(name: str):
    storage: Any = default_storage  # an S3Storage: the bucket and its key naming (location prefix)
    return storage.bucket.Object(storage._normalize_name(clean_name(name)))


def head(name: str) -> StoredObject | None:
    """Size and last change of a stored object; None when there is no such object."""
    obj = _object(name)
    try:
        obj.load()
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) in _MISSING:
            return None
        raise
    return StoredObject(size=int(obj.content_length), modified=obj.last_modified.timestamp())


def download(name: str, target: Path) -> None:
    """Copy a stored object into `target` (the host's scratch folder), in parallel parts. The
    storage's own open() would first spool the whole object into a temporary file elsewhere
    (FILE_UPLOAD_TEMP_DIR, /tmp by default): twice the disk, on a disk nobody sized for it."""
    _object(name).download_file(str(target))


def read_range(name: str, first: int, last: int) -> Iterator[bytes]:
    """The bytes first..last (inclusive) of a stored object, streamed in chunks. The ranged GET
    is sent now, not when the response starts streaming: a failure is an error of the view,
    not a truncated 206."""
    body = _object(name).get(Range=f"bytes={first}-{last}")["Body"]
    return _chunks(body)


def _chunks(body) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()
