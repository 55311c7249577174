"""The sound of an original (workers/media/audio.py) and the web rendition that carries it:
real clips made by ffmpeg, with a tone, with silence, with sound that stops early, with an
undecodable track, and without any audio. No Django, no database."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fakes.backends import scramble_audio_packets
from workers import media
from workers.media import audio

pytestmark = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg/ffprobe not installed (Debian: apt-get install ffmpeg)",
)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True, timeout=60)


def clip(dest: Path, sound: str | None, *, seconds: float = 3.0, audio_args: tuple[str, ...] = ()) -> Path:
    """A 160x90 24 fps clip of `seconds` with the lavfi audio source `sound` (None: no audio)."""
    sources = ["-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=24:duration={seconds}"]
    maps = ["-map", "0:v"]
    if sound is not None:
        sources += ["-f", "lavfi", "-i", sound]
        maps += ["-map", "1:a"]
    ffmpeg(*sources, *maps, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *audio_args, str(dest))
    return dest


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("sound")
    tone = "sine=frequency=440:sample_rate=48000:duration=3"
    made = {
        "tone": clip(d / "tone.mp4", tone, audio_args=("-c:a", "aac", "-ac", "2")),
        "mono_opus": clip(
            d / "mono.mkv", "sine=frequency=330:sample_rate=48000:duration=3", audio_args=("-c:a", "libopus")
        ),
        "silent": clip(d / "silent.mp4", "anullsrc=channel_layout=stereo:sample_rate=44100:duration=3"),
        "short": clip(d / "short.mp4", "sine=frequency=440:sample_rate=48000:duration=1"),
        "gap": clip(d / "gap.mp4", "aevalsrc=if(between(t\\,1\\,2)\\,0\\,0.3*sin(2*PI*440*t)):s=48000:d=3"),
        "loud": clip(d / "loud.mp4", "aevalsrc=0.999*sin(2*PI*3000*t):s=48000:d=3"),
        "long": clip(d / "long.mp4", "sine=frequency=440:sample_rate=48000:duration=8"),
        "none": clip(d / "none.mp4", None),
    }
    made["broken"] = scramble_audio_packets(made["tone"], d / "broken.mp4")
    return made


def analysed(path: Path) -> media.AudioInfo:
    return media.analyse_audio(path, media.probe(path))


def codes(info: media.AudioInfo) -> list[str]:
    return [n.code for n in info.notes]


def test_a_tone_is_described_and_measured(clips):
    info = analysed(clips["tone"])
    assert info.has_audio and info.playable
    assert (info.codec, info.channels, info.sample_rate) == ("aac", 2, 48000)
    assert info.duration_s == pytest.approx(3.0, abs=0.1)
    assert info.video_duration_s == pytest.approx(3.0, abs=0.05)
    # lavfi's sine is 1/8 of full scale (-18 dBFS), spread over two channels at -3 dB each.
    assert info.loudness_lufs is not None and -25 < info.loudness_lufs < -15
    assert info.true_peak_dbtp is not None and -23 < info.true_peak_dbtp < -19
    assert info.silence_share == 0
    assert codes(info) == []
    stored = json.loads(json.dumps(info.as_dict()))
    assert stored["codec"] == "aac" and stored["notes"] == []


def test_other_codecs_and_layouts(clips):
    info = analysed(clips["mono_opus"])
    assert (info.codec, info.channels, info.sample_rate) == ("opus", 1, 48000)
    assert info.playable and codes(info) == []


def test_a_clip_without_audio(clips):
    info = analysed(clips["none"])
    assert not info.has_audio and not info.playable
    assert info.duration_s is None and info.loudness_lufs is None and info.notes == ()
    assert info.as_dict()["has_audio"] is False


def test_a_silent_track_is_noted(clips):
    info = analysed(clips["silent"])
    assert info.has_audio and info.playable  # present and decodable: it is carried, and noted
    assert info.silence_share == pytest.approx(1.0, abs=0.01)
    assert info.true_peak_dbtp is None  # digital silence: -inf
    assert info.loudness_lufs == -70.0  # ebur128's floor
    assert codes(info) == [audio.NOTE_SILENT]


def test_silence_share_counts_the_silent_stretch(clips):
    info = analysed(clips["gap"])
    assert info.silence_share == pytest.approx(1 / 3, abs=0.05)
    assert codes(info) == []


def test_sound_much_shorter_than_the_picture_is_noted(clips):
    info = analysed(clips["short"])
    assert info.playable
    assert info.duration_s == pytest.approx(1.0, abs=0.1)
    assert codes(info) == [audio.NOTE_SHORT]
    assert re.search(r"stops (1.9|2.0)\d s before the picture", info.notes[0].message)


def test_sound_longer_than_the_picture_is_noted_and_cut_in_the_rendition(clips, tmp_path):
    info = analysed(clips["long"])
    assert codes(info) == [audio.NOTE_LONG] and info.duration_s == pytest.approx(8.0, abs=0.1)
    dest = tmp_path / "web.mp4"
    media.make_web_rendition(clips["long"], dest, keep_audio=True)
    (a,) = [s for s in streams(dest) if s["codec_type"] == "audio"]
    assert float(a["duration"]) == pytest.approx(3.0, abs=0.1)  # the player's timeline is the picture's


def test_clipping_is_noted(clips):
    info = analysed(clips["loud"])
    assert info.true_peak_dbtp is not None and info.true_peak_dbtp > 0
    assert audio.NOTE_CLIPPING in codes(info)


def test_an_undecodable_track_is_a_note_not_an_error(clips):
    picture = media.validate(clips["broken"])  # the picture is fine
    info = media.analyse_audio(clips["broken"], picture)
    assert info.has_audio and not info.playable
    assert codes(info) == [audio.NOTE_UNDECODABLE]
    assert "could not be decoded" in info.notes[0].message
    assert info.codec == "aac"  # what the container says is still recorded
    assert info.loudness_lufs is None and info.duration_s is None


def test_analysis_argv_is_safe(clips):
    argv = media.audio_analysis_argv(clips["tone"])
    assert argv[argv.index("-format_whitelist") + 1] == media.ACCEPTED_DEMUXERS
    assert argv[argv.index("-protocol_whitelist") + 1] == "file"
    assert argv[argv.index("-i") + 1] == f"file:{clips['tone']}"
    probe = media.audio_probe_argv(clips["tone"])
    assert probe[probe.index("-format_whitelist") + 1] == media.ACCEPTED_DEMUXERS


# --------------------------------------------------------------------------- the web rendition


def streams(path: Path) -> list[dict]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", path], check=True, capture_output=True, timeout=30
    ).stdout
    return json.loads(out)["streams"]


def test_web_rendition_carries_the_sound_when_asked(clips, tmp_path):
    dest = tmp_path / "web.mp4"
    out = media.make_web_rendition(clips["mono_opus"], dest, keep_audio=True)
    assert out.has_audio
    (a,) = [s for s in streams(dest) if s["codec_type"] == "audio"]
    assert (a["codec_name"], a["channels"], a["sample_rate"]) == ("aac", 2, "48000")
    # The sound is the model's own: measured again, its level is unchanged (no normalisation).
    assert analysed(dest).loudness_lufs == pytest.approx(analysed(clips["mono_opus"]).loudness_lufs, abs=1)


def test_web_rendition_is_silent_by_default_and_without_a_track(clips, tmp_path):
    assert media.make_web_rendition(clips["tone"], tmp_path / "a.mp4").has_audio is False
    assert media.make_web_rendition(clips["none"], tmp_path / "b.mp4", keep_audio=True).has_audio is False


def test_web_rendition_of_a_clip_with_broken_sound_is_made_without_it(clips, tmp_path):
    info = analysed(clips["broken"])
    out = media.make_web_rendition(clips["broken"], tmp_path / "c.mp4", keep_audio=info.playable)
    assert out.has_audio is False and out.frame_count == 72


def test_a_measurement_that_times_out_is_a_note(clips):
    # A decode that cannot finish in time (here: no time at all) is noted, never raised.
    tools = media.Tools(probe_timeout_s=0.000001, transcode_timeout_s=0.000001)
    info = media.analyse_audio(clips["tone"], media.probe(clips["tone"]), tools)
    assert info.has_audio and codes(info) == [audio.NOTE_UNDECODABLE]
    assert "did not finish" in info.notes[0].message
