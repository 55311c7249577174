"""Every video sample of an MP4 padded to one size, in place.

x264 in constant-bitrate mode with a one-frame buffer writes frames of the budget's size, but
only to within a few bytes: its filler is counted in whole bytes against a buffer counted in
bits, so the rounding carried from frame to frame (and a frame it could not fill) depends on
what the frames show. This pass makes the sizes exact: each video sample (H.264 in AVC format,
4-byte NAL lengths) is grown to `sample_size` by lengthening its filler NAL unit (type 12,
0xFF bytes ended by 0x80) or appending one, then the sample table (stsz), the chunk offsets
(stco) of every track, the mdat size and the video sample entry's bitrate box (btrt) are
rewritten. The box layout does not change; only sizes and offsets do.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from .errors import FFmpegFailed
from .mp4 import Box, children, iter_boxes
from .tools import PathLike, absolute

FILLER_NAL = 12
_MIN_NEW_FILLER = 6  # a length prefix, the NAL header and the 0x80 trailing byte (no 0xFF needed)


@dataclass
class _Track:
    handler: bytes
    stsz: Box
    stco: Box
    stsc: Box
    stsd: Box
    sizes: list[int]
    chunk_offsets: list[int]
    chunk_samples: list[int]  # samples in each chunk


def _child(stream: io.BytesIO, box: Box, kind: bytes) -> Box:
    found = next((b for b in children(stream, box) if b.type == kind), None)
    if found is None:
        raise FFmpegFailed(f"battle rendition: no {kind.decode()} box in {box.type.decode()}")
    return found


def _u32s(data: bytes, offset: int, count: int) -> list[int]:
    return list(struct.unpack_from(f">{count}I", data, offset))


def _track(data: bytes, stream: io.BytesIO, trak: Box) -> _Track:
    mdia = _child(stream, trak, b"mdia")
    hdlr = _child(stream, mdia, b"hdlr")
    handler = data[hdlr.payload_offset + 8 : hdlr.payload_offset + 12]
    stbl = _child(stream, _child(stream, mdia, b"minf"), b"stbl")
    stsz, stco = _child(stream, stbl, b"stsz"), _child(stream, stbl, b"stco")
    stsc, stsd = _child(stream, stbl, b"stsc"), _child(stream, stbl, b"stsd")
    uniform, count = struct.unpack_from(">II", data, stsz.payload_offset + 4)
    sizes = [uniform] * count if uniform else _u32s(data, stsz.payload_offset + 12, count)
    (chunks,) = struct.unpack_from(">I", data, stco.payload_offset + 4)
    offsets = _u32s(data, stco.payload_offset + 8, chunks)
    (runs,) = struct.unpack_from(">I", data, stsc.payload_offset + 4)
    entries = [struct.unpack_from(">III", data, stsc.payload_offset + 8 + 12 * i) for i in range(runs)]
    per_chunk = []
    for i, (first, samples, _description) in enumerate(entries):
        last = entries[i + 1][0] - 1 if i + 1 < len(entries) else chunks
        per_chunk += [samples] * (last - first + 1)
    if sum(per_chunk) != len(sizes):
        raise FFmpegFailed("battle rendition: the sample tables do not agree")
    return _Track(handler, stsz, stco, stsc, stsd, sizes, offsets, per_chunk)


def _nal_units(sample: bytes) -> list[bytes]:
    units, at = [], 0
    while at < len(sample):
        (length,) = struct.unpack_from(">I", sample, at)
        units.append(sample[at + 4 : at + 4 + length])
        at += 4 + length
    if at != len(sample):
        raise FFmpegFailed("battle rendition: a video sample is not a list of 4-byte-length NAL units")
    return units


def pad_sample(sample: bytes, size: int) -> bytes:
    """The AVC sample grown to `size` bytes with filler data, which decoders skip."""
    grow = size - len(sample)
    if grow < 0:
        raise FFmpegFailed(f"battle rendition: a frame of {len(sample)} bytes exceeds the shape's {size}")
    if grow == 0:
        return sample
    units = _nal_units(sample)
    for i in range(len(units) - 1, -1, -1):
        unit = units[i]
        if unit and unit[0] & 0x1F == FILLER_NAL and unit[-1:] == b"\x80":
            units[i] = unit[:-1] + b"\xff" * grow + b"\x80"
            return b"".join(struct.pack(">I", len(u)) + u for u in units)
    if grow < _MIN_NEW_FILLER:
        raise FFmpegFailed("battle rendition: a frame without filler is too close to the shape's size")
    filler = bytes([FILLER_NAL]) + b"\xff" * (grow - _MIN_NEW_FILLER) + b"\x80"
    return sample + struct.pack(">I", len(filler)) + filler


def equalize_video_samples(path: PathLike, sample_size: int, fps: int) -> None:
    """Pad every video sample of the MP4 at `path` (ffmpeg's faststart layout: moov before
    mdat) to `sample_size` bytes, in place."""
    data = bytearray(open(absolute(path), "rb").read())
    stream = io.BytesIO(data)
    top = {box.type: box for box in iter_boxes(stream)}
    moov, mdat = top.get(b"moov"), top.get(b"mdat")
    if moov is None or mdat is None or moov.offset > mdat.offset:
        raise FFmpegFailed("battle rendition: expected moov before mdat")
    tracks = [_track(bytes(data), stream, box) for box in children(stream, moov) if box.type == b"trak"]
    samples = []  # (file offset, size, track, index)
    for t, track in enumerate(tracks):
        index = 0
        for offset, count in zip(track.chunk_offsets, track.chunk_samples):
            for _ in range(count):
                samples.append((offset, track.sizes[index], t, index))
                offset += track.sizes[index]
                index += 1
    samples.sort()
    payload, new_offsets = bytearray(), {}
    cursor = mdat.payload_offset
    for offset, size, t, index in samples:
        if offset < cursor or offset + size > mdat.end:
            raise FFmpegFailed("battle rendition: samples overlap or lie outside the mdat box")
        payload += data[cursor:offset]  # whatever lies between samples is kept as it is
        new_offsets[(t, index)] = mdat.payload_offset + len(payload)
        sample = bytes(data[offset : offset + size])
        payload += pad_sample(sample, sample_size) if tracks[t].handler == b"vide" else sample
        cursor = offset + size
    payload += data[cursor : mdat.end]
    for t, track in enumerate(tracks):
        first = 0
        for chunk, count in enumerate(track.chunk_samples):
            struct.pack_into(">I", data, track.stco.payload_offset + 8 + 4 * chunk, new_offsets[(t, first)])
            first += count
        if track.handler == b"vide":
            _rewrite_video_sizes(data, track, sample_size, fps)
    if mdat.header_size != 8:
        raise FFmpegFailed("battle rendition: a 64-bit mdat is not expected here")
    struct.pack_into(">I", data, mdat.offset, 8 + len(payload))
    with open(absolute(path), "wb") as out:
        out.write(data[: mdat.payload_offset])
        out.write(payload)


def _rewrite_video_sizes(data: bytearray, track: _Track, sample_size: int, fps: int) -> None:
    (uniform,) = struct.unpack_from(">I", data, track.stsz.payload_offset + 4)
    if uniform:
        struct.pack_into(">I", data, track.stsz.payload_offset + 4, sample_size)
    else:
        for i in range(len(track.sizes)):
            struct.pack_into(">I", data, track.stsz.payload_offset + 12 + 4 * i, sample_size)
    # The bitrate box in the sample entry: buffer size, max and average bitrate, now exact.
    entry = bytes(data[track.stsd.payload_offset : track.stsd.end])
    at = entry.find(b"btrt")
    if at >= 4:
        bitrate = sample_size * 8 * fps
        struct.pack_into(">III", data, track.stsd.payload_offset + at + 4, sample_size, bitrate, bitrate)
