"""Battle renditions (workers/media/arena.py, equalize.py) with real ffmpeg: sources that differ
in every way a model's output can come out the same on the wire, but for the pictures."""

import json
import struct
import subprocess

import pytest

from tests.fakes.signatures import SIGNATURES, signature_video
from workers import media
from workers.media import mp4
from workers.media.equalize import FILLER_NAL, pad_sample

SHAPE = media.ArenaShape(width=128, height=72, fps=12, frames=30, video_bitrate=int(0.26 * 128 * 72 * 12))


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signatures")
    paths = []
    for i, signature in enumerate(SIGNATURES):
        path = folder / f"source{i}.mp4"
        path.write_bytes(signature_video(signature))
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def renditions(sources, tmp_path_factory):
    folder = tmp_path_factory.mktemp("arena")
    made = []
    for i, source in enumerate(sources):
        dest = folder / f"arena{i}.mp4"
        info = media.make_arena_rendition(source, dest, shape=SHAPE, seed=1000 + i)
        made.append((dest, info))
    return made


def packets(path) -> str:
    return subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "packet=stream_index,size,pts,dts,duration,flags", "-of", "csv=p=0"]
        + [str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def streams(path) -> list[dict]:
    report = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)], capture_output=True, check=True
        ).stdout
    )
    return report["streams"]


def test_every_source_comes_out_in_the_shape(renditions):
    for path, info in renditions:
        assert (info.width, info.height, info.fps, info.frame_count) == (128, 72, 12.0, 30)
        assert info.has_audio  # a silent track when the source had none: one stream layout
        video, audio = streams(path)
        assert (video["codec_name"], video["sample_aspect_ratio"], video["r_frame_rate"]) == ("h264", "1:1", "12/1")
        assert (audio["codec_name"], audio["channels"], audio["sample_rate"]) == ("opus", 2, "48000")


def test_sizes_tables_and_boxes_say_nothing_about_the_source(renditions):
    first_path = renditions[0][0]
    first = first_path.read_bytes()
    header = first[: first.find(b"mdat")]
    for path, _ in renditions[1:]:
        data = path.read_bytes()
        assert len(data) == len(first)
        assert packets(path) == packets(first_path)
        assert mp4.box_layout(data) == mp4.box_layout(first)
        assert data[: data.find(b"mdat")] == header  # every header byte, the sample tables included
    report = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=size", "-of", "json"]
        + [str(first_path)],
        capture_output=True,
        check=True,
    ).stdout
    sizes = {int(p["size"]) for p in json.loads(report)["packets"]}
    assert sizes == {SHAPE.sample_size}  # every video frame exactly the shape's size


def test_every_battle_gets_bytes_of_its_own(sources, tmp_path):
    a = media.make_arena_rendition(sources[0], tmp_path / "a.mp4", shape=SHAPE, seed=1)
    b = media.make_arena_rendition(sources[0], tmp_path / "b.mp4", shape=SHAPE, seed=2)
    assert a.bytes == b.bytes
    assert (tmp_path / "a.mp4").read_bytes() != (tmp_path / "b.mp4").read_bytes()


def test_renditions_decode_cleanly_and_sound_is_normalised(sources, tmp_path):
    loud = sources[0]  # has a sine track
    dest = tmp_path / "loud.mp4"
    shape = media.ArenaShape(**{**SHAPE.__dict__, "frames": 48})
    media.make_arena_rendition(loud, dest, shape=shape, seed=3)
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(dest), "-f", "null", "-"], capture_output=True, text=True, check=True
    )
    assert decoded.stderr == ""  # the padded frames decode without a complaint
    summary = subprocess.run(
        ["ffmpeg", "-hide_banner", "-i", str(dest), "-map", "0:a", "-af", "ebur128", "-f", "null", "-"],
        capture_output=True,
        text=True,
    ).stderr
    integrated = float(summary.rsplit("I:", 1)[1].split("LUFS")[0])
    assert abs(integrated - SHAPE.loudness_lufs) < 2.0, integrated


def test_a_clip_shorter_than_the_prompt_holds_its_last_frame(sources, tmp_path):
    short = min(range(len(SIGNATURES)), key=lambda i: SIGNATURES[i].seconds)
    long_shape = media.ArenaShape(**{**SHAPE.__dict__, "frames": int(SIGNATURES[short].seconds * 12) + 24})
    info = media.make_arena_rendition(sources[short], tmp_path / "held.mp4", shape=long_shape, seed=4)
    assert info.frame_count == long_shape.frames


def test_a_source_that_is_no_video_is_refused(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all " * 100)
    with pytest.raises(media.InvalidVideo):
        media.make_arena_rendition(broken, tmp_path / "out.mp4", shape=SHAPE, seed=5)
    assert not (tmp_path / "out.mp4").exists()


def nal(kind: int, payload: bytes) -> bytes:
    unit = bytes([kind]) + payload
    return struct.pack(">I", len(unit)) + unit


def test_padding_lengthens_the_filler_or_appends_one():
    slice_nal = nal(0x65, b"\x88\x84\x00")
    with_filler = slice_nal + nal(FILLER_NAL, b"\xff\xff\x80")
    padded = pad_sample(with_filler, len(with_filler) + 5)
    assert len(padded) == len(with_filler) + 5 and padded.startswith(slice_nal)
    assert padded.endswith(b"\xff" * 7 + b"\x80")
    bare = pad_sample(slice_nal, len(slice_nal) + 10)
    assert len(bare) == len(slice_nal) + 10 and bare[len(slice_nal) + 4] == FILLER_NAL
    with pytest.raises(media.FFmpegFailed):
        pad_sample(slice_nal, len(slice_nal) - 1)  # a frame larger than the shape
    with pytest.raises(media.FFmpegFailed):
        pad_sample(slice_nal, len(slice_nal) + 3)  # no filler to grow, no room for one
