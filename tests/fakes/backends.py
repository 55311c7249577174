"""Test-only backend adapters that follow the real contract: they produce real files (ffmpeg
test patterns, or deliberately broken files) and raise the real error taxonomy."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
from pathlib import Path

from tests.fakes.c2pa_samples import insert_garbage_c2pa_box, sign_mp4
from workers.backends.base import (
    GenerationRequest,
    GenerationResult,
    PermanentError,
    RetryableError,
    VendorPolicyRejection,
)
from workers.backends.capabilities import Capabilities, seconds_range

CALLS: list[str] = []  # which fake ran, in this process (unit tests only)
PRODUCED_SHA256: list[str] = []  # sha256 of each file the C2PA fakes returned, in order


def render_testsrc(path: Path, request: GenerationRequest, *, metadata: dict[str, str] | None = None) -> Path:
    argv = [
        "ffmpeg",
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={request.width}x{request.height}:rate=24:duration={request.duration_s}",
    ]
    for key, value in (metadata or {}).items():
        argv += ["-metadata", f"{key}={value}"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(argv, check=True, timeout=60, capture_output=True)
    return path


def render_with_sound(path: Path, request: GenerationRequest, *, sound_s: float | None = None) -> Path:
    """The test pattern with a 440 Hz tone lasting `sound_s` (default: the whole clip)."""
    seconds = request.duration_s if sound_s is None else sound_s
    argv = [
        "ffmpeg", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={request.width}x{request.height}:rate=24:duration={request.duration_s}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path),
    ]  # fmt: skip
    subprocess.run(argv, check=True, timeout=60, capture_output=True)
    return path


def scramble_audio_packets(src: Path, dest: Path) -> Path:
    """`src` with every byte of its audio packets replaced by noise (the container and the
    picture intact): a sound track no decoder can read."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "packet=pos,size", "-of", "json", src],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    data = bytearray(src.read_bytes())
    rng = random.Random(1)
    for packet in json.loads(out)["packets"]:
        pos, size = int(packet["pos"]), int(packet["size"])
        data[pos : pos + size] = bytes(rng.randrange(256) for _ in range(size))
    dest.write_bytes(bytes(data))
    return dest


class _Fake:
    key = "fake"
    key_env_names: tuple[str, ...] = ()

    @classmethod
    def capabilities(cls, params) -> Capabilities:
        """Like the demo models: any whole second up to 20, the three aspects, seed and negative
        prompt taken (what each fake does with them is its fault to show)."""
        return Capabilities(
            durations=seconds_range(1, 20), aspect_ratios=("16:9", "9:16", "1:1"), seed=True, negative_prompt=True
        )

    def generate(self, request, *, workdir, resume_vendor_job_id, on_submitted):
        CALLS.append(type(self).__name__)
        vendor_id = resume_vendor_job_id or f"{type(self).__name__}-{request.client_reference}"
        if not resume_vendor_job_id:
            on_submitted(vendor_id)
        return self.produce(request, Path(workdir), vendor_id)


class TestPattern(_Fake):
    """A good video whose container names its vendor: the blind rendition must strip that."""

    def produce(self, request, workdir, vendor_id):
        path = render_testsrc(
            workdir / "out.mp4", request, metadata={"title": "made-by-VENDORX", "comment": "model=secret-model-v9"}
        )
        return GenerationResult(path, vendor_id, cost_usd=0.25, vendor_metadata={"fake": True})


class Garbage(_Fake):
    def produce(self, request, workdir, vendor_id):
        path = workdir / "out.mp4"
        path.write_text("this is not a video\n" * 100)
        return GenerationResult(path, vendor_id)


class Truncated(_Fake):
    def produce(self, request, workdir, vendor_id):
        good = render_testsrc(workdir / "good.mp4", request)
        data = good.read_bytes()
        path = workdir / "out.mp4"
        path.write_bytes(data[: len(data) // 3])
        return GenerationResult(path, vendor_id)


class PolicyRejecting(_Fake):
    def produce(self, request, workdir, vendor_id):
        raise VendorPolicyRejection("the vendor's content policy refused this prompt")


class Broken(_Fake):
    def produce(self, request, workdir, vendor_id):
        raise PermanentError("invalid API key for fake vendor", code="auth_failed")


class RateLimited(_Fake):
    def produce(self, request, workdir, vendor_id):
        raise RetryableError("429 Too Many Requests", retry_after=7, code="rate_limited")


class Overloaded(_Fake):
    def produce(self, request, workdir, vendor_id):
        raise RetryableError("503 Service Unavailable", retry_after=7, code="vendor_unavailable")


def _returned(path: Path) -> Path:
    PRODUCED_SHA256.append(hashlib.sha256(path.read_bytes()).hexdigest())
    return path


class C2paSigned(_Fake):
    """A vendor that signs its output with C2PA Content Credentials (a real manifest)."""

    def produce(self, request, workdir, vendor_id):
        plain = render_testsrc(workdir / "plain.mp4", request)
        return GenerationResult(_returned(sign_mp4(plain, workdir / "out.mp4")), vendor_id)


class C2paGarbageBox(_Fake):
    """A playable MP4 carrying a C2PA box whose manifest is junk."""

    def produce(self, request, workdir, vendor_id):
        plain = render_testsrc(workdir / "plain.mp4", request)
        return GenerationResult(_returned(insert_garbage_c2pa_box(plain, workdir / "out.mp4")), vendor_id)


class MatroskaOutput(_Fake):
    """A good video in a Matroska container (C2PA has no binding for it)."""

    def produce(self, request, workdir, vendor_id):
        return GenerationResult(render_testsrc(workdir / "out.mkv", request), vendor_id)


class WithSound(_Fake):
    """A good video with a tone as long as the picture."""

    def produce(self, request, workdir, vendor_id):
        return GenerationResult(render_with_sound(workdir / "out.mp4", request), vendor_id)


class ShortSound(_Fake):
    """A good picture whose sound stops after half a second."""

    def produce(self, request, workdir, vendor_id):
        return GenerationResult(render_with_sound(workdir / "out.mp4", request, sound_s=0.5), vendor_id)


class BrokenSound(_Fake):
    """A good picture with a sound track that cannot be decoded."""

    def produce(self, request, workdir, vendor_id):
        good = render_with_sound(workdir / "good.mp4", request)
        return GenerationResult(scramble_audio_packets(good, workdir / "out.mp4"), vendor_id)
