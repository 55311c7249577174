"""Fake OpenAI Videos API (Sora), as it was until OpenAI shut it down on 2026-09-24.

Source: openai/openai-python, generated from OpenAI's OpenAPI document:
src/openai/types/video_create_params.py (fields: prompt required, input_reference, model,
seconds, size), video_seconds.py ("4" | "8" | "12", strings), video_size.py (720x1280,
1280x720, 1024x1792, 1792x1024), video_model.py (sora-2, sora-2-pro and their snapshots),
video.py (the Video object). sora-2 renders the two 720p sizes only (OpenAI's video guide).
Errors use OpenAI's envelope {"error": {"message", "type", "param", "code"}}; an unknown body
field is refused as "Unrecognized request argument supplied".
"""

from __future__ import annotations

import email.parser
import email.policy
import uuid

from .schema import Field, check
from .vendor_server import FakeVendor, Recorded, Reply, now_s

API_KEY = "sk-test-sora-0123456789"
SECONDS = ("4", "8", "12")
ALL_SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
SIZES = {
    "sora-2": {"720x1280", "1280x720"},
    "sora-2-2025-10-06": {"720x1280", "1280x720"},
    "sora-2-2025-12-08": {"720x1280", "1280x720"},
    "sora-2-pro": set(ALL_SIZES),
    "sora-2-pro-2025-10-06": set(ALL_SIZES),
}
CREATE_FIELDS = {
    "prompt": Field(str, required=True),
    "input_reference": Field((dict, bytes, str)),
    "model": Field(str, enum=tuple(SIZES)),
    "seconds": Field(str, enum=SECONDS),
    "size": Field(str, enum=ALL_SIZES),
}


def _error(
    status: int, message: str, code: str | None, param: str | None = None, type_: str = "invalid_request_error"
) -> Reply:
    return Reply(status, {"error": {"message": message, "type": type_, "param": param, "code": code}})


def form_fields(req: Recorded) -> dict | None:
    """JSON or multipart/form-data body -> dict of fields (None when neither)."""
    content_type = req.header("content-type") or ""
    if content_type.startswith("application/json"):
        body = req.json
        return body if isinstance(body, dict) else None
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + req.body
        )
        fields = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[name] = part.get_content() if part.get_filename() is None else part.get_payload(decode=True)
        return fields
    return None


class FakeSora(FakeVendor):
    name = "sora"
    api_host = "api.openai.com"

    def routes(self):
        return [
            ("POST", r"/v1/videos", self.create),
            ("GET", r"/v1/videos", self.list_videos),
            ("GET", r"/v1/videos/(?P<vid>[\w-]+)", self.retrieve),
            ("GET", r"/v1/videos/(?P<vid>[\w-]+)/content", self.content),
            ("DELETE", r"/v1/videos/(?P<vid>[\w-]+)", self.delete),
            ("POST", r"/v1/videos/(?P<vid>[\w-]+)/remix", self.remix),
        ]

    def authorized(self, req):
        if req.header("authorization") != f"Bearer {API_KEY}":
            return _error(401, "Incorrect API key provided: sk-wr***.", "invalid_api_key")
        return None

    def video(self, job, status="queued", progress=0) -> dict:
        body = job.request
        return {
            "id": job.id,
            "object": "video",
            "model": body.get("model", "sora-2"),
            "status": status,
            "progress": progress,
            "created_at": job.extra.setdefault("created_at", now_s()),
            "completed_at": None,
            "expires_at": None,
            "seconds": body.get("seconds", "4"),
            "size": body.get("size", "720x1280"),
            "prompt": body.get("prompt"),
            "remixed_from_video_id": job.extra.get("remixed_from"),
            "error": None,
        }

    def create(self, req):
        body = form_fields(req)
        if body is None:
            return _error(400, "Unsupported content type", None)
        for problem in check(body, CREATE_FIELDS):
            return self._refusal(problem, body)
        model = body.get("model", "sora-2")
        if body.get("size", "720x1280") not in SIZES[model]:
            return _error(400, f"Invalid value for 'size' with {model}.", "invalid_value", "size")
        if "[[policy]]" in body["prompt"]:
            return _error(400, "Your request was rejected by the safety system.", "moderation_blocked")
        job = self.new_job(body["prompt"], body, job_id="video_" + uuid.uuid4().hex)
        return Reply(200, self.video(job))

    def list_videos(self, req):
        """GET /v1/videos?after&limit&order (openai-python src/openai/resources/videos.py `list`,
        a cursor page): {"object": "list", "data": [Video...], "first_id", "last_id", "has_more"};
        newest first with order=desc. Listing does not move a job along."""
        order = req.query.get("order", ["desc"])[0]
        limit = int(req.query.get("limit", ["20"])[0])
        with self.lock:
            jobs = sorted(self.jobs.values(), key=lambda j: j.extra.get("seq", 0), reverse=order == "desc")
            videos = [self.video(job, "completed" if job.extra.get("completed") else "queued") for job in jobs]
        page = videos[:limit]
        return Reply(
            200,
            {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
                "has_more": len(videos) > limit,
            },
        )

    def _refusal(self, problem, body) -> Reply:
        name = problem.field
        if problem.code == "unknown":
            return _error(400, f"Unrecognized request argument supplied: {name}", None)
        if problem.code == "missing":
            return _error(400, f"Missing required parameter: '{name}'.", "missing_required_parameter", name)
        if name == "seconds" and problem.code == "type":
            kind = "integer" if isinstance(body[name], int) else type(body[name]).__name__
            message = f"Invalid type for 'seconds': expected one of '4', '8', or '12', but got an {kind} instead."
            return _error(400, message, "invalid_type", name)
        return _error(400, f"Invalid value for '{name}': {body[name]!r}.", "invalid_value", name)

    def retrieve(self, req, vid):
        job = self.jobs.get(vid)
        if job is None:
            return _error(404, f"Video with id '{vid}' not found.", None)
        state = self.advance(job)
        video = {"queued": lambda: self.video(job), "running": lambda: self.video(job, "in_progress", 50)}.get(
            state, lambda: None
        )()
        if video is None:
            video = self.video(job, "completed" if state == "done" else "failed", 100)
            if state == "done":
                job.extra["completed"] = True
                video.update(completed_at=now_s(), expires_at=now_s() + 3600)
            elif state == "policy":
                video["error"] = {
                    "code": "moderation_blocked",
                    "message": "The generated video was blocked by our moderation system.",
                }
            else:
                video["error"] = {"code": "internal_error", "message": "Video generation failed."}
        return Reply(200, video, {"openai-poll-after-ms": "10"})

    def content(self, req, vid):
        job = self.jobs.get(vid)
        if job is None or not job.extra.get("completed"):
            return _error(404, "Video is not ready.", None)
        if req.query.get("variant", ["video"])[0] != "video":
            return Reply(200, raw=b"RIFF....WEBPVP8 ", headers={"Content-Type": "image/webp"})
        if "redirect" in job.flags and "redirect-internal" not in job.flags:
            return Reply(302, headers={"Location": f"/__media__/{job.id}.mp4"})
        return self.media_reply(job)

    def delete(self, req, vid):
        if self.jobs.pop(vid, None) is None:
            return _error(404, f"Video with id '{vid}' not found.", None)
        return Reply(200, {"id": vid, "deleted": True, "object": "video.deleted"})

    def remix(self, req, vid):
        source = self.jobs.get(vid)
        if source is None:
            return _error(404, f"Video with id '{vid}' not found.", None)
        body = {**source.request, "prompt": (req.json or {}).get("prompt", "")}
        job = self.new_job(body["prompt"], body, job_id="video_" + uuid.uuid4().hex)
        job.extra["remixed_from"] = vid
        return Reply(200, self.video(job))
