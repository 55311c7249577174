"""MP4 (ISO base media file format) boxes."""

from __future__ import annotations

from .tools import PathLike, absolute, regular_file_size

# Top-level box types an MP4/MOV file starts with: tells a truncated MP4 from junk that
# ffmpeg tried as MP4 only because of its name.
_ISOBMFF_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid"})


def looks_like_isobmff(path: PathLike) -> bool:
    with open(absolute(path), "rb") as f:
        head = f.read(8)
    return len(head) == 8 and head[4:8] in _ISOBMFF_FIRST_BOXES


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
        fh.write(padding.to_bytes(4, "big") + b"free")
        fh.write(bytes(padding - 8))
    return size + padding
