"""Fake Luma Agents API (https://agents.lumalabs.ai/v1), the surface that serves Ray 3.2.

Sources (read 2026-11-30):
- lumalabs/luma-agents-python at commit 38837df163df7d69cdb952aeea988e890dd57675, generated
  from Luma's OpenAPI document: src/luma_agents/types/generation_create_params.py (top-level
  fields: prompt required; aspect_ratio (12 values), image_ref, model (uni-1 | uni-1-max |
  ray-3.2), output_format, source, style, type, user_id, video, web_search),
  video_options_param.py (duration, edit, end_frame, exr_export, hdr, loop, resolution,
  source_position, start_frame), video_duration.py, video_resolution.py, generation.py
  (id, created_at, model, state queued | processing | completed | failed, type, failure_code,
  failure_reason, output), generation_output.py ({type, url}, presigned, 1 h expiry),
  generation_failure_code.py.
- https://docs.agents.lumalabs.ai/guides/model/ (video.keyframes / video.keyframe_indexes,
  newer than that SDK commit; ray-3.2 serves video, video_edit, video_reframe only) and
  https://docs.agents.lumalabs.ai/guides/videos/generation/.
- https://docs.agents.lumalabs.ai/guides/error-handling/: 201 on create; 400 invalid
  parameters; 401 bad key; 422 "parameter combination rejected"; every error body carries a
  `detail` text. Moderation is reported only when polling (failure_code content_moderated),
  so a [[policy]] prompt is accepted and its generation fails that way on the first poll.
- The model-specific rules the fake enforces with 422 (the SDK says "the server validates the
  final model-specific set"): ray-3.2 video takes the aspect ratios 16:9, 9:16, 1:1, 4:3, 3:4,
  21:9 (as every host of ray-3.2 publishes them: replicate.com/luma/ray-3.2,
  docs.gmicloud.ai luma-ray-3-2-generate); loop "not supported with duration=10s or hdr=true"
  and exr_export "requires hdr=true" (SDK docstrings); hdr needs 720p or 1080p (Luma's models
  guide: "HDR output (video.hdr, 720p/1080p)"); 10 s is text-to-video without HDR, and loop
  takes no end_frame (the guide's constraint matrix as reproduced in a third-party copy
  "Sourced from https://docs.agents.lumalabs.ai/guides/videos/generation/ (fetched
  2026-06-11)", and replicate.com/luma/ray-3.2: "10s clips support text-to-video only").

Output files: Luma does not document the host of its presigned URLs, so this fake serves them
from `presigned.luma-agents.test` (a reserved test name, not a claim about Luma) and the test
environment names it in SCREENTEST_LUMA_AGENTS_DOWNLOAD_HOSTS, as an operator must.
"""

from __future__ import annotations

from .schema import Field, check
from .vendor_server import FakeVendor, Reply

API_KEY = "luma-api-test-0123456789"
PREFIX = "/v1"
MODELS = ("uni-1", "uni-1-max", "ray-3.2")
TYPES = ("image", "image_edit", "video", "video_edit", "video_reframe")
SDK_ASPECTS = ("3:1", "2:1", "21:9", "16:9", "4:3", "3:2", "1:1", "3:4", "2:3", "9:16", "1:2", "1:3")
RAY_VIDEO_ASPECTS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
RAY_TYPES = ("video", "video_edit", "video_reframe")
CREATE_FIELDS = {
    "prompt": Field(str, required=True),
    "aspect_ratio": Field(str, enum=SDK_ASPECTS),
    "image_ref": Field(list),
    "model": Field(str, enum=MODELS),
    "output_format": Field(str, enum=("png", "jpeg")),
    "source": Field(dict),
    "style": Field(str, enum=("auto", "manga")),
    "type": Field(str, enum=TYPES),
    "user_id": Field(str),
    "video": Field(dict),
    "web_search": Field(bool),
}
VIDEO_FIELDS = {
    "duration": Field(str, enum=("5s", "10s")),
    "edit": Field(dict),
    "end_frame": Field(dict),
    "exr_export": Field(bool),
    "hdr": Field(bool),
    "keyframes": Field(list),
    "keyframe_indexes": Field(list),
    "loop": Field(bool),
    "resolution": Field(str, enum=("540p", "720p", "1080p")),
    "source_position": Field(dict),
    "start_frame": Field(dict),
}


def combination_problems(body: dict) -> list[str]:
    """The model-specific rules the server applies after the schema (answered with 422)."""
    model = body.get("model") or "uni-1"  # the documented default model
    kind = body.get("type") or "image"
    video = body.get("video") or {}
    problems = []
    if (model == "ray-3.2") != (kind in RAY_TYPES):
        problems.append(f"model {model!r} does not support type {kind!r}")
    if kind == "video" and body.get("aspect_ratio") not in (None, *RAY_VIDEO_ASPECTS):
        problems.append(f"aspect_ratio {body['aspect_ratio']!r} is not supported by ray-3.2")
    if video.get("loop") and (video.get("duration") == "10s" or video.get("hdr") or video.get("end_frame")):
        problems.append("loop is not supported with duration=10s, hdr=true or an end_frame")
    if video.get("duration") == "10s" and (video.get("hdr") or video.get("start_frame") or video.get("end_frame")):
        problems.append("duration=10s is text-to-video in standard dynamic range only")
    if video.get("exr_export") and not video.get("hdr"):
        problems.append("exr_export requires hdr=true")
    if video.get("hdr") and video.get("resolution") not in ("720p", "1080p"):
        problems.append("hdr requires resolution 720p or 1080p")
    return problems


class FakeLumaAgents(FakeVendor):
    name = "luma-agents"
    api_host = "agents.lumalabs.ai"
    media_host = "presigned.luma-agents.test"
    # (failure_code, failure_reason) of a job flagged [[fail]]; tests set other documented codes.
    failure = ("invalid_request", "The request could not be processed")

    def operator_env(self) -> dict[str, str]:
        """What an operator must set before the adapter runs (Luma documents no output host)."""
        return {"SCREENTEST_LUMA_AGENTS_DOWNLOAD_HOSTS": self.media_host}

    def routes(self):
        return [
            ("POST", PREFIX + r"/generations", self.create),
            ("GET", PREFIX + r"/generations/(?P<gid>[\w-]+)", self.retrieve),
        ]

    def authorized(self, req):
        if req.header("authorization") != f"Bearer {API_KEY}":
            return Reply(401, {"detail": "Invalid or missing API key"})
        return None

    def generation(self, job, state, **extra):
        return {
            "id": job.id,
            "created_at": "2026-11-30T12:00:00Z",
            "model": job.request.get("model") or "uni-1",
            "state": state,
            "type": job.request.get("type") or "image",
            "failure_code": None,
            "failure_reason": None,
            "output": None,
            **extra,
        }

    def create(self, req):
        body = req.json if isinstance(req.json, dict) else None
        if body is None:
            return Reply(400, {"detail": "request body must be a JSON object"})
        problems = check(body, CREATE_FIELDS)
        if isinstance(body.get("video"), dict):
            problems += check(body["video"], VIDEO_FIELDS, prefix="video.")
        if problems:
            return Reply(400, {"detail": "; ".join(p.message for p in problems)})
        combination = combination_problems(body)
        if combination:
            return Reply(422, {"detail": "; ".join(combination)})
        job = self.new_job(body["prompt"], body, model=body.get("model") or "uni-1")
        if "policy" in job.flags:  # moderation is reported when polling, never at create
            job.flags.add("policy-async")
        return Reply(201, self.generation(job, "queued"))

    def retrieve(self, req, gid):
        job = self.jobs.get(gid)
        if job is None:
            return Reply(404, {"detail": "Generation not found"})
        state = self.advance(job)
        if state == "queued":
            return Reply(200, self.generation(job, "queued"))
        if state == "running":
            return Reply(200, self.generation(job, "processing"))
        if state == "done":
            return Reply(200, self.generation(job, "completed", output=[{"type": "video", "url": self.media_url(job)}]))
        code, reason = {
            "policy": ("content_moderated", "Prompt violated content guidelines"),
            "bad-output": ("generation_failed", "Internal model error during generation"),
        }.get(state, self.failure)
        return Reply(200, self.generation(job, "failed", failure_code=code, failure_reason=reason))
