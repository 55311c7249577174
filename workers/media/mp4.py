"""MP4 boxes (ISO/IEC 14496-12, the ISO base media file format): the one reader of box
headers, for files and bytes, and the padding `free` box.

Box headers are read, never trusted: a size that runs past the end is reported as it is (the
last box of a cut file), and iteration stops at a header that does not fit or that declares
a size smaller than itself.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from .tools import PathLike, absolute, regular_file_size

# Top-level box types an MP4/MOV file starts with: tells a truncated MP4 from junk that
# ffmpeg tried as MP4 only because of its name.
_ISOBMFF_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid"})
# Container boxes and where their children start in the payload (`meta` is a full box:
# version and flags come first).
_CHILDREN_START = {
    **dict.fromkeys(
        [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta", b"mvex", b"moof", b"traf"], 0
    ),
    b"meta": 4,
}


@dataclass(frozen=True)
class Box:
    type: bytes  # the four-character code, e.g. b"moov"
    offset: int  # of the header, from the start of the file
    size: int  # header included; size 0 in the file (to the end) is resolved
    header_size: int  # 8, or 16 with a 64-bit size
    usertype: bytes | None = None  # a `uuid` box's 16-byte extended type (None if cut off)

    @property
    def payload_offset(self) -> int:
        return self.offset + self.header_size + (16 if self.type == b"uuid" else 0)

    @property
    def end(self) -> int:
        return self.offset + self.size


def iter_boxes(stream: BinaryIO, start: int = 0, end: int | None = None, *, limit: int | None = None) -> Iterator[Box]:
    """The boxes one after the other in `stream` from `start` to `end` (the end of the
    stream by default), at most `limit` of them."""
    stream_end = stream.seek(0, os.SEEK_END)
    end = stream_end if end is None else min(end, stream_end)
    offset, count = start, 0
    while offset + 8 <= end and (limit is None or count < limit):
        stream.seek(offset)
        size, kind = struct.unpack(">I4s", stream.read(8))
        header_size = 8
        if size == 1:  # a 64-bit size follows the type
            if offset + 16 > end:
                return
            (size,) = struct.unpack(">Q", stream.read(8))
            header_size = 16
        elif size == 0:  # the box runs to the end
            size = end - offset
        usertype = None
        if kind == b"uuid" and offset + header_size + 16 <= end:
            usertype = stream.read(16)
        yield Box(kind, offset, size, header_size, usertype)
        count += 1
        if size < header_size:
            return
        offset += size


def top_level_boxes(source: PathLike | bytes, *, limit: int | None = None) -> list[Box]:
    """The top-level boxes of a file (given by path) or of bytes."""
    if isinstance(source, bytes | bytearray | memoryview):
        return list(iter_boxes(io.BytesIO(source), limit=limit))
    with open(absolute(source), "rb") as stream:
        return list(iter_boxes(stream, limit=limit))


def children(stream: BinaryIO, box: Box) -> Iterator[Box]:
    """The boxes inside a container box (moov, trak, mdia, ..., meta)."""
    if box.type not in _CHILDREN_START:
        raise ValueError(f"{box.type!r} is not a container box")
    return iter_boxes(stream, box.payload_offset + _CHILDREN_START[box.type], box.end)


def box_layout(data: bytes) -> list[tuple[int, str, int]]:
    """(depth, type, size) of every box, containers opened: a file's structure as any client
    can read it (the blindness test and the leak benchmark compare battle files by it)."""
    stream = io.BytesIO(data)
    layout: list[tuple[int, str, int]] = []

    def walk(boxes: Iterator[Box], depth: int) -> None:
        for box in boxes:
            layout.append((depth, box.type.decode("latin-1"), box.size))
            if box.type in _CHILDREN_START:
                walk(children(stream, box), depth + 1)

    walk(iter_boxes(stream), 0)
    return layout


def box_header(kind: bytes, size: int) -> bytes:
    """The 8-byte header of a box of `size` bytes (header included)."""
    return struct.pack(">I4s", size, kind)


def looks_like_isobmff(path: PathLike) -> bool:
    with open(absolute(path), "rb") as stream:
        first = next(iter_boxes(stream, limit=1), None)
    return first is not None and first.type in _ISOBMFF_FIRST_BOXES


def pad_mp4_to_multiple(path: PathLike, multiple: int) -> int:
    """Append a top-level `free` box so the file's size is a multiple of `multiple` bytes.

    Players skip `free` boxes, so the video is unchanged; what changes is that file sizes,
    which differ by model (resolution, grain, frame rate), no longer tell a blind voter which
    model made a clip beyond the size bucket. Returns the new size."""
    size = regular_file_size(path)
    if multiple <= 0 or size % multiple == 0:
        return size
    padding = multiple - size % multiple
    while padding < 8:  # a box header needs 8 bytes
        padding += multiple
    with open(path, "ab") as fh:
        fh.write(box_header(b"free", padding))
        fh.write(bytes(padding - 8))
    return size + padding
