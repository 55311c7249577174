"""Videos that differ in everything a model's output can differ in besides the picture:
resolution, frame rate, duration, sound, encoder and container. The blindness test and the
leak benchmark give one to each model, so a battle rendition that kept any of it would show."""

from __future__ import annotations

import functools
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Signature:
    width: int
    height: int
    fps: int
    seconds: float
    audio: bool
    video_codec: str = "libx264"  # or mpeg4, libx265
    pattern: str = "testsrc2"  # lavfi source: testsrc2, smptebars, life, rgbtestsrc
    bitrate: str = ""  # e.g. "3M": a vendor that spends more bits


# Nine different vendors' outputs.
SIGNATURES = [
    Signature(1280, 720, 24, 4.0, True, "libx264", "testsrc2", "4M"),
    Signature(768, 1280, 30, 5.0, False, "libx264", "smptebars"),
    Signature(1920, 1080, 25, 3.0, True, "mpeg4", "rgbtestsrc", "8M"),
    Signature(640, 360, 60, 2.5, False, "libx264", "life"),
    Signature(1024, 576, 16, 6.0, True, "libx265", "smptebars"),
    Signature(960, 960, 24, 4.5, False, "mpeg4", "testsrc2", "1M"),
    Signature(1280, 720, 30, 8.0, True, "libx264", "smptebars", "500k"),
    Signature(854, 480, 12, 4.0, True, "libx264", "rgbtestsrc"),
    Signature(360, 640, 50, 3.5, False, "libx265", "testsrc2"),
]


@functools.cache
def signature_video(sig: Signature) -> bytes:
    """An MP4 with this signature (made once per process)."""
    size = f"{sig.width}x{sig.height}"
    source = f"{sig.pattern}=size={size}:rate={sig.fps}" + ("" if sig.pattern == "life" else f":duration={sig.seconds}")
    argv = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source]
    if sig.audio:
        argv += ["-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=44100:duration={sig.seconds}"]
    argv += ["-t", f"{sig.seconds}", "-c:v", sig.video_codec, "-pix_fmt", "yuv420p"]
    argv += ["-b:v", sig.bitrate] if sig.bitrate else []
    argv += ["-preset", "ultrafast"] if sig.video_codec in ("libx264", "libx265") else []
    argv += ["-tag:v", "hvc1"] if sig.video_codec == "libx265" else []
    argv += ["-c:a", "aac", "-b:a", "128k"] if sig.audio else []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "signature.mp4"
        subprocess.run([*argv, "-movflags", "+faststart", str(path)], check=True, capture_output=True, timeout=120)
        return path.read_bytes()
