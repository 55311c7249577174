"""Every ffmpeg / ffprobe call of the project lives in this package or runs through its
supervisor (`process.run`; the demo backend's encoder builds its own argv).

No Django: callers pass configuration as `Tools` (which binaries, which timeouts) and
`MediaLimits` (what we accept). All inputs are treated as untrusted:

* every subprocess gets an argument list (never a shell string), a timeout (the child is
  killed when it expires) and no stdin unless frames are fed to it;
* input paths are made absolute and prefixed with ``file:`` so a crafted name can never be
  read as another protocol or as an option;
* demuxers are restricted with AVFormat's ``format_whitelist`` to the containers we accept
  (MP4/MOV family, Matroska/WebM) and protocols with ``protocol_whitelist=file``, so a
  playlist (HLS), a concat script, an image or an AVI is refused before ffmpeg opens anything
  else; the probed ``format_name`` is checked against an allow-list once more;
* ffprobe's JSON is parsed defensively (types, finiteness, ranges).

Modules, by concern:
    errors        MediaError and its subclasses, each with a short ``code``
    process       runs ffmpeg / ffprobe (timeout, kill, errors)
    tools         binaries and timeouts, shared flags, how an input path is passed
    probing       probe / validate -> VideoInfo
    renditions    web rendition, poster, tagged provenance copy, sha256
    side_by_side  the side-by-side export
    audio         the sound of an original: stream, loudness, true peak, silence, notes
    arena         battle renditions: every clip of a battle in one shape, sizes that say nothing
    filtergraph   filter graphs as text, option values escaped
    mp4           MP4 boxes: reading headers, the padding `free` box
    provenance_c2pa  the C2PA manifest of an original (imported on its own: it loads
                  c2pa-python's native library)

The ``*_argv()`` builders return the exact commands the functions run, so the benchmark can
run the same commands directly. Callers use this package's names: ``media.probe(...)``.
"""

from .arena import ArenaShape, arena_rendition_argv, make_arena_rendition
from .audio import AudioInfo, AudioNote, analyse_audio, audio_analysis_argv, audio_probe_argv
from .errors import FFmpegFailed, FFmpegUnavailable, InvalidVideo, MediaError
from .mp4 import pad_mp4_to_multiple
from .probing import MediaLimits, VideoInfo, probe, probe_argv, validate
from .renditions import (
    make_poster,
    make_tagged_copy,
    make_web_rendition,
    poster_argv,
    sha256_file,
    tagged_copy_argv,
    web_rendition_argv,
)
from .side_by_side import SideBySideLayout, make_side_by_side, side_by_side_argv, wrap_caption
from .tools import ACCEPTED_DEMUXERS, Tools, check_tools

__all__ = [
    "MediaError",
    "InvalidVideo",
    "FFmpegUnavailable",
    "FFmpegFailed",
    "Tools",
    "MediaLimits",
    "VideoInfo",
    "check_tools",
    "probe",
    "validate",
    "make_web_rendition",
    "make_poster",
    "sha256_file",
    "probe_argv",
    "web_rendition_argv",
    "poster_argv",
    "tagged_copy_argv",
    "make_tagged_copy",
    "pad_mp4_to_multiple",
    "SideBySideLayout",
    "side_by_side_argv",
    "make_side_by_side",
    "wrap_caption",
    "ACCEPTED_DEMUXERS",
    "ArenaShape",
    "arena_rendition_argv",
    "make_arena_rendition",
    "AudioInfo",
    "AudioNote",
    "analyse_audio",
    "audio_analysis_argv",
    "audio_probe_argv",
]
