"""The sound of an original: what its first audio stream is (codec, channels, sample rate,
duration) and what it sounds like (EBU R128 integrated loudness and true peak from ffmpeg's
``ebur128`` filter, the share of it that is silence from ``silencedetect``), with notes on
what is wrong with it (it cannot be decoded, ends well before the picture, is silent, clips).

Nothing here refuses a clip: a broken sound track is described, never raised, so the picture
still gets its clip and the note says what happened to the sound. Only a missing ffmpeg /
ffprobe (FFmpegUnavailable) propagates, as it does everywhere in this package.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .errors import FFmpegFailed
from .filtergraph import chain, filter_spec
from .probing import VideoInfo
from .process import run, stderr_tail
from .tools import DEFAULT_TOOLS, PathLike, Tools, ffprobe_args, file_url, input_args

# Below this level (dBFS) for at least SILENCE_MIN_S a stretch counts as silence.
SILENCE_NOISE_DB = -60.0
SILENCE_MIN_S = 0.5
# The sound may end this much before (or run on after) the picture before it is noted.
DURATION_TOLERANCE_S = 0.5
# A track this much silence is noted as silent.
SILENT_SHARE = 0.99

NOTE_UNDECODABLE = "undecodable"
NOTE_DECODE_ERRORS = "decode_errors"
NOTE_SHORT = "audio_shorter_than_video"
NOTE_LONG = "audio_longer_than_video"
NOTE_SILENT = "silent"
NOTE_CLIPPING = "clipping"


@dataclass(frozen=True)
class AudioNote:
    code: str
    message: str


@dataclass(frozen=True)
class AudioInfo:
    """What the media stage recorded of an original's sound (`as_dict` is what is stored)."""

    has_audio: bool
    video_duration_s: float
    codec: str = ""
    channels: int | None = None
    sample_rate: int | None = None
    duration_s: float | None = None  # decoded, not the header's claim
    loudness_lufs: float | None = None  # integrated (EBU R128); None when nothing could be measured
    true_peak_dbtp: float | None = None  # None for digital silence (-inf)
    silence_share: float | None = None  # 0..1 of the decoded duration
    notes: tuple[AudioNote, ...] = field(default_factory=tuple)

    @property
    def playable(self) -> bool:
        """A track the web rendition can carry (present and decodable)."""
        return self.has_audio and not any(n.code == NOTE_UNDECODABLE for n in self.notes)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["notes"] = [asdict(n) for n in self.notes]
        return data


def audio_probe_argv(path: PathLike, tools: Tools = DEFAULT_TOOLS) -> list[str]:
    """The ffprobe command that describes the first audio stream (JSON on stdout)."""
    return [
        *ffprobe_args(tools),
        "-select_streams", "a:0",
        "-show_entries", "stream=index,codec_name,channels,sample_rate,duration",
        "-of", "json",
        file_url(path),
    ]  # fmt: skip


def audio_analysis_argv(path: PathLike, tools: Tools = DEFAULT_TOOLS) -> list[str]:
    """The ffmpeg command that decodes the first audio stream to nothing, measuring it: the
    silences and the loudness summary go to stderr (log level info, per-frame lines at
    verbose), the decoded duration to stdout (``-progress``)."""
    graph = chain(
        filter_spec("silencedetect", noise=f"{SILENCE_NOISE_DB:g}dB", duration=SILENCE_MIN_S),
        filter_spec("ebur128", peak="true", framelog="verbose"),
    )
    return [
        tools.ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
        *input_args(path),
        "-filter_complex", f"[0:a:0]{graph}[a]", "-map", "[a]", "-vn", "-sn", "-dn",
        "-progress", "pipe:1", "-f", "null", "-",
    ]  # fmt: skip


def analyse_audio(path: PathLike, video: VideoInfo, tools: Tools = DEFAULT_TOOLS) -> AudioInfo:
    """Describe and measure `path`'s first audio stream against its picture (`video`, from
    `probe`/`validate`). Never raises for a bad track: the returned notes say what is wrong."""
    if not video.has_audio:
        return AudioInfo(has_audio=False, video_duration_s=video.duration_s)
    stream = _describe(path, tools)
    try:
        finished = run(
            audio_analysis_argv(path, tools), timeout=tools.transcode_timeout_s, what="ffmpeg (sound)", check=False
        )
    except FFmpegFailed as exc:  # a timeout
        return _undecodable(video, stream, f"Measuring the sound did not finish: {exc}")
    log = finished.stderr.decode("utf-8", errors="replace")
    decoded = _decoded_duration(finished.stdout)
    errors = _DECODE_ERROR.findall(log)
    if finished.returncode != 0 or not decoded:
        detail = errors[0].strip() if errors else (stderr_tail(log, lines=1) or "no audio came out")
        return _undecodable(video, stream, f"The sound track could not be decoded ({detail[:200]}).")
    silence = _silence_seconds(log, decoded)
    loudness, peak = _loudness(log)
    info = AudioInfo(
        has_audio=True,
        video_duration_s=video.duration_s,
        codec=stream.get("codec", ""),
        channels=stream.get("channels"),
        sample_rate=stream.get("sample_rate"),
        duration_s=round(decoded, 3),
        loudness_lufs=loudness,
        true_peak_dbtp=peak,
        silence_share=round(min(1.0, silence / decoded), 4),
    )
    notes = _notes(info)
    if errors:
        notes.insert(
            0, AudioNote(NOTE_DECODE_ERRORS, f"Parts of the sound could not be decoded ({len(errors)} errors).")
        )
    return replace(info, notes=tuple(notes))


def _undecodable(video: VideoInfo, stream: dict[str, Any], message: str) -> AudioInfo:
    return AudioInfo(
        has_audio=True,
        video_duration_s=video.duration_s,
        codec=stream.get("codec", ""),
        channels=stream.get("channels"),
        sample_rate=stream.get("sample_rate"),
        notes=(AudioNote(NOTE_UNDECODABLE, message),),
    )


def _notes(info: AudioInfo) -> list[AudioNote]:
    notes = []
    assert info.duration_s is not None
    gap = info.video_duration_s - info.duration_s
    if gap > DURATION_TOLERANCE_S:
        notes.append(
            AudioNote(
                NOTE_SHORT,
                f"The sound lasts {info.duration_s:.2f} s and stops {gap:.2f} s before the picture "
                f"({info.video_duration_s:.2f} s).",
            )
        )
    elif -gap > DURATION_TOLERANCE_S:
        notes.append(
            AudioNote(
                NOTE_LONG,
                f"The sound lasts {info.duration_s:.2f} s, {-gap:.2f} s longer than the picture "
                f"({info.video_duration_s:.2f} s).",
            )
        )
    if info.silence_share is not None and info.silence_share >= SILENT_SHARE:
        notes.append(AudioNote(NOTE_SILENT, "The sound track is silent (below -60 dBFS throughout)."))
    if info.true_peak_dbtp is not None and info.true_peak_dbtp > 0.0:
        notes.append(AudioNote(NOTE_CLIPPING, f"The true peak is {info.true_peak_dbtp:+.1f} dBTP: the sound clips."))
    return notes


def _describe(path: PathLike, tools: Tools) -> dict[str, Any]:
    """Codec, channels and sample rate as the container states them ({} when unreadable)."""
    try:
        proc = run(audio_probe_argv(path, tools), timeout=tools.probe_timeout_s, what="ffprobe (sound)", check=False)
    except FFmpegFailed:  # a timeout: the measurement below says what it can
        return {}
    if proc.returncode != 0:
        return {}
    try:
        streams = json.loads(proc.stdout.decode("utf-8", errors="replace")).get("streams")
    except (ValueError, AttributeError):
        return {}
    if not isinstance(streams, list) or not streams or not isinstance(streams[0], dict):
        return {}
    s = streams[0]
    out: dict[str, Any] = {}
    if isinstance(s.get("codec_name"), str) and re.fullmatch(r"[A-Za-z0-9_]{1,32}", s["codec_name"]):
        out["codec"] = s["codec_name"]
    channels = s.get("channels")
    if isinstance(channels, int) and not isinstance(channels, bool) and 0 < channels <= 64:
        out["channels"] = channels
    rate = s.get("sample_rate")
    if isinstance(rate, str) and re.fullmatch(r"\d{1,7}", rate) and 0 < int(rate) <= 768000:
        out["sample_rate"] = int(rate)
    return out


def _decoded_duration(progress: bytes) -> float | None:
    """The last ``out_time_us`` of ffmpeg's -progress output, in seconds."""
    values = re.findall(rb"^out_time_us=(\d{1,15})\s*$", progress, flags=re.M)
    if not values:
        return None
    seconds = int(values[-1]) / 1e6
    return seconds if seconds > 0 else None


_DECODE_ERROR = re.compile(r"^.*Error while decoding stream.*$", flags=re.M)
_SILENCE_START = re.compile(r"silence_start: (-?\d+(?:\.\d+)?)")
_SILENCE_END = re.compile(r"silence_end: (-?\d+(?:\.\d+)?)")


def _silence_seconds(log: str, decoded: float) -> float:
    """Total silence from silencedetect's lines (a start without an end runs to the end)."""
    total, start = 0.0, None
    for line in log.splitlines():
        if m := _SILENCE_START.search(line):
            start = max(0.0, float(m.group(1)))
        elif (m := _SILENCE_END.search(line)) and start is not None:
            total += max(0.0, float(m.group(1)) - start)
            start = None
    if start is not None:
        total += max(0.0, decoded - start)
    return total


def _level(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return round(value, 1) if math.isfinite(value) else None


def _loudness(log: str) -> tuple[float | None, float | None]:
    """Integrated loudness (LUFS) and true peak (dBTP) from the last ebur128 summary (the
    filter may be set up, and report, more than once). ebur128 reports -70 LUFS for silence,
    below its absolute gate: that is kept as measured."""
    summary = log.rsplit("Summary:", 1)
    if len(summary) < 2:
        return None, None
    i = re.search(r"\bI:\s+(-?(?:\d+(?:\.\d+)?|inf)) LUFS", summary[1])
    peak = re.search(r"\bPeak:\s+(-?(?:\d+(?:\.\d+)?|inf)) dBFS", summary[1])
    return _level(i.group(1) if i else None), _level(peak.group(1) if peak else None)
