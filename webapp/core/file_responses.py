"""Serving a stored file with HTTP Range, which Django's static view lacks and <video>
seeking needs. Behind nginx (MEDIA_ACCEL_REDIRECT_PREFIX set) Django only decides and nginx
sends the bytes; with S3-style storage the client is redirected to the storage's URL.
Callers decide who may see which file; this module only sends it."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import http_date

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


def serve_stored_file(
    request, path: str, *, cache_control: str = "public, max-age=31536000, immutable", blind_as: str | None = None
):
    """Serve one stored file with Range support. `path` must already be vetted by the caller.

    `blind_as` serves the file under another identity (a battle's): the ETag is derived from
    it, no Last-Modified and no Content-Disposition are sent, so headers cannot link the
    response to a stored name or hint at when (how fast) the file was made."""
    if not default_storage.exists(path):
        raise Http404("no such media")
    try:
        local = default_storage.path(path)
    except NotImplementedError:  # S3-style storage serves its own bytes
        return HttpResponseRedirect(default_storage.url(path))
    if settings.MEDIA_ACCEL_REDIRECT_PREFIX:
        # nginx's "-blind" location sends no ETag or Last-Modified of its own (docker/nginx.conf).
        prefix = settings.MEDIA_ACCEL_REDIRECT_PREFIX.rstrip("/") + ("-blind" if blind_as else "")
        response = HttpResponse(content_type=_content_type(path))
        response["X-Accel-Redirect"] = f"{prefix}/{path}"
        if blind_as:
            response["Cache-Control"] = cache_control
        return response

    stat = os.stat(local)
    size = stat.st_size
    if blind_as:
        etag = '"' + hashlib.sha256(f"{blind_as}:{size}".encode()).hexdigest()[:20] + '"'
        mtime = None
    else:
        etag, mtime = f'"{int(stat.st_mtime)}-{size}"', stat.st_mtime
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
            partial = StreamingHttpResponse(
                _file_range(open(local, "rb"), first, last), status=206, content_type=_content_type(path)
            )
            partial["Content-Range"] = f"bytes {first}-{last}/{size}"
            partial["Content-Length"] = str(last - first + 1)
            return _cached(partial, etag, mtime, cache_control)
    whole: HttpResponseBase
    if blind_as:  # FileResponse would name the stored file in a Content-Disposition header
        whole = StreamingHttpResponse(_file_range(open(local, "rb"), 0, size - 1), content_type=_content_type(path))
    else:
        whole = FileResponse(open(local, "rb"), content_type=_content_type(path))
    whole["Content-Length"] = str(size)
    return _cached(whole, etag, mtime, cache_control)
