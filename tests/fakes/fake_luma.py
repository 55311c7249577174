"""Fake Luma Dream Machine (the `dream-machine/v1` generations API).

Source: lumalabs/lumaai-python, generated from Luma's OpenAPI document:
src/lumaai/types/generations/video_create_params.py (model required: ray-1-6 | ray-2 |
ray-flash-2; aspect_ratio, duration "5s" | "9s", resolution 540p | 720p | 1080p | 4k, loop,
keyframes, concepts, callback_url, generation_type "video", prompt) and
src/lumaai/types/generation.py (state queued | dreaming | completed | failed, assets.video),
src/lumaai/types/generation_list_response.py (GET /generations?limit&offset, newest first:
{"generations": [Generation...], "count", "has_more", "limit", "offset"}).
Output files are served from storage.cdn-luma.com (https://docs.lumalabs.ai/docs/video-generation).
A body outside the schema gets 422 with a FastAPI-style {"detail": [{"loc", "msg", "type"}]}.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .schema import Field, check
from .vendor_server import FakeVendor, Reply

API_KEY = "luma-test-0123456789"
MODELS = ("ray-2", "ray-flash-2", "ray-1-6")
RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")
PREFIX = "/dream-machine/v1"
CREATE_FIELDS = {
    "model": Field(str, required=True, enum=MODELS),
    "prompt": Field(str),
    "aspect_ratio": Field(str, enum=RATIOS),
    "duration": Field(str, enum=("5s", "9s")),
    "resolution": Field(str, enum=("540p", "720p", "1080p", "4k")),
    "loop": Field(bool),
    "keyframes": Field(dict),
    "concepts": Field(list),
    "callback_url": Field(str),
    "generation_type": Field(str, enum=("video",)),
}


class FakeLuma(FakeVendor):
    name = "luma"
    api_host = "api.lumalabs.ai"
    media_host = "storage.cdn-luma.com"

    def routes(self):
        return [
            ("POST", PREFIX + r"/generations(?:/video)?", self.create),
            ("GET", PREFIX + r"/generations", self.list_generations),
            ("GET", PREFIX + r"/generations/(?P<gid>[\w-]+)", self.retrieve),
            ("DELETE", PREFIX + r"/generations/(?P<gid>[\w-]+)", self.delete),
        ]

    def authorized(self, req):
        if req.header("authorization") != f"Bearer {API_KEY}":
            return Reply(401, {"detail": "Invalid API key"})
        return None

    def generation(self, job, state, **extra):
        return {
            "id": job.id,
            "generation_type": "video",
            "state": state,
            "failure_reason": None,
            "created_at": job.extra.get("created_at", "2026-11-21T12:00:00Z"),
            "model": job.request.get("model"),
            "assets": {"video": None, "image": None, "progress_video": None},
            "request": job.request,
            **extra,
        }

    def create(self, req):
        body = req.json if isinstance(req.json, dict) else {}
        problems = check(body, CREATE_FIELDS)
        if problems:
            return Reply(
                422, {"detail": [{"loc": ["body", p.field], "msg": p.message, "type": p.code} for p in problems]}
            )
        body.setdefault("prompt", "")
        if "[[policy]]" in body["prompt"]:
            return Reply(400, {"detail": "Prompt not allowed because it violates our content moderation policy"})
        job = self.new_job(body["prompt"], body, model=body["model"])
        job.extra["created_at"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        job.extra["seq"] = len(self.jobs)
        return Reply(201, self.generation(job, "queued"))

    def list_generations(self, req):
        """Newest first; listing does not move a job along (the states shown are as created)."""
        limit = int(req.query.get("limit", ["10"])[0])
        offset = int(req.query.get("offset", ["0"])[0])
        with self.lock:
            jobs = sorted(self.jobs.values(), key=lambda j: j.extra.get("seq", 0), reverse=True)
            page = [self.generation(job, "queued") for job in jobs[offset : offset + limit]]
        return Reply(
            200,
            {
                "generations": page,
                "count": len(page),
                "has_more": offset + limit < len(jobs),
                "limit": limit,
                "offset": offset,
            },
        )

    def retrieve(self, req, gid):
        job = self.jobs.get(gid)
        if job is None:
            return Reply(404, {"detail": "Generation not found"})
        state = self.advance(job)
        if state == "queued":
            return Reply(200, self.generation(job, "queued"))
        if state == "running":
            return Reply(200, self.generation(job, "dreaming"))
        if state == "done":
            return Reply(
                200,
                self.generation(
                    job,
                    "completed",
                    assets={
                        "video": self.media_url(job),
                        "image": f"{self.media_origin}/__media__/{job.id}.jpg",
                        "progress_video": None,
                    },
                ),
            )
        reason = (
            "400: prompt not allowed because advanced moderation failed"
            if state == "policy"
            else "Generation failed due to an internal error"
        )
        return Reply(200, self.generation(job, "failed", failure_reason=reason))

    def delete(self, req, gid):
        return Reply(204) if self.jobs.pop(gid, None) else Reply(404, {"detail": "Generation not found"})
