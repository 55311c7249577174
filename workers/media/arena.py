"""Battle renditions: every clip of a battle in one shape, so nothing but the pictures and the
sound tells them apart (webapp/arena/services/renditions.py chooses the shape per prompt).

One canvas (scaled, then letter- or pillar-boxed; square pixels), one frame rate (frames
repeated or dropped: a slow model's judder stays visible, it is content), one frame count (a
short clip holds its last frame, a long one is cut), one audio layout (the source's first audio
track, loudness-normalised to one EBU R128 target, or silence when it has none).

The size of every frame is fixed too: x264 in constant-bitrate mode with a buffer of one
frame and filler data (nal-hrd=cbr, filler, vbv-bufsize = bitrate / fps) writes every frame at
the budget's size whatever it shows, to within a few bytes that equalize.py then pads away, and
periodic intra refresh instead of repeated keyframes keeps that affordable for quality. Opus in
CBR mode (-vbr off) writes equal packets.
So the sample tables, the box layout and sizes, the bitrates in the headers and the byte
count of one shape are the same for every clip; seeded noise (a grain of amplitude 1 in 255,
different for every battle) makes the coded bytes of every battle unique. x264's SEI
messages (its version and settings) are dropped, and the file carries no metadata.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from workers.files import atomic_output

from .equalize import equalize_video_samples
from .errors import FFmpegFailed
from .filtergraph import chain, filter_spec
from .probing import VideoInfo, probe
from .process import run
from .renditions import ffmpeg_failure
from .tools import DEFAULT_TOOLS, GLOBAL_ARGS, PathLike, Tools, file_url, input_args

SAMPLE_RATE = 48000
SAMPLE_MARGIN_BYTES = 64
NOISE_STRENGTH = 1  # of 255: below what the eye sees, enough to change every coded block
_STRIP_SEI_BSF = "filter_units=remove_types=6"
_COMPRESSOR_NAME = "AVC Coding"  # not libavcodec's name: the sample entry says what the format is


@dataclass(frozen=True)
class ArenaShape:
    width: int
    height: int
    fps: int
    frames: int
    video_bitrate: int  # bits per second, constant
    audio_bitrate: int = 96000
    loudness_lufs: float = -23.0  # EBU R128 integrated loudness target
    true_peak_dbtp: float = -1.0

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps

    @property
    def sample_size(self) -> int:
        """Bytes of every video frame in the file: the encoder's one-frame budget and a margin
        it never fills (frames come out within a few bytes of the budget, the first one below
        it), so equalize.py can pad each one up to exactly this."""
        return math.ceil(self.video_bitrate / self.fps / 8) + SAMPLE_MARGIN_BYTES


def arena_rendition_argv(
    src: PathLike,
    dest: PathLike,
    *,
    shape: ArenaShape,
    seed: int,
    video_stream: int,
    has_audio: bool,
    tools: Tools = DEFAULT_TOOLS,
) -> list[str]:
    """The ffmpeg command that writes `src`'s battle rendition in `shape` to `dest`."""
    w, h = shape.width, shape.height
    video = chain(
        filter_spec("scale", w=w, h=h, force_original_aspect_ratio="decrease"),
        filter_spec("pad", w=w, h=h, x="(ow-iw)/2", y="(oh-ih)/2", color="black"),
        filter_spec("setsar", 1),
        filter_spec("fps", fps=shape.fps),
        filter_spec("tpad", stop_mode="clone", stop=-1),
        filter_spec("trim", end_frame=shape.frames),
        filter_spec("setpts", "PTS-STARTPTS"),
        filter_spec("noise", alls=NOISE_STRENGTH, allf="t", all_seed=seed),
        filter_spec("format", "yuv420p"),
    )
    audio = chain(
        filter_spec("loudnorm", I=shape.loudness_lufs, TP=shape.true_peak_dbtp, LRA=11),
        filter_spec("aresample", SAMPLE_RATE),
        filter_spec("aformat", sample_fmts="flt", channel_layouts="stereo"),
        filter_spec("apad"),
        filter_spec("atrim", end=f"{shape.duration_s:.6f}"),
        filter_spec("asetpts", "PTS-STARTPTS"),
    )
    audio_in = "[0:a:0]" if has_audio else "[1:a]"
    graph = f"[0:{int(video_stream)}]{video}[v];{audio_in}{audio}[a]"
    bitrate = str(int(shape.video_bitrate))
    one_frame = str(int(shape.video_bitrate // shape.fps))
    x264 = f"nal-hrd=cbr:filler=1:intra-refresh=1:keyint={shape.fps}:scenecut=0:bframes=0"
    return [
        tools.ffmpeg, *GLOBAL_ARGS, *input_args(src),
        "-f", "lavfi", "-i", filter_spec("anullsrc", r=SAMPLE_RATE, cl="stereo"),
        "-filter_complex", graph, "-map", "[v]", "-map", "[a]", "-sn", "-dn",
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-b:v", bitrate, "-minrate", bitrate, "-maxrate", bitrate, "-bufsize", one_frame, "-x264-params", x264,
        "-bsf:v", _STRIP_SEI_BSF,
        "-c:a", "libopus", "-b:a", str(int(shape.audio_bitrate)), "-vbr", "off", "-ar", str(SAMPLE_RATE), "-ac", "2",
        "-video_track_timescale", str(shape.fps * 512),
        "-map_metadata", "-1", "-map_chapters", "-1", "-metadata:s:v:0", f"encoder={_COMPRESSOR_NAME}",
        "-flags:v", "+bitexact", "-flags:a", "+bitexact", "-fflags", "+bitexact", "-movflags", "+faststart",
        "-f", "mp4", file_url(dest),
    ]  # fmt: skip


def make_arena_rendition(
    src: PathLike,
    dest: PathLike,
    *,
    shape: ArenaShape,
    seed: int,
    tools: Tools = DEFAULT_TOOLS,
    source: VideoInfo | None = None,
) -> VideoInfo:
    """Write `src`'s battle rendition in `shape` to `dest` (replaced only when complete) and
    return its VideoInfo. Raises InvalidVideo when `src` cannot be decoded, FFmpegFailed when
    the output does not have the shape's frames."""
    info = source if source is not None else probe(src, tools)
    with atomic_output(dest) as tmp:
        argv = arena_rendition_argv(
            src, tmp, shape=shape, seed=seed, video_stream=info.stream_index, has_audio=info.has_audio, tools=tools
        )
        what = "ffmpeg (battle rendition)"
        finished = run(argv, timeout=tools.transcode_timeout_s, what=what, check=False)
        if finished.returncode != 0:
            raise ffmpeg_failure(src, what, finished)
        equalize_video_samples(tmp, shape.sample_size, shape.fps)
        out = probe(tmp, tools)
        if out.frame_count != shape.frames or (out.width, out.height) != (shape.width, shape.height):
            raise FFmpegFailed(
                f"{what} made {out.frame_count} frames of {out.width}x{out.height}, "
                f"not {shape.frames} of {shape.width}x{shape.height}"
            )
    return out
