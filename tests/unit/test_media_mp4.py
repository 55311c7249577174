"""workers/media/mp4.py: the one reader of MP4 box headers. Boxes are built by hand here;
a real file comes from ffmpeg. No Django."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess

import pytest

from workers.media import mp4


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def large_box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload


def shape(boxes: list[mp4.Box]) -> list[tuple]:
    return [(b.type, b.offset, b.size, b.header_size) for b in boxes]


def test_32_bit_64_bit_and_to_the_end_sizes(tmp_path):
    data = box(b"ftyp", b"isom") + large_box(b"mdat", b"x" * 10) + struct.pack(">I4s", 0, b"free") + b"tail"
    expected = [(b"ftyp", 0, 12, 8), (b"mdat", 12, 26, 16), (b"free", 38, 12, 8)]
    assert shape(mp4.top_level_boxes(data)) == expected
    (tmp_path / "f.mp4").write_bytes(data)
    assert shape(mp4.top_level_boxes(tmp_path / "f.mp4")) == expected  # a path reads the same


def test_a_cut_last_box_is_reported_and_broken_headers_stop_the_walk():
    whole = box(b"ftyp", b"isom") + box(b"mdat", b"x" * 100)
    assert shape(mp4.top_level_boxes(whole[:50])) == [(b"ftyp", 0, 12, 8), (b"mdat", 12, 108, 8)]
    assert shape(mp4.top_level_boxes(whole[:15])) == [(b"ftyp", 0, 12, 8)]  # header cut: not a box
    assert shape(mp4.top_level_boxes(struct.pack(">I4s", 1, b"mdat") + b"1234")) == []  # 64-bit size cut
    assert shape(mp4.top_level_boxes(struct.pack(">I4s", 3, b"junk") + box(b"free"))) == [(b"junk", 0, 3, 8)]
    assert mp4.top_level_boxes(b"") == [] and mp4.top_level_boxes(b"\x00" * 7) == []


def test_uuid_boxes_carry_their_user_type_and_limit_bounds_the_walk():
    usertype = bytes(range(16))
    data = box(b"uuid", usertype + b"payload") + box(b"free") * 5
    first = mp4.top_level_boxes(data)[0]
    assert (first.usertype, first.payload_offset) == (usertype, 24)
    assert mp4.top_level_boxes(box(b"uuid", usertype)[:20])[0].usertype is None  # cut short
    assert len(mp4.top_level_boxes(data, limit=3)) == 3


def test_children_of_container_boxes():
    moov = box(b"moov", box(b"mvhd", b"\0" * 4) + box(b"trak", box(b"tkhd") + box(b"mdia")))
    meta = box(b"meta", b"\0\0\0\0" + box(b"hdlr"))  # a full box: version and flags first
    stream = io.BytesIO(box(b"ftyp") + moov + meta)
    top = list(mp4.iter_boxes(stream))
    assert [b.type for b in mp4.children(stream, top[1])] == [b"mvhd", b"trak"]
    trak = list(mp4.children(stream, top[1]))[1]
    assert [b.type for b in mp4.children(stream, trak)] == [b"tkhd", b"mdia"]
    assert [b.type for b in mp4.children(stream, top[2])] == [b"hdlr"]
    with pytest.raises(ValueError):
        mp4.children(stream, top[0])


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
def test_a_real_file_and_its_padding(tmp_path):
    path = tmp_path / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=10:duration=1",
         "-c:v", "libx264", "-movflags", "+faststart", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    assert [b.type for b in mp4.top_level_boxes(path)][:2] == [b"ftyp", b"moov"]
    assert mp4.looks_like_isobmff(path)
    size = mp4.pad_mp4_to_multiple(path, 4096)
    boxes = mp4.top_level_boxes(path)
    assert size % 4096 == 0 and boxes[-1].type == b"free" and boxes[-1].end == size == path.stat().st_size
    with open(path, "rb") as stream:
        moov = mp4.top_level_boxes(path)[1]
        assert b"trak" in [b.type for b in mp4.children(stream, moov)]
