"""Fake Luma Dream Machine (legacy generations API), per shared/reference/vendor-apis.md 3a."""

from __future__ import annotations

from .vendor_server import FakeVendor, Reply

API_KEY = "luma-test-0123456789"
MODELS = {"ray-2", "ray-flash-2", "ray-1-6"}
RATIOS = {"1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"}
PREFIX = "/dream-machine/v1"


class FakeLuma(FakeVendor):
    name = "luma"

    def routes(self):
        return [
            ("POST", PREFIX + r"/generations(?:/video)?", self.create),
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
            "created_at": "2026-11-21T12:00:00Z",
            "model": job.request.get("model"),
            "assets": {"video": None, "image": None, "progress_video": None},
            "request": job.request,
            **extra,
        }

    def create(self, req):
        body = req.json if isinstance(req.json, dict) else {}
        problems = []
        if body.get("model") not in MODELS:
            problems.append("model")
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            problems.append("prompt")
        if body.get("aspect_ratio", "16:9") not in RATIOS:
            problems.append("aspect_ratio")
        if body.get("duration", "5s") not in ("5s", "9s"):
            problems.append("duration")
        if body.get("resolution", "720p") not in ("540p", "720p", "1080p", "4k"):
            problems.append("resolution")
        if problems:
            return Reply(422, {"detail": [{"loc": ["body", p], "msg": "invalid value"} for p in problems]})
        if "[[policy]]" in body["prompt"]:
            return Reply(400, {"detail": "Prompt not allowed because it violates our content moderation policy"})
        job = self.new_job(body["prompt"], body)
        return Reply(201, self.generation(job, "queued"))

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
                        "image": f"{self.url}/__media__/{job.id}.jpg",
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
