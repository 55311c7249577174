"""Tests for workers/media/: pure (no Django, no database), real ffmpeg/ffprobe.

Fixture videos are generated once per session with lavfi's testsrc2; nothing binary is
committed. Run with: .venv/bin/python -m pytest tests/unit/test_media.py -q
(or, without pytest-django: add -p no:django --noconftest; tests/conftest.py needs Django).

Over ~400 lines on purpose: every test runs real ffmpeg on clips the helpers at the top make;
the sections (probe, limits, rendition, poster, tools) follow workers/media's modules.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from workers import media
from workers.media import (
    FFmpegFailed,
    FFmpegUnavailable,
    InvalidVideo,
    MediaError,
    MediaLimits,
    Tools,
    VideoInfo,
    mp4,
    probing,
)

pytestmark = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg/ffprobe not installed (Debian: apt-get install ffmpeg)",
)


# --------------------------------------------------------------------------- helpers


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
        check=True,
        timeout=60,
    )


def ffprobe_json(path: Path, *args: str) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", *args, "-of", "json", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    return json.loads(out)


def top_level_atoms(path: Path) -> list[str]:
    return [box.type.decode("latin-1") for box in mp4.top_level_boxes(path)]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def lavfi_video(dest: Path, *, size: str, rate: int, duration: float, extra: tuple[str, ...] = ()) -> Path:
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={duration}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *extra, str(dest),
    )  # fmt: skip
    return dest


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("media")
    v: dict[str, Path] = {}
    v["good"] = lavfi_video(d / "good.mp4", size="320x240", rate=24, duration=2)
    v["fast_start"] = lavfi_video(
        d / "fast_start.mp4", size="320x240", rate=24, duration=4, extra=("-movflags", "+faststart")
    )
    # Odd dimensions (4:4:4 allows them), an audio track and identifying metadata.
    v["secret"] = d / "secret.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=482x272:rate=24:duration=2",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
        "-vf", "scale=481:271,format=yuv444p", "-c:v", "libx264", "-preset", "ultrafast",
        "-c:a", "aac", "-metadata", "title=SECRET", "-metadata", "comment=vendor-x",
        str(v["secret"]),
    )  # fmt: skip
    v["hd60"] = lavfi_video(d / "hd60.mp4", size="1280x720", rate=60, duration=1)
    v["webm"] = d / "good.webm"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1",
        "-c:v", "libvpx", "-b:v", "300k", str(v["webm"]),
    )  # fmt: skip
    v["audio"] = d / "audio.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", str(v["audio"]))
    v["png"] = d / "image.png"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x64", "-frames:v", "1", str(v["png"]))
    v["png_named_mp4"] = d / "image_in_disguise.mp4"
    shutil.copy(v["png"], v["png_named_mp4"])
    v["avi"] = d / "clip.avi"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x64:rate=10:duration=1", "-c:v", "mjpeg", str(v["avi"]))
    v["text"] = d / "notes.mp4"
    v["text"].write_text("this is just some text, certainly not a video\n" * 20)
    v["empty"] = d / "empty.mp4"
    v["empty"].write_bytes(b"")
    v["hls"] = d / "playlist.mp4"
    v["hls"].write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n{v['good']}\n#EXT-X-ENDLIST\n")
    v["concat"] = d / "concat.mp4"
    v["concat"].write_text(f"ffconcat version 1.0\nfile '{v['good']}'\nfile '/etc/passwd'\n")
    # Cut in half: moov first -> ffprobe still succeeds, decoding stops halfway.
    data = v["fast_start"].read_bytes()
    v["trunc_fast_start"] = d / "trunc_fast_start.mp4"
    v["trunc_fast_start"].write_bytes(data[: len(data) // 2])
    # Cut in half: moov last -> the index is gone.
    data = v["good"].read_bytes()
    assert top_level_atoms(v["good"])[-1] == "moov"
    v["trunc_moov_last"] = d / "trunc_moov_last.mp4"
    v["trunc_moov_last"].write_bytes(data[: len(data) // 2])
    return v


@pytest.fixture(scope="session")
def secret_rendition(videos, tmp_path_factory) -> tuple[Path, VideoInfo]:
    dest = tmp_path_factory.mktemp("rendition") / "web.mp4"
    info = media.make_web_rendition(videos["secret"], dest)
    return dest, info


# --------------------------------------------------------------------------- probe


def test_probe_good_mp4(videos):
    info = media.probe(videos["good"])
    assert info == VideoInfo(
        duration_s=pytest.approx(2.0, abs=0.05),
        width=320,
        height=240,
        fps=pytest.approx(24.0),
        codec="h264",
        pix_fmt="yuv420p",
        bytes=os.path.getsize(videos["good"]),
        container="mov,mp4,m4a,3gp,3g2,mj2",
        has_audio=False,
        frame_count=48,
        stream_index=0,
    )


def test_probe_webm_and_audio_flag(videos):
    info = media.probe(videos["webm"])
    assert (info.container, info.codec, info.fps, info.frame_count) == ("matroska,webm", "vp8", 25.0, None)
    assert media.probe(videos["secret"]).has_audio is True


def test_probe_accepts_hostile_file_names(videos, tmp_path, monkeypatch):
    # Neither an option nor a protocol: paths are passed as file:<absolute path>.
    evil = tmp_path / "-i concat:x|y.mp4"
    shutil.copy(videos["good"], evil)
    assert media.probe(evil).width == 320
    monkeypatch.chdir(tmp_path)
    assert media.probe("-i concat:x|y.mp4").height == 240


@pytest.mark.parametrize(
    "name, code",
    [
        ("text", "not_a_video"),
        ("png", "not_a_video"),
        ("png_named_mp4", "not_a_video"),
        ("empty", "empty_file"),
        ("audio", "no_video_stream"),
        ("hls", "unsupported_container"),
        ("concat", "unsupported_container"),
        ("avi", "unsupported_container"),
        ("trunc_moov_last", "decode_failed"),
    ],
)
def test_probe_rejects_invalid_inputs(videos, name, code):
    with pytest.raises(InvalidVideo) as exc:
        media.probe(videos[name])
    assert exc.value.code == code
    message = str(exc.value)
    assert message and "\n" not in message and "file:" not in message  # user-fit, no stderr


def test_probe_refuses_non_regular_files(tmp_path):
    with pytest.raises(InvalidVideo) as exc:
        media.probe(tmp_path)
    assert exc.value.code == "not_a_video"
    fifo = tmp_path / "fifo.mp4"
    os.mkfifo(fifo)
    with pytest.raises(InvalidVideo):
        media.probe(fifo)  # must not block reading the FIFO


def test_probe_json_garbage_is_rejected():
    good_stream = {
        "index": 0, "codec_type": "video", "codec_name": "h264", "width": 64, "height": 64,
        "pix_fmt": "yuv420p", "avg_frame_rate": "24/1", "r_frame_rate": "24/1",
        "duration": "1.0", "nb_frames": "24", "disposition": {"attached_pic": 0},
    }  # fmt: skip
    fmt = {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "1.0"}
    assert probing._info_from_probe({"format": fmt, "streams": [good_stream]}, 10).fps == 24.0

    def rejected(stream_changes=None, fmt_changes=None, data=None):
        s = {**good_stream, **(stream_changes or {})}
        f = {**fmt, **(fmt_changes or {})}
        with pytest.raises(InvalidVideo) as exc:
            probing._info_from_probe(data if data is not None else {"format": f, "streams": [s]}, 10)
        return exc.value.code

    assert rejected(data=[]) == "decode_failed"
    assert rejected(data={"format": fmt}) == "decode_failed"
    assert rejected(fmt_changes={"format_name": "hls"}) == "unsupported_container"
    assert rejected({"width": "wide"}) == "decode_failed"
    assert rejected({"height": 0}) == "decode_failed"
    assert rejected({"width": True}) == "decode_failed"
    assert rejected({"duration": "N/A"}, {"duration": "nan"}) == "decode_failed"
    assert rejected({"duration": "0"}, {"duration": "0.000000"}) == "decode_failed"
    assert rejected({"duration": None}, {"duration": None}) == "decode_failed"
    assert rejected({"avg_frame_rate": "0/0", "r_frame_rate": "0/0", "nb_frames": None}) == "decode_failed"
    assert rejected({"codec_name": None}) == "unsupported_codec"
    assert rejected({"pix_fmt": None}) == "decode_failed"
    assert rejected({"codec_type": "audio"}) == "no_video_stream"
    assert rejected({"disposition": {"attached_pic": 1}}) == "no_video_stream"  # cover art only


def test_parse_rate():
    assert probing._parse_rate("24/1") == 24.0
    assert probing._parse_rate("30000/1001") == pytest.approx(29.97, abs=0.01)
    assert probing._parse_rate("25") == 25.0
    for bad in ("0/0", "0/1", "1/0", "N/A", "", "abc", None, 24, "-24/1", "1e9/1", "inf"):
        assert probing._parse_rate(bad) is None


def test_fps_falls_back_to_r_frame_rate_then_frame_count():
    stream = {
        "index": 0, "codec_type": "video", "codec_name": "h264", "width": 64, "height": 64,
        "pix_fmt": "yuv420p", "avg_frame_rate": "0/0", "r_frame_rate": "30/1", "duration": "2",
        "nb_frames": "20",
    }  # fmt: skip
    fmt = {"format_name": "matroska,webm", "duration": "2"}
    assert probing._info_from_probe({"format": fmt, "streams": [stream]}, 1).fps == 30.0
    stream["r_frame_rate"] = "0/0"
    assert probing._info_from_probe({"format": fmt, "streams": [stream]}, 1).fps == 10.0


# --------------------------------------------------------------------------- limits


@pytest.mark.parametrize(
    "limits, code",
    [
        (MediaLimits(max_bytes=1000), "too_large"),
        (MediaLimits(max_duration_s=1.0), "too_long"),
        (MediaLimits(min_duration_s=3.0), "too_short"),
        (MediaLimits(max_width=300), "resolution_too_large"),
        (MediaLimits(max_height=200), "resolution_too_large"),
        (MediaLimits(min_side=241), "resolution_too_small"),
    ],
)
def test_validate_limits(videos, limits, code):
    with pytest.raises(InvalidVideo) as exc:
        media.validate(videos["good"], limits)
    assert exc.value.code == code
    assert str(exc.value)


def test_validate_accepts_within_limits(videos):
    info = media.validate(videos["good"], MediaLimits())
    assert (info.width, info.height) == (320, 240)


def test_validate_checks_size_before_probing(videos):
    # The size check must not run ffprobe: a missing ffprobe does not matter here.
    tools = Tools(ffprobe="/nonexistent/ffprobe")
    with pytest.raises(InvalidVideo) as exc:
        media.validate(videos["good"], MediaLimits(max_bytes=10), tools)
    assert exc.value.code == "too_large"


# --------------------------------------------------------------------------- rendition


def test_rendition_is_h264_yuv420p_even_and_silent(videos, secret_rendition):
    dest, info = secret_rendition
    assert (info.width, info.height) == (480, 270)  # from 481x271
    assert info.codec == "h264" and info.pix_fmt == "yuv420p"
    assert info.has_audio is False and info.frame_count == 48
    assert info.fps == pytest.approx(24.0)
    assert info.bytes == dest.stat().st_size
    streams = ffprobe_json(dest, "-show_streams")["streams"]
    assert [s["codec_type"] for s in streams] == ["video"]
    assert streams[0]["profile"] in {"High", "Main", "Constrained Baseline"}


def test_rendition_is_faststart(secret_rendition):
    atoms = top_level_atoms(secret_rendition[0])
    assert "moov" in atoms and "mdat" in atoms
    assert atoms.index("moov") < atoms.index("mdat")


def test_rendition_has_no_metadata(secret_rendition):
    dest, _ = secret_rendition
    probed = ffprobe_json(dest, "-show_format", "-show_streams", "-show_chapters")
    tags = probed["format"].get("tags", {})
    assert not {"title", "comment", "encoder"} & set(tags), tags
    assert probed.get("chapters", []) == []
    stream_tags = probed["streams"][0].get("tags", {})
    assert "x264" not in json.dumps(stream_tags) and "Lav" not in json.dumps(stream_tags)
    data = dest.read_bytes()
    for leak in (b"SECRET", b"vendor-x", b"x264", b"Lavf", b"Lavc", b"libx264"):
        assert leak not in data, leak


def test_rendition_is_deterministic(videos, tmp_path, secret_rendition):
    again = tmp_path / "again.mp4"
    media.make_web_rendition(videos["secret"], again)
    assert media.sha256_file(again) == media.sha256_file(secret_rendition[0])


def test_rendition_caps_height_and_fps(videos, tmp_path):
    dest = tmp_path / "hd.mp4"
    info = media.make_web_rendition(videos["hd60"], dest, max_height=360)
    assert (info.width, info.height) == (640, 360)
    assert info.fps == pytest.approx(30.0)
    assert info.frame_count == 30


def test_rendition_accepts_source_info_and_webm(videos, tmp_path):
    src_info = media.validate(videos["webm"])
    info = media.make_web_rendition(videos["webm"], tmp_path / "w.mp4", source=src_info)
    assert (info.container, info.width, info.height, info.fps) == ("mov,mp4,m4a,3gp,3g2,mj2", 320, 240, 25.0)


def test_rendition_of_truncated_video_fails_cleanly(videos, tmp_path):
    src = videos["trunc_fast_start"]
    assert media.probe(src).duration_s == pytest.approx(4.0, abs=0.05)  # moov first: probes fine
    dest = tmp_path / "out.mp4"
    with pytest.raises(InvalidVideo) as exc:
        media.make_web_rendition(src, dest)
    assert exc.value.code == "decode_failed"
    assert not dest.exists()
    assert leftovers(tmp_path) == []


def test_rendition_timeout_kills_and_cleans_up(videos, tmp_path):
    dest = tmp_path / "out.mp4"
    with pytest.raises(FFmpegFailed) as exc:
        media.make_web_rendition(videos["good"], dest, tools=Tools(transcode_timeout_s=0.001))
    assert exc.value.code == "ffmpeg_timeout"
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []


def test_rendition_failure_reports_stderr_and_leaves_nothing(videos, tmp_path):
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'first line' >&2\necho 'boom: encoder exploded' >&2\nexit 3\n")
    fake.chmod(0o755)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(FFmpegFailed) as exc:
        media.make_web_rendition(videos["good"], out_dir / "web.mp4", tools=Tools(ffmpeg=str(fake)))
    assert exc.value.code == "ffmpeg_failed"
    assert "boom: encoder exploded" in str(exc.value)
    assert list(out_dir.iterdir()) == []


def test_rendition_replaces_existing_dest_atomically(videos, tmp_path):
    dest = tmp_path / "web.mp4"
    dest.write_bytes(b"old")
    media.make_web_rendition(videos["good"], dest)
    assert media.probe(dest).codec == "h264"
    assert leftovers(tmp_path) == []


def test_argv_is_a_list_with_whitelists(videos, tmp_path):
    argv = media.web_rendition_argv(videos["good"], tmp_path / "o.mp4", fps=60)
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    assert argv[argv.index("-format_whitelist") + 1] == media.ACCEPTED_DEMUXERS
    assert argv[argv.index("-protocol_whitelist") + 1] == "file"
    assert argv[argv.index("-i") + 1] == f"file:{videos['good']}"
    assert "fps=fps=30" in argv[argv.index("-filter_complex") + 1]
    assert "fps=" not in " ".join(media.web_rendition_argv(videos["good"], tmp_path / "o.mp4", fps=24))
    for flag in ("-an", "-map_metadata", "-map_chapters", "-fflags", "-flags:v", "-bsf:v"):
        assert flag in argv
    assert "-protocol_whitelist" in media.probe_argv(videos["good"])
    assert "-format_whitelist" in media.poster_argv(videos["good"], at_s=0.5)


# --------------------------------------------------------------------------- poster


def test_poster_is_jpeg_of_requested_width(videos, tmp_path):
    dest = tmp_path / "poster.jpg"
    size = media.make_poster(videos["good"], dest, at_s=0.5, width=200)
    assert size == (200, 150)
    with Image.open(dest) as im:
        assert im.format == "JPEG" and im.size == (200, 150)
        assert not im.getexif()
        assert "exif" not in im.info and "icc_profile" not in im.info
    assert leftovers(tmp_path) == []


def test_poster_clamps_time_and_default_width(videos, tmp_path):
    dest = tmp_path / "poster.jpg"
    assert media.make_poster(videos["secret"], dest, at_s=1e6) == (640, 361)
    assert media.make_poster(videos["good"], dest, at_s=float("nan")) == (640, 480)


# --------------------------------------------------------------------------- tools


def test_check_tools_ok():
    media.check_tools(Tools())


@pytest.mark.parametrize("field", ["ffmpeg", "ffprobe"])
def test_missing_binary_raises_unavailable(videos, tmp_path, field):
    tools = Tools(**{field: f"/nonexistent/{field}"})
    with pytest.raises(FFmpegUnavailable) as exc:
        media.check_tools(tools)
    assert exc.value.code == "ffmpeg_missing"
    assert "apt-get install ffmpeg" in str(exc.value)
    with pytest.raises(FFmpegUnavailable):
        media.make_web_rendition(videos["good"], tmp_path / "o.mp4", tools=tools)
    with pytest.raises(FFmpegUnavailable):
        media.make_poster(videos["good"], tmp_path / "p.jpg", at_s=0, tools=tools)
    assert leftovers(tmp_path) == [] and not (tmp_path / "o.mp4").exists()


def test_non_executable_binary_raises_unavailable(videos, tmp_path):
    fake = tmp_path / "ffprobe"
    fake.write_text("not a program")
    fake.chmod(stat.S_IRUSR | stat.S_IWUSR)
    with pytest.raises(FFmpegUnavailable):
        media.probe(videos["good"], Tools(ffprobe=str(fake)))


# --------------------------------------------------------------------------- misc


def test_sha256_file(tmp_path):
    f = tmp_path / "blob"
    data = os.urandom(3 * 1024 * 1024 + 17)
    f.write_bytes(data)
    assert media.sha256_file(f) == hashlib.sha256(data).hexdigest()
    (tmp_path / "nothing").write_bytes(b"")
    assert media.sha256_file(tmp_path / "nothing") == hashlib.sha256(b"").hexdigest()


def test_errors_carry_code_and_survive_pickling():
    for exc in (
        InvalidVideo("The file is empty.", code="empty_file"),
        FFmpegFailed("x timed out", code="ffmpeg_timeout", detail="tail"),
        FFmpegUnavailable("install it"),
    ):
        assert isinstance(exc, MediaError)
        back = pickle.loads(pickle.dumps(exc))
        assert (type(back), back.code, str(back), back.detail) == (type(exc), exc.code, str(exc), exc.detail)
    assert FFmpegUnavailable("x").code == "ffmpeg_missing"
    assert FFmpegFailed("x").code == "ffmpeg_failed"


def test_ffmpeg_itself_refuses_other_demuxers(videos, tmp_path):
    # Even when a caller hands over a VideoInfo for the wrong file, ffmpeg's own
    # format_whitelist refuses a playlist / concat script / image: nothing is produced.
    good = media.probe(videos["good"])
    for name, code in (("hls", "unsupported_container"), ("concat", "unsupported_container"), ("png", "not_a_video")):
        dest = tmp_path / f"{name}.mp4"
        with pytest.raises(InvalidVideo) as exc:
            media.make_web_rendition(videos[name], dest, source=good)
        assert exc.value.code == code, name
        with pytest.raises(InvalidVideo):
            media.make_poster(videos[name], tmp_path / f"{name}.jpg", at_s=0.5, source=good)
    assert list(tmp_path.iterdir()) == []


def test_padding_to_a_size_bucket_keeps_the_video_intact(tmp_path, videos):
    padded = tmp_path / "padded.mp4"
    shutil.copy(videos["fast_start"], padded)
    before = media.probe(padded)
    size = media.pad_mp4_to_multiple(padded, 64 * 1024)
    assert size == padded.stat().st_size and size % (64 * 1024) == 0
    after = media.probe(padded)
    assert (after.duration_s, after.width, after.height, after.frame_count) == (
        before.duration_s,
        before.width,
        before.height,
        before.frame_count,
    )
    assert media.pad_mp4_to_multiple(padded, 64 * 1024) == size  # already a multiple: unchanged
