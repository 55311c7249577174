"""Serving a stored file with HTTP Range, which Django's static view lacks and <video>
seeking needs. Behind nginx (MEDIA_ACCEL_REDIRECT_PREFIX set) Django only decides and nginx
sends the bytes. With S3-style storage Django fetches the asked-for range from the bucket and
sends it (core/object_storage.py), so every host serves the same media with the same headers;
MEDIA_S3_REDIRECT sends named files' clients to the storage's signed URL instead, never a
battle's (the bucket's own headers would tell a voter when a file was stored).
Callers decide who may see which file; this module only sends it."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from collections.abc import Callable, Iterator
from functools import partial

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import http_date

from webapp.core import object_storage

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _cached(response, etag: str, mtime: float | None, cache_control: str):
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    if mtime is not None:
        response["Last-Modified"] = http_date(mtime)
    response["Cache-Control"] = cache_control
    return response


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """One `bytes=` range -> (first, last) inclusive; None if unsatisfiable. Raises ValueError
    for a header we do not understand (then the whole file is sent, as RFC 9110 allows)."""
    match = RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        raise ValueError(header)
    first, last = match.groups()
    if first == "":  # suffix: the last N bytes
        length = int(last)
        if length == 0:
            return None
        return max(size - length, 0), size - 1
    first = int(first)
    last = size - 1 if last == "" else min(int(last), size - 1)
    if first >= size or first > last:
        return None
    return first, last


def _file_range(fh, first: int, last: int):
    fh.seek(first)
    remaining = last - first + 1
    try:
        while remaining > 0:
            chunk = fh.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        fh.close()


def _read_file(local: str, first: int, last: int) -> Iterator[bytes]:
    return _file_range(open(local, "rb"), first, last)


def _no_bytes(first: int, last: int) -> Iterator[bytes]:
    return iter(())


def serve_stored_file(
    request, path: str, *, cache_control: str = "public, max-age=31536000, immutable", blind_as: str | None = None
):
    """Serve one stored file with Range support. `path` must already be vetted by the caller.

    `blind_as` serves the file under another identity (a battle's): the ETag is derived from
    it, no Last-Modified and no Content-Disposition are sent, so headers cannot link the
    response to a stored name or hint at when (how fast) the file was made."""
    read: Callable[[int, int], Iterator[bytes]]
    local: str | None
    if object_storage.is_object_storage():
        if settings.MEDIA_S3_REDIRECT and not blind_as:
            return HttpResponseRedirect(default_storage.url(path))
        stored = object_storage.head(path)
        if stored is None:
            raise Http404("no such media")
        size, modified = stored.size, stored.modified
        local = None
        read = partial(object_storage.read_range, path)
    else:
        if not default_storage.exists(path):
            raise Http404("no such media")
        local = default_storage.path(path)
        if settings.MEDIA_ACCEL_REDIRECT_PREFIX:
            # nginx's "-blind" location sends no ETag or Last-Modified of its own (docker/nginx.conf).
            prefix = settings.MEDIA_ACCEL_REDIRECT_PREFIX.rstrip("/") + ("-blind" if blind_as else "")
            response = HttpResponse(content_type=_content_type(path))
            response["X-Accel-Redirect"] = f"{prefix}/{path}"
            if blind_as:
                response["Cache-Control"] = cache_control
            return response
        stat = os.stat(local)
        size, modified = stat.st_size, stat.st_mtime
        read = partial(_read_file, local)

    if request.method == "HEAD":  # the headers only: no ranged GET for bytes nobody will receive
        read = _no_bytes
    mtime: float | None
    if blind_as:
        etag = '"' + hashlib.sha256(f"{blind_as}:{size}".encode()).hexdigest()[:20] + '"'
        mtime = None
    else:
        etag, mtime = f'"{int(modified)}-{size}"', modified
    if request.headers.get("If-None-Match") == etag:
        return _cached(HttpResponse(status=304), etag, mtime, cache_control)

    header = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range")
    if header and (not if_range or if_range == etag):
        try:
            span = parse_range(header, size)
        except ValueError:
            span = (0, size - 1)
            header = ""
        if span is None:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return _cached(response, etag, mtime, cache_control)
        if header:
            first, last = span
            ranged = StreamingHttpResponse(read(first, last), status=206, content_type=_content_type(path))
            ranged["Content-Range"] = f"bytes {first}-{last}/{size}"
            ranged["Content-Length"] = str(last - first + 1)
            return _cached(ranged, etag, mtime, cache_control)
    whole: HttpResponseBase
    # FileResponse would name the stored file in a Content-Disposition header (and needs a local file)
    if blind_as or local is None:
        whole = StreamingHttpResponse(read(0, size - 1) if size else iter(()), content_type=_content_type(path))
    else:
        whole = FileResponse(open(local, "rb"), content_type=_content_type(path))
    whole["Content-Length"] = str(size)
    return _cached(whole, etag, mtime, cache_control)
